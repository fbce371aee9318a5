import { createServer, type IncomingMessage, type ServerResponse } from "node:http"
import { isIP } from "node:net"
import { handleApi } from "./Api.js"
import { CONTROL_PREFIX, handleControl } from "./Control.js"
import { DEMO } from "./Demo.js"
import { playFault } from "./FaultPlayer.js"
import { decodeFaultRule, type FaultRule, FaultRules } from "./Faults.js"
import { header, headersOf, newRequestId, readBody, sendError } from "./Http.js"
import { FixedWindowLimiter } from "./RateLimiter.js"
import { type RecordedRequest, RequestLog } from "./Recorder.js"
import {
  type ConnectionEntry,
  type ConnectionState,
  ConnectionStore,
  type NewConnection,
  type SeedConnection
} from "./State.js"

/** How to start an emulator; every field is optional. */
export interface EmulatorOptions {
  /** The port to listen on; 0 (the default) picks a free one. */
  readonly port?: number
  /** A loopback address to listen on (default "127.0.0.1"); any other host is refused. */
  readonly host?: string
  /** The organisation API key the emulator accepts (default `DEMO.apiKey`). */
  readonly apiKey?: string
  /** The connections it knows (default `DEMO.connections`). */
  readonly connections?: ReadonlyArray<SeedConnection>
  /** Per-token limits (default 50 writes and 10 reads per second), or false for none. */
  readonly rateLimit?:
    | { readonly writesPerSecond: number; readonly readsPerSecond?: number }
    | false
  /** How many requests `requests()` keeps (default 10 000). */
  readonly maxRecordedRequests?: number
}

/** A running emulator: its address, its state, and its controls. */
export interface Emulator {
  /** The base URL, e.g. "http://127.0.0.1:PORT". */
  readonly url: string
  readonly port: number
  readonly apiKey: string
  /** The state of the connection holding this access token. */
  connection(accessToken: string): ConnectionState | undefined
  /** Every connection with its name and access token. */
  connections(): ReadonlyArray<ConnectionEntry>
  /** Adds a connection, with a random name, token and id where omitted. */
  addConnection(input?: NewConnection): { name: string; accessToken: string; id: string }
  /** Adds a fault rule; rules are matched in order, and one with `times` is used up by matching requests. */
  inject(rule: FaultRule): void
  /** Removes every fault rule. */
  clearFaults(): void
  /** The requests that reached the API (not the control API), oldest first, rejected ones included. */
  requests(): ReadonlyArray<RecordedRequest>
  /** Forgets the recorded requests. */
  clearRequests(): void
  /** Closes the server and every open, keep-alive or hanging socket. */
  stop(): Promise<void>
}

const isLoopback = (host: string): boolean =>
  host === "localhost" ||
  host === "::1" ||
  (isIP(host) === 4 && host.startsWith("127.")) ||
  host.toLowerCase().startsWith("::ffff:127.")

const DEFAULT_WRITES_PER_SECOND = 50
const DEFAULT_READS_PER_SECOND = 10

const isCount = (value: number): boolean => Number.isInteger(value) && value >= 0

function checkOptions(options: EmulatorOptions): void {
  const { port = 0, host = "127.0.0.1", rateLimit, maxRecordedRequests = 0 } = options
  if (!isLoopback(host)) {
    throw new Error(`Refusing to listen on "${host}": the emulator serves loopback addresses only`)
  }
  if (!isCount(port) || port > 65_535) throw new Error(`Invalid port ${port}: use 0 to 65535`)
  if (!isCount(maxRecordedRequests)) {
    throw new Error("maxRecordedRequests must be a non-negative integer")
  }
  if (rateLimit) {
    const limits = [rateLimit.writesPerSecond, rateLimit.readsPerSecond ?? DEFAULT_READS_PER_SECOND]
    if (!limits.every((limit) => isCount(limit) && limit > 0)) {
      throw new Error("rateLimit.writesPerSecond and readsPerSecond must be positive integers")
    }
  }
}

/** Starts an emulator of Trackstar's PATCH /connections (and GET /connections/:id) on loopback. */
export async function start(options: EmulatorOptions = {}): Promise<Emulator> {
  checkOptions(options)
  const host = options.host ?? "127.0.0.1"
  const apiKey = options.apiKey ?? DEMO.apiKey
  const store = new ConnectionStore()
  for (const seed of options.connections ?? DEMO.connections) store.add(seed)
  const rateLimit = options.rateLimit ?? { writesPerSecond: DEFAULT_WRITES_PER_SECOND }
  const limits = rateLimit
    ? {
        writes: new FixedWindowLimiter(rateLimit.writesPerSecond),
        reads: new FixedWindowLimiter(rateLimit.readsPerSecond ?? DEFAULT_READS_PER_SECOND)
      }
    : undefined
  const faults = new FaultRules()
  const api = { apiKey, store, limits }
  const control = { store, faults }
  const log = new RequestLog(options.maxRecordedRequests ?? 10_000)
  const timers = new Set<NodeJS.Timeout>()
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        timers.delete(timer)
        resolve()
      }, ms)
      timers.add(timer)
    })

  let stopping: Promise<void> | undefined

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const at = Date.now()
    const requestId = newRequestId()
    res.setHeader("x-request-id", requestId)
    const body = await readBody(req)
    const target = req.url ?? "/"
    const pathname = target.split("?", 1)[0] ?? target
    if (pathname.startsWith(CONTROL_PREFIX)) {
      handleControl(control, req, res, pathname, body.text)
      return
    }
    const method = req.method ?? "GET"
    const headers = headersOf(req)
    const record = log.add({ requestId, method, path: target, headers, body: body.text, at })
    // A response closed before it finished was abandoned by the client, unless we dropped it.
    let droppedByUs = false
    res.on("finish", () => record.answered(res.statusCode))
    res.on("close", () => {
      if (!res.writableFinished && !droppedByUs && stopping === undefined) record.closedByClient()
    })
    const fault = faults.take(header(req, "x-trackstar-access-token"))
    if (fault?.kind === "drop") droppedByUs = true
    if (fault !== undefined && (await playFault(fault, req, res, sleep))) return
    if (body.tooLarge) sendError(res, 413, "Request body too large")
    else handleApi(api, req, res, pathname, body.text)
  }

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) sendError(res, 500, "Internal emulator error")
      else res.destroy()
    })
  })
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject)
    server.listen(options.port ?? 0, host, () => {
      server.off("error", reject)
      resolve()
    })
  })
  const address = server.address()
  if (address === null || typeof address === "string")
    throw new Error("The server has no TCP address")
  const port = address.port
  const urlHost = isIP(host) === 6 ? `[${host}]` : host

  const stop = (): Promise<void> => {
    stopping ??= new Promise<void>((resolve, reject) => {
      for (const timer of timers) clearTimeout(timer)
      timers.clear()
      server.close((error) => (error === undefined ? resolve() : reject(error)))
      server.closeAllConnections()
    })
    return stopping
  }

  return {
    url: `http://${urlHost}:${port}`,
    port,
    apiKey,
    connection: (accessToken) => store.byToken(accessToken),
    connections: () => store.list(),
    addConnection: (input = {}) => store.add(input),
    inject: (rule) => {
      const decoded = decodeFaultRule(rule)
      if (!decoded.ok) throw new TypeError(`Invalid fault rule: ${decoded.error}`)
      faults.add(decoded.value)
    },
    clearFaults: () => faults.clear(),
    requests: () => log.list(),
    clearRequests: () => log.clear(),
    stop
  }
}
