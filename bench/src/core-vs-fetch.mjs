// Per-call cost of the core against the physical floor: the same PATCH sent with Node's
// global fetch (undici, keep-alive), sequentially and at concurrency 32, interleaved. Also
// shown: the same PATCH over bare node:http (what the core's NodeHttpClient is built on), and
// the core over @effect/platform's FetchHttpClient instead of its NodeHttpClient.
import http from "node:http"
import { FetchHttpClient } from "@effect/platform"
import { NodeHttpClient, TrackstarClient } from "@trackstar-mcp/core"
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

/**
 * The core as a service runs it: the documented layers (the Node HTTP client unless another
 * is given), default settings, one runtime.
 */
export const makeCore = async (url, apiKey, options = {}, httpLayer = NodeHttpClient.layer()) => {
  const runtime = ManagedRuntime.make(
    TrackstarClient.layer({ apiKey: Redacted.make(apiKey), baseUrl: url, ...options }).pipe(
      Layer.provide(httpLayer)
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

/** The same request over bare node:http with a keep-alive agent: the floor under NodeHttpClient. */
export const makeNodeHttp = (url, apiKey) => {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 })
  const endpoint = new URL("connections", `${url}/`)
  const send = (body, token) =>
    new Promise((resolve, reject) => {
      const payload = JSON.stringify(body)
      const request = http.request(
        endpoint,
        {
          method: "PATCH",
          agent,
          headers: {
            accept: "application/json",
            "content-type": "application/json",
            "content-length": Buffer.byteLength(payload),
            "x-trackstar-api-key": apiKey,
            "x-trackstar-access-token": token
          }
        },
        (response) => {
          const chunks = []
          response.on("data", (c) => chunks.push(c))
          response.on("error", reject)
          response.on("end", () => {
            if (response.statusCode !== 200) reject(new Error(`HTTP ${response.statusCode}`))
            else resolve(JSON.parse(Buffer.concat(chunks).toString()))
          })
        }
      )
      request.on("error", reject)
      request.end(payload)
    })
  return { send, close: () => agent.destroy() }
}

const LABELS = {
  fetch: "plain fetch",
  nodeHttp: "plain node:http",
  core: "core `updateConnection`",
  coreFetch: "core over `FetchHttpClient`"
}

export const run = async () => {
  const connections = makeConnections(TOKENS)
  const emulator = await forkUnlimitedEmulator(connections)
  const core = await makeCore(emulator.url, API_KEY)
  const coreFetch = await makeCore(emulator.url, API_KEY, {}, FetchHttpClient.layer)
  const plain = makeFetch(emulator.url, API_KEY)
  const nodeHttp = makeNodeHttp(emulator.url, API_KEY)
  const redacted = connections.map((c) => Redacted.make(c.accessToken))
  const variants = {
    fetch: (i) => plain(bodyFor(i), connections[i % TOKENS].accessToken),
    nodeHttp: (i) => nodeHttp.send(bodyFor(i), connections[i % TOKENS].accessToken),
    core: (i) => core.update(bodyFor(i), redacted[i % TOKENS]),
    coreFetch: (i) => coreFetch.update(bodyFor(i), redacted[i % TOKENS])
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
      for (const name of Object.keys(variants)) {
        const v = r[name]
        const rounds = roundRatios(v, r.fetch)
        rows.push([
          `${LABELS[name]}, concurrency ${s.concurrency}`,
          v.n,
          ms(v.p50),
          ms(v.p99),
          Math.round(v.throughput),
          name === "fetch"
            ? "1.00x"
            : `${x2(v.p50 / r.fetch.p50)} (rounds ${x2(rounds.min)}-${x2(rounds.max)})`,
          name === "fetch" ? "" : ms(v.p50 - r.fetch.p50),
          x2(v.p50 / r.nodeHttp.p50),
          Math.round(v.cpuPerCall),
          x2(v.cpuPerCall / r.fetch.cpuPerCall)
        ])
      }
      verdicts.push({
        target: `core p50 within 1.15x of plain fetch, concurrency ${s.concurrency}`,
        figure: `${x2(ratio)} (${ms(r.core.p50)} vs ${ms(r.fetch.p50)} ms)`,
        met: ratio <= 1.15
      })
    }
  } finally {
    await Promise.all([core.runtime.dispose(), coreFetch.runtime.dispose()])
    nodeHttp.close()
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
        "p50 vs node:http",
        "client CPU µs/call",
        "CPU vs fetch"
      ],
      rows
    ),
    "",
    `Emulator in its own process, rate limiter off, ${TOKENS} connections used round-robin, so the core's default pacing (50 writes/s per token) never delays a call; the core runs with its defaults (retries, timeouts, pacing; no tracer installed, so no spans) as a service would, over its \`NodeHttpClient\` (the layer the README and the MCP server use) and, for comparison, over \`FetchHttpClient\`. "plain node:http" is the same request over bare \`node:http\` with a keep-alive agent, what \`NodeHttpClient\` is built on: the core's own cost is its distance from that row. "rounds" is the range of the per-round p50 ratios. Client CPU is this process's user+system time per call (the emulator's is not counted): the figure least moved by other load on the machine.`,
    "",
    verdictTable(verdicts)
  ].join("\n")
  return { title: "Core per call vs plain fetch", section: "core", markdown, verdicts }
}

if (isMain(import.meta.url)) console.log((await run()).markdown)
