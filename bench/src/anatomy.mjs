// Where the core's per-call cost goes (not part of the default run: `node bench/src/run.mjs
// anatomy`): plain fetch, then @effect/platform's FetchHttpClient alone, then the same request
// with the layers the core puts around it (timeouts, retry schedule, spans) added one at a time,
// then the core itself with and without pacing. Sequential, interleaved, against the emulator.
import { FetchHttpClient, HttpClient, HttpClientRequest } from "@effect/platform"
import { Duration, Effect, ManagedRuntime, Redacted, Schedule } from "effect"
import { makeCore, makeFetch } from "./core-vs-fetch.mjs"
import {
  API_KEY,
  bodyFor,
  forkUnlimitedEmulator,
  interleave,
  isMain,
  makeConnections,
  ms,
  QUICK,
  table,
  x2
} from "./lib.mjs"

const TOKENS = 256

export const run = async () => {
  const connections = makeConnections(TOKENS)
  const emulator = await forkUnlimitedEmulator(connections)
  const plain = makeFetch(emulator.url, API_KEY)
  const core = await makeCore(emulator.url, API_KEY)
  const unpaced = await makeCore(emulator.url, API_KEY, { writesPerSecond: 0 })
  const runtime = ManagedRuntime.make(FetchHttpClient.layer)
  const http = await runtime.runPromise(HttpClient.HttpClient)
  const redacted = connections.map((c) => Redacted.make(c.accessToken))
  const request = (i) =>
    http
      .execute(
        HttpClientRequest.patch(`${emulator.url}/connections`).pipe(
          HttpClientRequest.acceptJson,
          HttpClientRequest.setHeader("x-trackstar-api-key", API_KEY),
          HttpClientRequest.setHeader(
            "x-trackstar-access-token",
            connections[i % TOKENS].accessToken
          ),
          HttpClientRequest.bodyUnsafeJson(bodyFor(i))
        )
      )
      .pipe(Effect.flatMap((response) => response.json))
  const timeout = (effect) =>
    effect.pipe(Effect.timeoutFail({ duration: Duration.seconds(10), onTimeout: () => "timeout" }))
  const retry = (effect) => effect.pipe(Effect.retry(Schedule.recurs(4)))
  const span = (name) => (effect) => effect.pipe(Effect.withSpan(name))
  const variants = {
    "plain fetch": (i) => plain(bodyFor(i), connections[i % TOKENS].accessToken),
    "FetchHttpClient, runPromise": (i) => runtime.runPromise(request(i)),
    "+ one timeout": (i) => runtime.runPromise(timeout(request(i))),
    "+ two timeouts": (i) => runtime.runPromise(timeout(timeout(request(i)))),
    "+ retry schedule": (i) => runtime.runPromise(retry(request(i))),
    "+ two spans": (i) => runtime.runPromise(span("call")(span("attempt")(request(i)))),
    "+ all four": (i) =>
      runtime.runPromise(span("call")(timeout(retry(span("attempt")(timeout(request(i))))))),
    "core, pacing off": (i) => unpaced.update(bodyFor(i), redacted[i % TOKENS]),
    "core (defaults)": (i) => core.update(bodyFor(i), redacted[i % TOKENS])
  }
  let r
  try {
    r = await interleave({
      variants,
      ...(QUICK
        ? { rounds: 2, perRound: 50, warmup: 50 }
        : { rounds: 10, perRound: 300, warmup: 500 })
    })
  } finally {
    await Promise.all([core.runtime.dispose(), unpaced.runtime.dispose(), runtime.dispose()])
    await emulator.stop()
  }
  const floor = r["plain fetch"]
  const markdown = [
    table(
      ["variant", "calls", "p50 ms", "p99 ms", "p50 vs fetch", "CPU µs/call", "CPU vs fetch"],
      Object.entries(r).map(([name, v]) => [
        name,
        v.n,
        ms(v.p50),
        ms(v.p99),
        x2(v.p50 / floor.p50),
        Math.round(v.cpuPerCall),
        x2(v.cpuPerCall / floor.cpuPerCall)
      ])
    ),
    "",
    `Sequential calls, the emulator in its own process with the limiter off, ${TOKENS} tokens round-robin. The "+" rows add to "FetchHttpClient, runPromise" what the core wraps around each request: \`Effect.timeoutFail\` (the core has one per attempt and one per call), \`Effect.retry\` with a schedule, \`Effect.withSpan\` (one per call, one per attempt; no tracer installed, as by default).`
  ].join("\n")
  return { title: "Anatomy of a core call", section: "anatomy", markdown, verdicts: [] }
}

if (isMain(import.meta.url)) console.log((await run()).markdown)
