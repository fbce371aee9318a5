// Shared helpers of the benchmarks: the emulator process, the servers under test, timing,
// statistics and markdown. Everything talks to 127.0.0.1 only.
import { execFileSync, fork, spawn } from "node:child_process"
import { randomBytes } from "node:crypto"
import { readdirSync, readFileSync, readlinkSync, statSync } from "node:fs"
import http from "node:http"
import { createRequire } from "node:module"
import os from "node:os"
import { fileURLToPath } from "node:url"
import { Client } from "@modelcontextprotocol/sdk/client/index.js"
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js"
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js"

const require = createRequire(import.meta.url)
const mcpDist = require.resolve("trackstar-mcp/package.json").replace(/package\.json$/, "dist/")

/** The servers under test. */
export const OURS_BUNDLED = `${mcpDist}main.js`
/** The bundle that main.js, a one-line entry, imports. */
export const OURS_BUNDLE = `${mcpDist}server.js`
export const OURS_UNBUNDLED = `${mcpDist}cli.js`
export const BASELINE = fileURLToPath(new URL("../baseline/server.mjs", import.meta.url))
export const BASELINE_HTTP = fileURLToPath(new URL("../baseline/http-server.mjs", import.meta.url))

// The SDK's StreamableHTTPClientTransport hands one AbortSignal to every fetch of a session and
// undici adds an abort listener per request, so a long session trips Node's 1,500-listener
// warning once per request from then on (client side, in this process). Say it once.
let listenerWarnings = 0
process.removeAllListeners("warning")
process.on("warning", (warning) => {
  if (warning.name !== "MaxListenersExceededWarning")
    process.stderr.write(`${warning.name}: ${warning.message}\n`)
  else if (listenerWarnings++ === 0)
    process.stderr.write(
      `note (bench client, not the server): ${warning.message}; the SDK's HTTP client shares one AbortSignal per session. Shown once.\n`
    )
})

/** `--quick` shrinks every section to a smoke run (figures then mean little). */
export const QUICK = process.argv.includes("--quick") || process.env.BENCH_QUICK === "1"

/** Rounds for `interleave`: the given ones, or a smoke-test handful with --quick. */
export const sampling = (full) => (QUICK ? { rounds: 2, perRound: 50, warmup: 50 } : full)

/** An obviously fake key, fresh per run. */
export const API_KEY = `sk_bench_${randomBytes(12).toString("hex")}`

/** `count` emulator connections named `<prefix>0..`, each with its own random access token. */
export const makeConnections = (count, prefix = "c") =>
  Array.from({ length: count }, (_, i) => ({
    name: `${prefix}${i}`,
    accessToken: `tok_bench_${prefix}${i}_${randomBytes(12).toString("hex")}`,
    id: `conn_bench_${prefix}${i}`
  }))

/** `TRACKSTAR_ACCESS_TOKEN_<NAME>` variables naming each connection for the MCP server. */
export const connectionEnv = (connections) =>
  Object.fromEntries(
    connections.map((c) => [`TRACKSTAR_ACCESS_TOKEN_${c.name.toUpperCase()}`, c.accessToken])
  )

/** Starts the emulator in a child process; its methods are the emulator's, over IPC. */
export const forkEmulator = async (options) => {
  const child = fork(fileURLToPath(new URL("./emulator-process.mjs", import.meta.url)), [], {
    stdio: ["ignore", "inherit", "inherit", "ipc"]
  })
  const pending = new Map()
  let nextId = 0
  child.on("message", ({ id, result, error }) => {
    const waiter = pending.get(id)
    pending.delete(id)
    if (error !== undefined) waiter?.reject(new Error(error))
    else waiter?.resolve(result)
  })
  const call = (op, args) =>
    new Promise((resolve, reject) => {
      const id = nextId++
      pending.set(id, { resolve, reject })
      child.send({ id, op, args })
    })
  const { url, apiKey } = await call("start", options)
  return {
    url,
    apiKey,
    pid: child.pid,
    inject: (rule) => call("inject", rule),
    clearFaults: () => call("clearFaults"),
    clearRequests: () => call("clearRequests"),
    requests: () => call("requests"),
    stop: async () => {
      const exited = new Promise((resolve) => child.once("exit", resolve))
      await call("stop")
      await exited
    }
  }
}

/** Resident and peak resident memory of a process, in MiB. */
export const memoryOf = (pid) => {
  const status = readFileSync(`/proc/${pid}/status`, "utf8")
  const field = (name) => Number(new RegExp(`${name}:\\s+(\\d+) kB`).exec(status)?.[1]) / 1024
  return { rss: field("VmRSS"), peak: field("VmHWM") }
}

const TICKS_PER_SECOND = (() => {
  try {
    return Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100
  } catch {
    return 100
  }
})()

/** CPU time (user + system) a process has used so far, in ms (clock-tick resolution). */
export const cpuOf = (pid) => {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8")
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND
}

/** CPU time this process has used so far, in ms. */
export const selfCpu = () => {
  const usage = process.cpuUsage()
  return (usage.user + usage.system) / 1000
}

/** Open file descriptors of a process, and how many of them are sockets. */
export const descriptorsOf = (pid) => {
  const fds = readdirSync(`/proc/${pid}/fd`)
  let sockets = 0
  for (const fd of fds) {
    try {
      if (readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith("socket:")) sockets++
    } catch {
      // closed while we looked
    }
  }
  return { fds: fds.length, sockets }
}

/**
 * Preloaded only where a section says so: on SIGUSR2 it runs a full GC and writes the heap
 * figures to stderr. The heap after a full GC shows a leak; RSS moves by tens of MiB with
 * V8's heap sizing alone. It changes nothing else (gc() runs only when asked).
 */
const HEAP_PROBE = `data:text/javascript,${encodeURIComponent(
  'process.on("SIGUSR2", () => { globalThis.gc(); globalThis.gc(); process.stderr.write("heap-probe " + JSON.stringify(process.memoryUsage()) + "\\n") })'
)}`

/**
 * Spawns a server with `--http --port 0` and waits for the URL it logs on stderr. With
 * `heapProbe`, `heapAfterGc()` gives the heap used after a full GC, in MiB.
 */
export const spawnHttpServer = async (main, env, { heapProbe = false } = {}) => {
  const nodeArgs = heapProbe ? ["--expose-gc", `--import=${HEAP_PROBE}`] : []
  const child = spawn(process.execPath, [...nodeArgs, main, "--http", "--port", "0"], {
    env: { PATH: process.env.PATH ?? "", ...env },
    stdio: ["ignore", "ignore", "pipe"]
  })
  let stderr = ""
  const url = await new Promise((resolve, reject) => {
    child.stderr.on("data", (chunk) => {
      stderr += chunk
      const match = /listening on (\S+)/.exec(stderr)
      if (match) resolve(match[1])
    })
    child.once("exit", (code) => reject(new Error(`server exited (${code}): ${stderr}`)))
  })
  return {
    url,
    pid: child.pid,
    child,
    stderr: () => stderr,
    heapAfterGc: async () => {
      const seen = stderr.split("heap-probe ").length
      child.kill("SIGUSR2")
      while (stderr.split("heap-probe ").length === seen)
        await new Promise((resolve) => setTimeout(resolve, 10))
      const line = stderr.split("heap-probe ").at(-1).split("\n")[0]
      return JSON.parse(line).heapUsed / 2 ** 20
    },
    stop: async () => {
      if (child.exitCode !== null) return
      const exited = new Promise((resolve) => child.once("exit", resolve))
      child.kill("SIGTERM")
      await exited
    }
  }
}

/** The SDK client over stdio, after tools/list (as real clients do, so output schemas are checked). */
export const connectStdio = async (main, env) => {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [main],
    env: { PATH: process.env.PATH ?? "", ...env },
    stderr: "pipe"
  })
  transport.stderr?.resume()
  const client = new Client({ name: "bench", version: "0" })
  await client.connect(transport)
  await client.listTools()
  return { client, pid: transport.pid, close: () => client.close() }
}

/** The SDK client over Streamable HTTP, after tools/list; `close` ends the session on the server. */
export const connectHttp = async (url) => {
  const transport = new StreamableHTTPClientTransport(new URL(url))
  const client = new Client({ name: "bench", version: "0" })
  await client.connect(transport)
  await client.listTools()
  return {
    client,
    close: async () => {
      await transport.terminateSession()
      await client.close()
    }
  }
}

/** The `initialize` request of the benches' hand-written clients. */
export const initialize = (id) => ({
  jsonrpc: "2.0",
  id,
  method: "initialize",
  params: {
    protocolVersion: "2025-06-18",
    capabilities: {},
    clientInfo: { name: "bench", version: "0" }
  }
})

/**
 * The least a Streamable HTTP client can do: JSON-RPC POSTs over one keep-alive socket, the
 * reply read as JSON or as the one event of a stream, nothing validated. It shows what the
 * server and the wire cost apart from the SDK client's own work (fetch, SSE parsing, schemas).
 */
export const connectRawHttp = async (url) => {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
  const headers = {
    "content-type": "application/json",
    accept: "application/json, text/event-stream"
  }
  const post = (message, method = "POST") =>
    new Promise((resolve, reject) => {
      const body = message === undefined ? "" : JSON.stringify(message)
      const request = http.request(url, { method, agent, headers }, (response) => {
        const chunks = []
        response.on("data", (chunk) => chunks.push(chunk))
        response.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8")
          // A stream may carry notifications before the reply: take the message with this id.
          const messages = response.headers["content-type"]?.startsWith("text/event-stream")
            ? text
                .split("\n")
                .filter((line) => line.startsWith("data:"))
                .map((line) => JSON.parse(line.slice(5)))
            : text === ""
              ? []
              : [JSON.parse(text)]
          resolve({ response, reply: messages.find((m) => m.id === message?.id) })
        })
        response.on("error", reject)
      })
      request.on("error", reject)
      request.end(body)
    })
  const { response, reply } = await post(initialize(0))
  const session = response.headers["mcp-session-id"]
  if (session !== undefined) headers["mcp-session-id"] = session
  headers["mcp-protocol-version"] = reply.result.protocolVersion
  await post({ jsonrpc: "2.0", method: "notifications/initialized" })
  let id = 0
  return {
    callTool: async (args) => {
      id += 1
      const { reply } = await post({
        jsonrpc: "2.0",
        id,
        method: "tools/call",
        params: { name: "update_connection", arguments: args }
      })
      if (reply?.result === undefined || reply.result.isError)
        throw new Error(`tool error: ${JSON.stringify(reply)}`)
      return reply.result
    },
    close: async () => {
      await post(undefined, "DELETE")
      agent.destroy()
    }
  }
}

/** Calls `update_connection`; a result with isError is a failed benchmark, not a figure. */
export const callTool = async (client, args) => {
  const result = await client.callTool({ name: "update_connection", arguments: args })
  if (result.isError) throw new Error(`tool error: ${JSON.stringify(result.content)}`)
  return result
}

/** A request body varying with `i`, the same for every variant at the same `i`. */
export const bodyFor = (i) => ({ customer_id: `cust-${i % 1000}`, webhooks_disabled: i % 2 === 0 })

/**
 * Runs `count` calls of `fn(i)` from `concurrency` workers; returns each call's latency
 * (ms) and the wall time of the whole block.
 */
export const runCalls = async (count, concurrency, fn, offset = 0) => {
  const latencies = new Float64Array(count)
  let next = 0
  const worker = async () => {
    while (next < count) {
      const i = next++
      const started = performance.now()
      await fn(offset + i)
      latencies[i] = performance.now() - started
    }
  }
  const started = performance.now()
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker))
  return { latencies: Array.from(latencies), wall: performance.now() - started }
}

/**
 * A/B/... side by side: warm every variant up, then `rounds` rounds in which every variant
 * runs a block of `perRound` calls, in an order rotated each round, so machine noise
 * lands on all of them alike. Returns every variant's latencies, per-round medians,
 * throughput and CPU time per call. A variant is a function of the call index, or
 * `{ call, cpu, serverCpu }` where `cpu()` is the CPU ms used so far by every process doing
 * its work (default: this process) and `serverCpu()` that of the server alone. CPU time is far less disturbed by a noisy neighbour than latency.
 */
export const interleave = async ({ variants, rounds, perRound, concurrency = 1, warmup }) => {
  const names = Object.keys(variants)
  const specs = Object.fromEntries(
    names.map((n) => {
      const v = variants[n]
      return [n, typeof v === "function" ? { call: v, cpu: selfCpu } : { cpu: selfCpu, ...v }]
    })
  )
  const out = Object.fromEntries(
    names.map((n) => [n, { latencies: [], roundP50: [], wall: 0, calls: 0, cpu: 0, serverCpu: 0 }])
  )
  let offset = 0
  for (const name of names) {
    await runCalls(warmup, concurrency, specs[name].call, offset)
    offset += warmup
  }
  for (let r = 0; r < rounds; r++) {
    const order = names.map((_, k) => names[(k + r) % names.length])
    for (const name of order) {
      const { call, cpu, serverCpu } = specs[name]
      const cpuBefore = cpu()
      const serverBefore = serverCpu?.() ?? 0
      const { latencies, wall } = await runCalls(perRound, concurrency, call, offset)
      const o = out[name]
      o.cpu += cpu() - cpuBefore
      o.serverCpu += (serverCpu?.() ?? 0) - serverBefore
      offset += perRound
      o.latencies.push(...latencies)
      o.roundP50.push(percentile(latencies, 50))
      o.wall += wall
      o.calls += perRound
    }
  }
  return Object.fromEntries(
    names.map((n) => {
      const o = out[n]
      return [
        n,
        {
          ...summarize(o.latencies),
          roundP50: o.roundP50,
          throughput: (o.calls / o.wall) * 1000,
          cpuPerCall: (o.cpu / o.calls) * 1000,
          serverCpuPerCall: specs[n].serverCpu ? (o.serverCpu / o.calls) * 1000 : undefined
        }
      ]
    })
  )
}

/** Nearest-rank percentile. */
export const percentile = (values, p) => {
  const sorted = [...values].sort((a, b) => a - b)
  const rank = Math.ceil((p / 100) * sorted.length)
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]
}

/** Count, p50, p99 and mean of latencies. */
export const summarize = (values) => ({
  n: values.length,
  p50: percentile(values, 50),
  p99: percentile(values, 99),
  mean: values.reduce((a, b) => a + b, 0) / values.length
})

/** Per-round ratios A/B of round medians: their median and range show how steady a ratio is. */
export const roundRatios = (a, b) => {
  const ratios = a.roundP50.map((x, i) => x / b.roundP50[i])
  return { median: percentile(ratios, 50), min: Math.min(...ratios), max: Math.max(...ratios) }
}

const NUMERIC = /^[-+]?\d[\d.,]*(x|%| ?ms| ?MiB)?( \(.*\))?$/

/** A markdown table; columns whose cells are all numbers are right-aligned. */
export const table = (headers, rows) => {
  const right = headers.map((_, i) =>
    rows.every((r) => String(r[i]) === "" || NUMERIC.test(String(r[i])))
  )
  return [
    `| ${headers.join(" | ")} |`,
    `| ${right.map((r) => (r ? "---:" : "---")).join(" | ")} |`,
    ...rows.map((r) => `| ${r.join(" | ")} |`)
  ].join("\n")
}

export const ms = (x, digits = 3) => (Number.isFinite(x) ? x.toFixed(digits) : "n/a")
export const x2 = (x) => `${x.toFixed(2)}x`
export const mib = (x) => x.toFixed(1)
export const verdict = (met) => (met ? "**met**" : "**missed**")

/** Date, machine and runtime, for the header of the figures. */
export const machine = () => {
  const cpus = os.cpus()
  return {
    date: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
    cpu: cpus[0]?.model ?? "unknown",
    cores: cpus.length,
    memory: `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`,
    node: process.version,
    os: `${os.type()} ${os.release()}`,
    load: os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")
  }
}

/** Polls until `check()` holds or `millis` pass; says which. */
export const waitFor = async (check, millis) => {
  const deadline = Date.now() + millis
  while (!check()) {
    if (Date.now() > deadline) return false
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  return true
}

/**
 * What was measured: the commit, the paths with uncommitted changes (the build includes them),
 * and the size and time of the bundled server, so a rebuild during a run can be noticed.
 */
export const source = () => {
  const git = (...args) => {
    try {
      return execFileSync("git", args, {
        encoding: "utf8",
        stdio: ["ignore", "pipe", "ignore"]
      }).trimEnd()
    } catch {
      return ""
    }
  }
  const dirty = [
    ...new Set(
      git("status", "--porcelain", "--untracked-files=no")
        .split("\n")
        .filter((l) => l.trim() !== "")
        .map((l) => l.slice(3).split("/").slice(0, 2).join("/"))
    )
  ]
  const bundle = statSync(OURS_BUNDLE)
  return {
    commit: git("rev-parse", "--short", "HEAD") || "unknown",
    dirty,
    bundle: `${bundle.size} bytes, built ${bundle.mtime.toISOString().replace(/\.\d+Z$/, "Z")}`
  }
}

/** Whether this module is the script node was started with. */
export const isMain = (url) => url === `file://${process.argv[1]}`

/** The targets of a section as a markdown table: target, figure, verdict. */
export const verdictTable = (verdicts) =>
  table(
    ["target", "figure", "verdict"],
    verdicts.map((v) => [v.target, v.figure, verdict(v.met)])
  )

/** An emulator in its own process with its limiter and request log off, for per-call figures. */
export const forkUnlimitedEmulator = (connections) =>
  forkEmulator({ apiKey: API_KEY, connections, rateLimit: false, maxRecordedRequests: 0 })
