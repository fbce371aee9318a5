/** Helpers of the stress and property tests: the HTTP server with a heap probe, /proc readers. */
import { type ChildProcess, spawn } from "node:child_process"
import { readdirSync, readFileSync, readlinkSync } from "node:fs"
import { MAIN } from "./support.js"
import { until } from "./wait.js"

/** `STRESS=1` runs the long versions (`pnpm stress`); the default suite runs short ones. */
export const STRESS = process.env.STRESS === "1"

/**
 * Preloaded into the server only by these tests: on SIGUSR2 it runs a full GC and writes the
 * heap figures to stderr. Memory after a full GC is what shows a leak; RSS moves by tens of
 * MiB with V8's heap sizing alone. Nothing else about the server changes.
 */
const HEAP_PROBE = `data:text/javascript,${encodeURIComponent(
  'process.on("SIGUSR2", () => { globalThis.gc(); globalThis.gc(); process.stderr.write("heap-probe " + JSON.stringify(process.memoryUsage()) + "\\n") })'
)}`

/** A running `main.js --http --port 0`. */
export interface HttpServer {
  readonly url: string
  readonly child: ChildProcess
  readonly pid: number
  readonly stderr: () => string
  /** Heap used after a full GC, in MiB. */
  readonly heapAfterGc: () => Promise<number>
  readonly stop: () => Promise<void>
}

/** Spawns the built server over Streamable HTTP with the heap probe and waits for its URL. */
export const serveHttp = async (env: Record<string, string>): Promise<HttpServer> => {
  const child = spawn(
    process.execPath,
    ["--expose-gc", `--import=${HEAP_PROBE}`, MAIN, "--http", "--port", "0"],
    { env: { PATH: process.env.PATH ?? "", ...env }, stdio: ["ignore", "pipe", "pipe"] }
  )
  let stderr = ""
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString()
  })
  child.stdout?.resume()
  await until(
    () => /listening on (\S+)/.test(stderr) || child.exitCode !== null,
    15_000,
    "the server to listen"
  )
  const url = /listening on (\S+)/.exec(stderr)?.[1]
  const pid = child.pid
  if (url === undefined || pid === undefined) throw new Error(`server did not start: ${stderr}`)
  const heapAfterGc = async () => {
    const seen = stderr.split("heap-probe ").length
    child.kill("SIGUSR2")
    await until(() => stderr.split("heap-probe ").length > seen, 10_000, "the heap probe")
    const line = stderr.split("heap-probe ").at(-1)?.split("\n")[0] ?? "{}"
    const usage: unknown = JSON.parse(line)
    const heapUsed =
      typeof usage === "object" && usage !== null && "heapUsed" in usage ? usage.heapUsed : NaN
    return Number(heapUsed) / 2 ** 20
  }
  const stop = async () => {
    if (child.exitCode !== null) return
    const exited = new Promise((resolve) => child.once("exit", resolve))
    child.kill("SIGTERM")
    await exited
  }
  return { url, child, pid, stderr: () => stderr, heapAfterGc, stop }
}

/** Resident memory of a process, in MiB. */
export const rssOf = (pid: number): number => {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))
  return match?.[1] === undefined ? NaN : Number(match[1]) / 1024
}

/** Open socket descriptors of a process (TCP, and the Unix sockets of its stdio pipes). */
export const socketsOf = (pid: number): number => {
  let sockets = 0
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      if (readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith("socket:")) sockets++
    } catch {
      // closed while we looked
    }
  }
  return sockets
}

/** A small seeded PRNG (mulberry32), so a failing soak can be replayed with its seed. */
export const prng = (seed: number): (() => number) => {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
