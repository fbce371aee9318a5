// Where the core's per-call cost goes (not part of the default run: `node bench/src/run.mjs
// anatomy`): the same PATCH over plain fetch and plain node:http, over the core's NodeHttpClient
// alone (with and without the platform's span), then the core with pacing off, with its
// defaults, with a tracer installed, and over FetchHttpClient. Sequential, interleaved, against
// the emulator.
import { FetchHttpClient, HttpClient, HttpClientRequest } from "@effect/platform"
import { NodeHttpClient } from "@trackstar-mcp/core"
import { Effect, ManagedRuntime, Redacted, Tracer } from "effect"
import { makeCore, makeFetch, makeNodeHttp } from "./core-vs-fetch.mjs"
import {
  API_KEY,
  bodyFor,
  forkUnlimitedEmulator,
  interleave,
  isMain,
  makeConnections,
  ms,
  sampling,
  table,
  x2
} from "./lib.mjs"

const TOKENS = 256

/** A tracer that keeps nothing, standing in for an exporter: what spans cost when someone listens. */
const listeningTracer = Tracer.make({
  span: (name, parent, context, links, startTime, kind) => ({
    _tag: "Span",
    name,
    spanId: "s",
    traceId: "t",
    parent,
    context,
    status: { _tag: "Started", startTime },
    attributes: new Map(),
    links,
    sampled: true,
    kind,
    end: () => {},
    attribute: () => {},
    event: () => {},
    addLinks: () => {}
  }),
  context: (f) => f()
})

export const run = async () => {
  const connections = makeConnections(TOKENS)
  const emulator = await forkUnlimitedEmulator(connections)
  const plain = makeFetch(emulator.url, API_KEY)
  const nodeHttp = makeNodeHttp(emulator.url, API_KEY)
  const core = await makeCore(emulator.url, API_KEY)
  const unpaced = await makeCore(emulator.url, API_KEY, { writesPerSecond: 0 })
  const coreFetch = await makeCore(emulator.url, API_KEY, {}, FetchHttpClient.layer)
  const runtime = ManagedRuntime.make(NodeHttpClient.layer())
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
  const variants = {
    "plain fetch": (i) => plain(bodyFor(i), connections[i % TOKENS].accessToken),
    "plain node:http": (i) => nodeHttp.send(bodyFor(i), connections[i % TOKENS].accessToken),
    "NodeHttpClient, platform span on (its default)": (i) => runtime.runPromise(request(i)),
    "NodeHttpClient, platform span off": (i) =>
      runtime.runPromise(
        Effect.locally(request(i), HttpClient.currentTracerDisabledWhen, () => true)
      ),
    "core, pacing off": (i) => unpaced.update(bodyFor(i), redacted[i % TOKENS]),
    "core (defaults)": (i) => core.update(bodyFor(i), redacted[i % TOKENS]),
    "core, a tracer installed (spans recorded)": (i) =>
      core.runtime.runPromise(
        core.client
          .updateConnection(bodyFor(i), { accessToken: redacted[i % TOKENS] })
          .pipe(Effect.withTracer(listeningTracer))
      ),
    "core over FetchHttpClient": (i) => coreFetch.update(bodyFor(i), redacted[i % TOKENS])
  }
  let r
  try {
    r = await interleave({
      variants,
      ...sampling({ rounds: 10, perRound: 300, warmup: 500 })
    })
  } finally {
    await Promise.all([
      core.runtime.dispose(),
      unpaced.runtime.dispose(),
      coreFetch.runtime.dispose(),
      runtime.dispose()
    ])
    nodeHttp.close()
    await emulator.stop()
  }
  const fetchRow = r["plain fetch"]
  const nodeRow = r["plain node:http"]
  const markdown = [
    table(
      [
        "variant",
        "calls",
        "p50 ms",
        "p99 ms",
        "p50 vs fetch",
        "p50 vs node:http",
        "CPU µs/call",
        "CPU vs node:http"
      ],
      Object.entries(r).map(([name, v]) => [
        name,
        v.n,
        ms(v.p50),
        ms(v.p99),
        x2(v.p50 / fetchRow.p50),
        x2(v.p50 / nodeRow.p50),
        Math.round(v.cpuPerCall),
        x2(v.cpuPerCall / nodeRow.cpuPerCall)
      ])
    ),
    "",
    `Sequential calls, the emulator in its own process with the limiter off, ${TOKENS} tokens round-robin. "NodeHttpClient" rows send the request through the core's HTTP layer alone, under \`runPromise\`; the platform starts an \`http.client\` span for every request unless told not to, which the core does (its attempt span is the client span). "a tracer installed" runs the core under a tracer that records nothing, as an exporter's would, so its spans are started; with no tracer installed the core starts none.`
  ].join("\n")
  return { title: "Anatomy of a core call", section: "anatomy", markdown, verdicts: [] }
}

if (isMain(import.meta.url)) console.log((await run()).markdown)
