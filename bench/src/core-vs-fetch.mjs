// Per-call cost of the core against the physical floor: the same PATCH sent with Node's
// global fetch (undici, keep-alive), sequentially and at concurrency 32, interleaved.
import { FetchHttpClient } from "@effect/platform"
import { TrackstarClient } from "@trackstar-mcp/core"
import { Layer, ManagedRuntime, Redacted } from "effect"
import {
  API_KEY,
  bodyFor,
  forkUnlimitedEmulator,
  interleave,
  isMain,
  makeConnections,
  ms,
  QUICK,
  roundRatios,
  table,
  verdictTable,
  x2
} from "./lib.mjs"

/** Enough tokens that default pacing (50 writes/s per token) never delays a call here. */
const TOKENS = 256

/** The core as a service runs it: the documented layer, default settings, one runtime. */
export const makeCore = async (url, apiKey, options = {}) => {
  const runtime = ManagedRuntime.make(
    TrackstarClient.layer({ apiKey: Redacted.make(apiKey), baseUrl: url, ...options }).pipe(
      Layer.provide(FetchHttpClient.layer)
    )
  )
  const client = await runtime.runPromise(TrackstarClient.TrackstarClient)
  return {
    runtime,
    client,
    update: (body, token) =>
      runtime.runPromise(client.updateConnection(body, { accessToken: token }))
  }
}

/** The floor: one fetch, the same headers and body, the JSON answer read. */
export const makeFetch = (url, apiKey) => {
  const endpoint = `${url}/connections`
  return async (body, token) => {
    const response = await fetch(endpoint, {
      method: "PATCH",
      headers: {
        accept: "application/json",
        "content-type": "application/json",
        "x-trackstar-api-key": apiKey,
        "x-trackstar-access-token": token
      },
      body: JSON.stringify(body)
    })
    const answer = await response.json()
    if (!response.ok) throw new Error(`HTTP ${response.status}`)
    return answer
  }
}

export const run = async () => {
  const connections = makeConnections(TOKENS)
  const emulator = await forkUnlimitedEmulator(connections)
  const core = await makeCore(emulator.url, API_KEY)
  const plain = makeFetch(emulator.url, API_KEY)
  const redacted = connections.map((c) => Redacted.make(c.accessToken))
  const variants = {
    fetch: (i) => plain(bodyFor(i), connections[i % TOKENS].accessToken),
    core: (i) => core.update(bodyFor(i), redacted[i % TOKENS])
  }
  const rows = []
  const verdicts = []
  const settings = QUICK
    ? [
        { concurrency: 1, rounds: 2, perRound: 100, warmup: 100 },
        { concurrency: 32, rounds: 2, perRound: 300, warmup: 300 }
      ]
    : [
        { concurrency: 1, rounds: 16, perRound: 400, warmup: 1000 },
        { concurrency: 32, rounds: 12, perRound: 1000, warmup: 1000 }
      ]
  try {
    for (const s of settings) {
      const r = await interleave({ variants, ...s })
      const ratio = r.core.p50 / r.fetch.p50
      const rounds = roundRatios(r.core, r.fetch)
      for (const name of ["fetch", "core"]) {
        const v = r[name]
        rows.push([
          `${name === "fetch" ? "plain fetch" : "core `updateConnection`"}, concurrency ${s.concurrency}`,
          v.n,
          ms(v.p50),
          ms(v.p99),
          Math.round(v.throughput),
          name === "core" ? `${x2(ratio)} (rounds ${x2(rounds.min)}-${x2(rounds.max)})` : "1.00x",
          name === "core" ? ms(v.p50 - r.fetch.p50) : "",
          Math.round(v.cpuPerCall),
          name === "core" ? x2(v.cpuPerCall / r.fetch.cpuPerCall) : "1.00x"
        ])
      }
      verdicts.push({
        target: `core p50 within 1.15x of plain fetch, concurrency ${s.concurrency}`,
        figure: `${x2(ratio)} (${ms(r.core.p50)} vs ${ms(r.fetch.p50)} ms)`,
        met: ratio <= 1.15
      })
    }
  } finally {
    await core.runtime.dispose()
    await emulator.stop()
  }
  const markdown = [
    table(
      [
        "variant",
        "calls",
        "p50 ms",
        "p99 ms",
        "calls/s",
        "p50 vs fetch",
        "p50 added ms",
        "client CPU µs/call",
        "CPU vs fetch"
      ],
      rows
    ),
    "",
    `Emulator in its own process, rate limiter off, ${TOKENS} connections used round-robin, so the core's default pacing (50 writes/s per token) never delays a call; the core runs with its defaults (retries, timeouts, pacing, spans) as a service would. "rounds" is the range of the per-round p50 ratios. Client CPU is this process's user+system time per call (the emulator's is not counted): the figure least moved by other load on the machine.`,
    "",
    verdictTable(verdicts)
  ].join("\n")
  return { title: "Core per call vs plain fetch", section: "core", markdown, verdicts }
}

if (isMain(import.meta.url)) console.log((await run()).markdown)
