// Cold start and idle memory of stdio MCP servers, side by side in one run:
// spawn -> initialize -> tools/list answered, then peak RSS (VmHWM) at that moment.
// Runs are interleaved (A, B, C, A, B, C, ...) so machine noise hits all alike.
import { spawn } from "node:child_process"
import { readFileSync } from "node:fs"
import { createRequire } from "node:module"
import { fileURLToPath } from "node:url"

const require = createRequire(import.meta.url)
const mcpDist = require.resolve("trackstar-mcp/package.json").replace(/package\.json$/, "dist/")
const RUNS = Number(process.env.BENCH_RUNS ?? 15)

export const SERVERS = {
  "trackstar-mcp (bundled dist/main.js)": [`${mcpDist}main.js`],
  "trackstar-mcp (unbundled dist/cli.js)": [`${mcpDist}cli.js`],
  "baseline (SDK Server, one tool, fetch)": [fileURLToPath(new URL("../baseline/server.mjs", import.meta.url))]
}

const MESSAGES = [
  { jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "bench", version: "0" } } },
  { jsonrpc: "2.0", method: "notifications/initialized" },
  { jsonrpc: "2.0", id: 2, method: "tools/list" }
].map((m) => `${JSON.stringify(m)}\n`).join("")

const peakRss = (pid) => {
  const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))
  return match ? Number(match[1]) / 1024 : Number.NaN
}

/** One cold start: milliseconds from spawn to the tools/list answer, and peak RSS in MiB then. */
export const coldStart = (args, env = {}) =>
  new Promise((resolve, reject) => {
    const started = process.hrtime.bigint()
    const child = spawn(process.execPath, args, {
      env: { PATH: process.env.PATH ?? "", TRACKSTAR_LOG_LEVEL: "none", ...env },
      stdio: ["pipe", "pipe", "ignore"]
    })
    let buffer = ""
    child.stdout.on("data", (chunk) => {
      buffer += chunk
      if (!buffer.includes('"id":2')) return
      const millis = Number(process.hrtime.bigint() - started) / 1e6
      const rss = peakRss(child.pid)
      child.kill()
      resolve({ millis, rss })
    })
    child.on("error", reject)
    child.stdin.write(MESSAGES)
  })

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)]
}

export const measureColdStarts = async (servers = SERVERS, runs = RUNS) => {
  const results = Object.fromEntries(Object.keys(servers).map((name) => [name, { millis: [], rss: [] }]))
  for (let i = 0; i < runs; i++) {
    for (const [name, args] of Object.entries(servers)) {
      const { millis, rss } = await coldStart(args)
      results[name].millis.push(millis)
      results[name].rss.push(rss)
    }
  }
  return Object.entries(results).map(([name, r]) => ({ name, millis: median(r.millis), rss: median(r.rss) }))
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const rows = await measureColdStarts()
  const base = rows.find((r) => r.name.startsWith("baseline"))
  console.log(`cold start (spawn -> tools/list answered) and peak RSS, median of ${RUNS} interleaved runs`)
  console.log("| server | cold start ms | vs baseline | peak RSS MiB | vs baseline |")
  console.log("| --- | ---: | ---: | ---: | ---: |")
  for (const r of rows) {
    console.log(`| ${r.name} | ${r.millis.toFixed(1)} | ${(r.millis / base.millis).toFixed(2)}x | ${r.rss.toFixed(1)} | ${(r.rss / base.rss).toFixed(2)}x |`)
  }
}
