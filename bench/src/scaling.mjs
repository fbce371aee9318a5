// How cost grows: 1 to 10,000 sequential calls in one Streamable HTTP session, then 1 to 100
// concurrent sessions; the server's resident memory (VmRSS) after warm-up and after each step.
import {
  API_KEY,
  bodyFor,
  callTool,
  connectHttp,
  connectionEnv,
  descriptorsOf,
  forkUnlimitedEmulator,
  isMain,
  makeConnections,
  memoryOf,
  mib,
  ms,
  OURS_BUNDLED,
  QUICK,
  runCalls,
  spawnHttpServer,
  summarize,
  table,
  verdictTable,
  waitFor
} from "./lib.mjs"

/** Connections used round-robin, so pacing (50 writes/s per token) never delays a call. */
const TOKENS = 64
const CALLS = QUICK ? [1, 10, 100, 1_000] : [1, 10, 100, 1_000, 10_000]
const SESSIONS = QUICK ? [1, 10] : [1, 10, 50, 100]
const CALLS_PER_SESSION = 20
const WARMUP_PER_SESSION = QUICK ? 50 : 200
/**
 * Memory counts as flat when the server's heap after a full GC is within this of its value
 * after warm-up: a leak of 0.5 KiB per call would pass it within 10,000 calls.
 */
const HEAP_TOLERANCE_MIB = 5

export const run = async () => {
  const connections = makeConnections(TOKENS)
  const emulator = await forkUnlimitedEmulator(connections)
  const server = await spawnHttpServer(
    OURS_BUNDLED,
    {
      TRACKSTAR_BASE_URL: emulator.url,
      TRACKSTAR_API_KEY: API_KEY,
      TRACKSTAR_DEFAULT_CONNECTION: "c0",
      ...connectionEnv(connections)
    },
    { heapProbe: true }
  )
  const args = (i) => ({ ...bodyFor(i), connection: `c${i % TOKENS}` })
  const snapshot = async () => ({
    ...memoryOf(server.pid),
    ...descriptorsOf(server.pid),
    heap: await server.heapAfterGc()
  })
  const callRows = []
  const sessionRows = []
  let idle
  let warm
  let afterCalls
  let last
  try {
    idle = descriptorsOf(server.pid)
    // Warm-up: sessions and calls enough for the JIT and the pools to settle.
    const warmSessions = await Promise.all(
      Array.from({ length: 10 }, () => connectHttp(server.url))
    )
    await Promise.all(
      warmSessions.map((s, k) =>
        runCalls(WARMUP_PER_SESSION, 1, (i) => callTool(s.client, args(i)), k * WARMUP_PER_SESSION)
      )
    )
    await Promise.all(warmSessions.map((s) => s.close()))
    warm = await snapshot()

    const session = await connectHttp(server.url)
    let offset = 0
    for (const n of CALLS) {
      const { latencies, wall } = await runCalls(
        n,
        1,
        (i) => callTool(session.client, args(i)),
        offset
      )
      offset += n
      const s = summarize(latencies)
      const after = await snapshot()
      callRows.push([
        n,
        ms(s.p50),
        ms(s.p99),
        ms(wall, 0),
        Math.round((n / wall) * 1000),
        mib(after.rss),
        mib(after.heap)
      ])
      afterCalls = after
    }
    await session.close()

    for (const count of SESSIONS) {
      const started = performance.now()
      const clients = await Promise.all(
        Array.from({ length: count }, () => connectHttp(server.url))
      )
      const opened = performance.now() - started
      const results = await Promise.all(
        clients.map((c, k) =>
          runCalls(CALLS_PER_SESSION, 1, (i) => callTool(c.client, args(i)), k * CALLS_PER_SESSION)
        )
      )
      const wall = performance.now() - started - opened
      const open = await snapshot()
      await Promise.all(clients.map((c) => c.close()))
      const closed = await snapshot()
      const s = summarize(results.flatMap((r) => r.latencies))
      sessionRows.push([
        count,
        ms(opened, 0),
        s.n,
        ms(s.p50),
        ms(s.p99),
        Math.round((s.n / wall) * 1000),
        mib(open.rss),
        mib(open.heap),
        open.sockets,
        mib(closed.heap)
      ])
    }
    // Keep-alive sockets (clients to the server, the server to the emulator) close when idle.
    await waitFor(() => descriptorsOf(server.pid).sockets <= idle.sockets, 15_000)
    last = await snapshot()
  } finally {
    await server.stop()
    await emulator.stop()
  }
  const callsGrowth = afterCalls.heap - warm.heap
  const sessionsGrowth = last.heap - warm.heap
  const signed = (x) => `${x >= 0 ? "+" : ""}${mib(x)}`
  const verdicts = [
    {
      target: `memory flat over ${CALLS.at(-1)} calls once warm (heap after full GC within ${HEAP_TOLERANCE_MIB} MiB)`,
      figure: `heap ${mib(warm.heap)} -> ${mib(afterCalls.heap)} MiB (${signed(callsGrowth)}); RSS ${mib(warm.rss)} -> ${mib(afterCalls.rss)} MiB`,
      met: callsGrowth <= HEAP_TOLERANCE_MIB
    },
    {
      target: `memory and sockets back once ${SESSIONS.at(-1)} sessions end (heap within ${HEAP_TOLERANCE_MIB} MiB, sockets back to idle)`,
      figure: `heap ${mib(warm.heap)} -> ${mib(last.heap)} MiB (${signed(sessionsGrowth)}); sockets ${idle.sockets} idle -> ${last.sockets}; RSS ${mib(last.rss)} MiB (peak ${mib(last.peak)})`,
      met: sessionsGrowth <= HEAP_TOLERANCE_MIB && last.sockets <= idle.sockets
    }
  ]
  const markdown = [
    `Warm-up: 10 sessions x ${WARMUP_PER_SESSION} calls; after it the server's RSS is ${mib(warm.rss)} MiB and its heap after a full GC ${mib(warm.heap)} MiB. Then calls in one session, sequential:`,
    "",
    table(
      [
        "calls",
        "p50 ms",
        "p99 ms",
        "total ms",
        "calls/s",
        "server RSS after MiB",
        "server heap after GC MiB"
      ],
      callRows
    ),
    "",
    `Concurrent sessions, each opened (initialize, tools/list) at once and then making ${CALLS_PER_SESSION} sequential calls, all sessions in parallel; then every session is ended (DELETE):`,
    "",
    table(
      [
        "sessions",
        "open all ms",
        "calls",
        "p50 ms",
        "p99 ms",
        "calls/s",
        "server RSS open MiB",
        "heap open MiB",
        "server sockets open",
        "heap after close MiB"
      ],
      sessionRows
    ),
    "",
    `Our server (dist/main.js --http --port 0) with ${TOKENS} connections used round-robin; the emulator in its own process, limiter off. RSS is VmRSS from /proc/PID/status. "heap after GC" is V8's heapUsed right after a full GC, read through a probe preloaded for this section only (\`--expose-gc\` and a SIGUSR2 handler; nothing else changes). Sockets are the server's socket descriptors: its listener, its stdio pipes, the clients' connections and its keep-alive pool to the emulator; idle keep-alive sockets close after about 5 s.`,
    "",
    verdictTable(verdicts)
  ].join("\n")
  return { title: "Scaling: calls and HTTP sessions", section: "scaling", markdown, verdicts }
}

if (isMain(import.meta.url)) console.log((await run()).markdown)
