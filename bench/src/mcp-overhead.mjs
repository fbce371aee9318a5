// What a tool call adds: our server over stdio and over Streamable HTTP against a direct core
// call in-process, and the baseline server (bench/baseline/server.mjs) over stdio against its
// own plain fetch. Sequential calls, all variants interleaved in one run.
import { Redacted } from "effect"
import { makeCore, makeFetch } from "./core-vs-fetch.mjs"
import {
  API_KEY,
  BASELINE,
  BASELINE_HTTP,
  bodyFor,
  callTool,
  connectHttp,
  connectionEnv,
  connectRawHttp,
  connectStdio,
  cpuOf,
  forkUnlimitedEmulator,
  interleave,
  isMain,
  makeConnections,
  ms,
  OURS_BUNDLED,
  sampling,
  selfCpu,
  spawnHttpServer,
  table,
  verdictTable,
  x2
} from "./lib.mjs"

/** Connections of the server under test, used round-robin so pacing never delays a call. */
const TOKENS = 64

export const run = async () => {
  const connections = makeConnections(TOKENS)
  const emulator = await forkUnlimitedEmulator(connections)
  const common = {
    TRACKSTAR_BASE_URL: emulator.url,
    TRACKSTAR_API_KEY: API_KEY
  }
  const oursEnv = { ...common, ...connectionEnv(connections), TRACKSTAR_DEFAULT_CONNECTION: "c0" }
  const baselineEnv = { ...common, TRACKSTAR_ACCESS_TOKEN: connections[0].accessToken }
  const core = await makeCore(emulator.url, API_KEY)
  const plain = makeFetch(emulator.url, API_KEY)
  const redacted = connections.map((c) => Redacted.make(c.accessToken))
  const oursStdio = await connectStdio(OURS_BUNDLED, oursEnv)
  const httpServer = await spawnHttpServer(OURS_BUNDLED, oursEnv)
  const oursHttp = await connectHttp(httpServer.url)
  const baseline = await connectStdio(BASELINE, baselineEnv)
  const baselineHttpServer = await spawnHttpServer(BASELINE_HTTP, baselineEnv)
  const baselineHttp = await connectHttp(baselineHttpServer.url)
  const oursRaw = await connectRawHttp(httpServer.url)
  const baselineRaw = await connectRawHttp(baselineHttpServer.url)
  const args = (i) => ({ ...bodyFor(i), connection: `c${i % TOKENS}` })
  const variants = {
    "plain fetch (in-process)": (i) => plain(bodyFor(i), connections[i % TOKENS].accessToken),
    "core (in-process)": (i) => core.update(bodyFor(i), redacted[i % TOKENS]),
    "ours over stdio": {
      call: (i) => callTool(oursStdio.client, args(i)),
      cpu: () => selfCpu() + cpuOf(oursStdio.pid),
      serverCpu: () => cpuOf(oursStdio.pid)
    },
    "ours over Streamable HTTP": {
      call: (i) => callTool(oursHttp.client, args(i)),
      cpu: () => selfCpu() + cpuOf(httpServer.pid),
      serverCpu: () => cpuOf(httpServer.pid)
    },
    "ours over Streamable HTTP, minimal client": {
      call: (i) => oursRaw.callTool(args(i)),
      cpu: () => selfCpu() + cpuOf(httpServer.pid),
      serverCpu: () => cpuOf(httpServer.pid)
    },
    "baseline over stdio": {
      call: (i) => callTool(baseline.client, bodyFor(i)),
      cpu: () => selfCpu() + cpuOf(baseline.pid),
      serverCpu: () => cpuOf(baseline.pid)
    },
    "baseline over Streamable HTTP": {
      call: (i) => callTool(baselineHttp.client, bodyFor(i)),
      cpu: () => selfCpu() + cpuOf(baselineHttpServer.pid),
      serverCpu: () => cpuOf(baselineHttpServer.pid)
    }
  }
  variants["baseline over Streamable HTTP, minimal client"] = {
    call: (i) => baselineRaw.callTool(bodyFor(i)),
    cpu: () => selfCpu() + cpuOf(baselineHttpServer.pid),
    serverCpu: () => cpuOf(baselineHttpServer.pid)
  }
  let r
  try {
    r = await interleave({
      variants,
      // 16 rounds: each of the 8 variants takes each place in the rotation twice.
      ...sampling({ rounds: 16, perRound: 250, warmup: 500 })
    })
  } finally {
    await Promise.allSettled([
      oursStdio.close(),
      oursHttp.close(),
      oursRaw.close(),
      baseline.close(),
      baselineHttp.close(),
      baselineRaw.close()
    ])
    await httpServer.stop()
    await baselineHttpServer.stop()
    await core.runtime.dispose()
    await emulator.stop()
  }
  const fetchP50 = r["plain fetch (in-process)"].p50
  const coreP50 = r["core (in-process)"].p50
  const rows = Object.entries(r).map(([name, v]) => [
    name,
    v.n,
    ms(v.p50),
    ms(v.p99),
    Math.round(v.throughput),
    ms(v.p50 - fetchP50),
    name.startsWith("ours") ? ms(v.p50 - coreP50) : "",
    Math.round(v.cpuPerCall),
    v.serverCpuPerCall === undefined ? "" : Math.round(v.serverCpuPerCall)
  ])
  const added = (name, to) => r[name].p50 - r[to].p50
  const stdioAdded = added("ours over stdio", "core (in-process)")
  const httpAdded = added("ours over Streamable HTTP, minimal client", "core (in-process)")
  const httpSdkAdded = added("ours over Streamable HTTP", "core (in-process)")
  const overFetch = (name) => added(name, "plain fetch (in-process)")
  /**
   * Ours against the baseline, each as what it adds to its own plain fetch; the verdict is on
   * the pooled p50s, and the per-round ratios show how far noise moves it.
   */
  const parity = (ours, baseline) => {
    const o = overFetch(ours)
    const b = overFetch(baseline)
    const fetchRounds = r["plain fetch (in-process)"].roundP50
    // A round where the baseline adds nothing measurable over fetch has no ratio.
    const perRound = r[ours].roundP50
      .map((x, i) => [x - fetchRounds[i], r[baseline].roundP50[i] - fetchRounds[i]])
      .filter(([, base]) => base > 0)
      .map(([own, base]) => own / base)
      .sort((p, q) => p - q)
    const spread =
      perRound.length === 0
        ? "no round with a ratio"
        : `per round ${x2(perRound[0])}–${x2(perRound[perRound.length - 1])}`
    return {
      figure: `ours +${ms(o)} ms, baseline +${ms(b)} ms (${x2(o / b)}; ${spread})`,
      met: o <= b
    }
  }
  const stdioParity = parity("ours over stdio", "baseline over stdio")
  const httpParity = parity("ours over Streamable HTTP", "baseline over Streamable HTTP")
  const rawParity = parity(
    "ours over Streamable HTTP, minimal client",
    "baseline over Streamable HTTP, minimal client"
  )
  const verdicts = [
    {
      target: "MCP over stdio adds < 0.5 ms at p50 to a direct core call",
      figure: `+${ms(stdioAdded)} ms`,
      met: stdioAdded < 0.5
    },
    {
      target: "MCP over Streamable HTTP adds < 0.5 ms at p50 to a direct core call, SDK client",
      figure: `+${ms(httpSdkAdded)} ms (one plain fetch round trip alone: ${ms(fetchP50)} ms)`,
      met: httpSdkAdded < 0.5
    },
    {
      target: "the same with a minimal client: what the server and the wire add",
      figure: `+${ms(httpAdded)} ms`,
      met: httpAdded < 0.5
    },
    {
      target: "tool call over plain fetch (stdio, p50): ours no more than the baseline server's",
      ...stdioParity
    },
    {
      target: "the same over Streamable HTTP (p50), with the SDK's client and with a minimal one",
      figure: `SDK client: ${httpParity.figure}; minimal client: ${rawParity.figure}`,
      met: httpParity.met && rawParity.met
    }
  ]
  const markdown = [
    table(
      [
        "variant",
        "calls",
        "p50 ms",
        "p99 ms",
        "calls/s",
        "p50 added to fetch ms",
        "p50 added to core ms",
        "CPU µs/call",
        "of which server"
      ],
      rows
    ),
    "",
    `Sequential calls. The SDK client calls tools/list first, as clients do, so it also checks every result's structuredContent against our output schema (the baseline declares none). Our server has ${TOKENS} connections (TRACKSTAR_ACCESS_TOKEN_C0..) used round-robin by the \`connection\` argument, so its default pacing never delays a call; the emulator runs in its own process with the limiter off. The baselines are bench/baseline/server.mjs (stdio) and bench/baseline/http-server.mjs (the same server behind the SDK's StreamableHTTPServerTransport, one session per client): what the SDK's transports cost by themselves (the HTTP one answers each POST with an event stream, its default). Ours reaches the emulator through the core (over \`node:http\`), the baseline through \`fetch\`: "added to fetch" counts both from plain fetch, as the parity target asks, so the core's lead over fetch counts for ours; "added to core" counts ours from its own upstream call. Ours uses the SDK's stdio transport, and over HTTP its own session transport (apps/mcp/src/StreamableHttp.ts). The client is the SDK's in every row but the "minimal client" ones: JSON-RPC POSTs over one keep-alive \`node:http\` socket, the reply read as JSON or as the one event of a stream, nothing validated (\`connectRawHttp\` in bench/src/lib.mjs). The SDK's HTTP client spends far more of this process's CPU per call than its stdio client (fetch with a per-request abort signal, stream parsing, schema checks), which no server can win back; the minimal client shows what the server and the wire add, and the HTTP budget is judged with both clients. CPU per call counts this process (client, and the in-process variants' work) plus the server process, not the emulator; "of which server" is the server process alone (clock-tick resolution, summed over all rounds).`,
    "",
    verdictTable(verdicts)
  ].join("\n")
  return { title: "MCP tool call overhead", section: "mcp", markdown, verdicts }
}

if (isMain(import.meta.url)) console.log((await run()).markdown)
