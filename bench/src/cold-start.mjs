// Cold start and idle memory of stdio MCP servers, side by side in one run:
// spawn -> initialize -> tools/list answered (and the first tools/call answered), with peak
// RSS (VmHWM) at each of those moments. Runs are interleaved (A, B, C, A, B, C, ...) so
// machine noise hits all alike. Every server gets the same credentials, as a desktop
// client's configuration would give them, and the same emulator to call.
import { spawn } from "node:child_process"
import {
  API_KEY,
  BASELINE,
  forkUnlimitedEmulator,
  initialize,
  isMain,
  makeConnections,
  memoryOf,
  mib,
  ms,
  OURS_BUNDLE,
  OURS_BUNDLED,
  OURS_UNBUNDLED,
  percentile,
  QUICK,
  table,
  verdictTable,
  x2
} from "./lib.mjs"

const RUNS = Number(process.env.BENCH_RUNS ?? (QUICK ? 3 : 21))

export const SERVERS = {
  "trackstar-mcp (dist/main.js, which imports the bundle dist/server.js)": [OURS_BUNDLED],
  "trackstar-mcp (the bundle dist/server.js started directly)": [OURS_BUNDLE],
  "trackstar-mcp (unbundled dist/cli.js)": [OURS_UNBUNDLED],
  "baseline (SDK Server, one tool, fetch)": [BASELINE]
}

const MESSAGES = [
  initialize(1),
  { jsonrpc: "2.0", method: "notifications/initialized" },
  { jsonrpc: "2.0", id: 2, method: "tools/list" }
]
  .map((m) => `${JSON.stringify(m)}\n`)
  .join("")

// Sent only once tools/list is answered, so the memory read then is the idle server's.
const CALL = `${JSON.stringify({
  jsonrpc: "2.0",
  id: 3,
  method: "tools/call",
  params: { name: "update_connection", arguments: { customer_id: "cold-start" } }
})}\n`

/**
 * One cold start: milliseconds from spawn to the tools/list answer and to the first
 * tools/call answer, and peak RSS in MiB at each.
 */
export const coldStart = (args, env = {}) =>
  new Promise((resolve, reject) => {
    const started = process.hrtime.bigint()
    const elapsed = () => Number(process.hrtime.bigint() - started) / 1e6
    const child = spawn(process.execPath, args, {
      env: { PATH: process.env.PATH ?? "", TRACKSTAR_LOG_LEVEL: "none", ...env },
      stdio: ["pipe", "pipe", "ignore"]
    })
    let buffer = ""
    let list
    child.stdout.on("data", (chunk) => {
      buffer += chunk
      const lines = buffer.split("\n")
      buffer = lines.pop() ?? ""
      for (const line of lines) {
        const id = JSON.parse(line).id
        if (id === 2) {
          list = { millis: elapsed(), rss: memoryOf(child.pid).peak }
          child.stdin.write(CALL)
        }
        if (id === 3) {
          const call = { millis: elapsed(), rss: memoryOf(child.pid).peak }
          if (line.includes('"isError":true')) reject(new Error(`tool call failed: ${line}`))
          child.kill()
          resolve({ list, call })
        }
      }
    })
    child.on("error", reject)
    child.stdin.write(MESSAGES)
  })

export const measureColdStarts = async (env, servers = SERVERS, runs = RUNS) => {
  const results = Object.fromEntries(
    Object.keys(servers).map((name) => [name, { list: [], listRss: [], call: [], callRss: [] }])
  )
  // One unmeasured start each: the first start after a build reads files from disk.
  for (const args of Object.values(servers)) await coldStart(args, env)
  for (let i = 0; i < runs; i++) {
    for (const [name, args] of Object.entries(servers)) {
      const { list, call } = await coldStart(args, env)
      const r = results[name]
      r.list.push(list.millis)
      r.listRss.push(list.rss)
      r.call.push(call.millis)
      r.callRss.push(call.rss)
    }
  }
  const base = Object.entries(results).find(([n]) => n.startsWith("baseline"))[1]
  return Object.entries(results).map(([name, r]) => ({
    name,
    // Each run's time over the baseline's in the same round: how steady the ratio is.
    pairedRatio: r.list.map((x, i) => x / base.list[i]),
    list: percentile(r.list, 50),
    listMin: Math.min(...r.list),
    listRss: percentile(r.listRss, 50),
    call: percentile(r.call, 50),
    callRss: percentile(r.callRss, 50)
  }))
}

export const run = async () => {
  const connections = makeConnections(1)
  const emulator = await forkUnlimitedEmulator(connections)
  const env = {
    TRACKSTAR_BASE_URL: emulator.url,
    TRACKSTAR_API_KEY: API_KEY,
    TRACKSTAR_ACCESS_TOKEN: connections[0].accessToken
  }
  let rows
  try {
    rows = await measureColdStarts(env)
  } finally {
    await emulator.stop()
  }
  const base = rows.find((r) => r.name.startsWith("baseline"))
  const ours = rows.find((r) => r.name.startsWith("trackstar-mcp (dist/main.js"))
  const verdicts = [
    {
      target: "cold start (spawn -> tools/list) no slower than the baseline",
      figure: `${ms(ours.list, 1)} vs ${ms(base.list, 1)} ms (${x2(ours.list / base.list)})`,
      met: ours.list <= base.list
    },
    {
      target: "idle memory (peak RSS at tools/list) no larger than the baseline",
      figure: `${mib(ours.listRss)} vs ${mib(base.listRss)} MiB (${x2(ours.listRss / base.listRss)})`,
      met: ours.listRss <= base.listRss
    }
  ]
  const markdown = [
    table(
      [
        "server",
        "to tools/list ms (p50)",
        "min",
        "vs baseline",
        "paired ratio median (range)",
        "peak RSS MiB",
        "vs baseline",
        "to first tools/call ms",
        "peak RSS then MiB"
      ],
      rows.map((r) => [
        r.name,
        ms(r.list, 1),
        ms(r.listMin, 1),
        x2(r.list / base.list),
        `${x2(percentile(r.pairedRatio, 50))} (${x2(Math.min(...r.pairedRatio))}-${x2(Math.max(...r.pairedRatio))})`,
        mib(r.listRss),
        x2(r.listRss / base.listRss),
        ms(r.call, 1),
        mib(r.callRss)
      ])
    ),
    "",
    `Median of ${RUNS} interleaved cold starts each (after one unmeasured start each), measured from spawn to the answer on stdout; "paired ratio" compares each start with the baseline's start in the same round; initialize, notifications/initialized and tools/list are written at once, and one tools/call once tools/list is answered (so the memory read at tools/list is the idle server's). Each server gets TRACKSTAR_API_KEY, TRACKSTAR_ACCESS_TOKEN and TRACKSTAR_BASE_URL (the emulator, its own process).`,
    "",
    verdictTable(verdicts)
  ].join("\n")
  return { title: "Cold start and idle memory (stdio)", section: "cold", markdown, verdicts }
}

if (isMain(import.meta.url)) console.log((await run()).markdown)
