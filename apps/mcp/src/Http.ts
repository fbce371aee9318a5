/**
 * Streamable HTTP at `/mcp`, with the protections a local or remote MCP
 * server needs: `Host` and `Origin` allow-lists (DNS rebinding), a bearer
 * token (required before binding beyond loopback), a health endpoint, one
 * MCP session per client, and a graceful shutdown that lets calls finish.
 */
import { createHash, timingSafeEqual } from "node:crypto"
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type ServerResponse
} from "node:http"
import type { Server } from "@modelcontextprotocol/sdk/server/index.js"
import { isInitializeRequest } from "@modelcontextprotocol/sdk/types.js"
import { Redacted } from "effect"
import { connect, InFlight } from "./Server.js"
import { StreamableHttpTransport, sendJsonRpcError } from "./StreamableHttp.js"
import { VERSION } from "./version.js"

/** How the HTTP endpoint is served. */
export interface HttpOptions {
  readonly host: string
  readonly port: number
  /** Required on every `/mcp` request when set; required to bind beyond loopback. */
  readonly authToken: Redacted.Redacted<string> | undefined
  /** Extra `Origin` values to accept besides loopback origins. */
  readonly allowedOrigins: ReadonlyArray<string>
  /** Extra `Host` values to accept besides the bound address and loopback names. */
  readonly allowedHosts: ReadonlyArray<string>
  /** Sessions open at once; an initialize beyond it is answered 503. Default 1,000. */
  readonly maxSessions?: number
  /** A session with no request for this long is closed. */
  readonly sessionIdleMillis?: number
  readonly createServer: () => Server
  readonly inFlight: InFlight
  readonly log: (message: string) => void
}

/** A running endpoint. */
export interface HttpEndpoint {
  readonly url: string
  readonly sessions: () => number
  /** Stops taking requests, waits up to `graceMillis` for calls in flight, then closes everything. */
  readonly close: (graceMillis: number) => Promise<void>
}

const MAX_BODY_BYTES = 4 * 1024 * 1024
const LOOPBACK_HOSTS = new Set(["127.0.0.1", "localhost", "::1", "[::1]"])

/** Whether a host name or address is loopback. */
export const isLoopback = (host: string): boolean =>
  LOOPBACK_HOSTS.has(host) || /^127(?:\.\d{1,3}){3}$/.test(host)

const LOOPBACK_ORIGIN = /^https?:\/\/(localhost|127(?:\.\d{1,3}){3}|\[::1\])(:\d+)?$/

/** Refuses a configuration that would expose the server without a token. */
export const checkBinding = (
  host: string,
  authToken: Redacted.Redacted<string> | undefined
): string | undefined =>
  isLoopback(host) || authToken !== undefined
    ? undefined
    : `refusing to listen on ${host} without a bearer token: anyone who can reach it could change your Trackstar connections. Set --auth-token or TRACKSTAR_MCP_AUTH_TOKEN, or bind 127.0.0.1.`

const readBody = (req: IncomingMessage): Promise<string | undefined> =>
  new Promise((resolve, reject) => {
    const chunks: Array<Buffer> = []
    let size = 0
    req.on("data", (chunk: Buffer) => {
      size += chunk.length
      if (size > MAX_BODY_BYTES) {
        resolve(undefined)
        req.destroy()
      } else chunks.push(chunk)
    })
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")))
    req.on("error", reject)
  })

/** Compares digests, so neither the token's bytes nor its length show in the timing. */
const sameSecret = (given: string, expected: Redacted.Redacted<string>): boolean => {
  const digest = (text: string) => createHash("sha256").update(text).digest()
  return timingSafeEqual(digest(given), digest(Redacted.value(expected)))
}

interface Session {
  readonly transport: StreamableHttpTransport
  readonly server: Server
  lastSeen: number
}

/** Serves MCP over Streamable HTTP until `close` is called. */
export const serveHttp = async (options: HttpOptions): Promise<HttpEndpoint> => {
  const refusal = checkBinding(options.host, options.authToken)
  if (refusal !== undefined) throw new Error(refusal)
  const sessions = new Map<string, Session>()
  const maxSessions = options.maxSessions ?? 1_000
  // POSTs being answered: a call's result is written after its effect ends, so
  // shutdown waits for the responses, not only for the effects.
  const posts = new InFlight()
  let draining = false
  let allowedHosts = new Set<string>()

  const hostAllowed = (host: string | undefined) =>
    host !== undefined && allowedHosts.has(host.toLowerCase())
  const originAllowed = (origin: string | undefined) =>
    origin === undefined || LOOPBACK_ORIGIN.test(origin) || options.allowedOrigins.includes(origin)

  const startSession = async (req: IncomingMessage, res: ServerResponse, body: unknown) => {
    const server = options.createServer()
    const transport = new StreamableHttpTransport()
    transport.onclose = () => {
      sessions.delete(transport.sessionId)
    }
    await connect(server, transport)
    const answered = transport.handlePost(req, res, body)
    // Refused (a bad header, say), the session never started: nothing to keep.
    if (transport.isInitialized)
      sessions.set(transport.sessionId, { transport, server, lastSeen: performance.now() })
    else await server.close()
    return answered
  }

  const handleMcp = async (req: IncomingMessage, res: ServerResponse) => {
    if (options.authToken !== undefined) {
      const [scheme, given = ""] = (req.headers.authorization ?? "").trim().split(/\s+/, 2)
      if (scheme?.toLowerCase() !== "bearer" || !sameSecret(given, options.authToken)) {
        return sendJsonRpcError(
          res,
          401,
          "Unauthorized: send the server's token as 'Authorization: Bearer <token>'",
          {
            "www-authenticate": 'Bearer realm="trackstar-mcp"'
          }
        )
      }
    }
    if (draining)
      return sendJsonRpcError(res, 503, "The server is shutting down", { connection: "close" })
    const sessionHeader = req.headers["mcp-session-id"]
    const sessionId = Array.isArray(sessionHeader) ? sessionHeader[0] : sessionHeader
    let body: unknown
    if (req.method === "POST") {
      const text = await readBody(req)
      if (text === undefined)
        return sendJsonRpcError(res, 413, `Request body over ${MAX_BODY_BYTES} bytes`)
      try {
        body = JSON.parse(text)
      } catch {
        return sendJsonRpcError(res, 400, "Parse error: the body is not JSON")
      }
    }
    if (sessionId !== undefined) {
      const session = sessions.get(sessionId)
      if (session === undefined)
        return sendJsonRpcError(res, 404, "Session not found: start a new one with initialize")
      session.lastSeen = performance.now()
      if (req.method === "POST")
        return posts.track(() => session.transport.handlePost(req, res, body))
      if (req.method === "DELETE") {
        await session.transport.close()
        return void res.writeHead(200).end()
      }
      // This server sends nothing unprompted, so it offers no GET event stream.
      return sendJsonRpcError(
        res,
        405,
        "Method Not Allowed: use POST (or DELETE to end the session)",
        {
          allow: "POST, DELETE"
        }
      )
    }
    if (req.method === "POST" && isInitializeRequest(body)) {
      if (sessions.size >= maxSessions) {
        return sendJsonRpcError(
          res,
          503,
          `Too many sessions (${maxSessions}); close one, or retry later`
        )
      }
      return startSession(req, res, body)
    }
    return sendJsonRpcError(
      res,
      400,
      "Bad request: send initialize first, then the mcp-session-id header it returns"
    )
  }

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    if (!hostAllowed(req.headers.host)) {
      return sendJsonRpcError(
        res,
        403,
        `Host "${req.headers.host ?? ""}" is not allowed (DNS rebinding protection); see --allowed-hosts`
      )
    }
    if (!originAllowed(req.headers.origin)) {
      return sendJsonRpcError(
        res,
        403,
        `Origin "${req.headers.origin}" is not allowed; see --allowed-origins`
      )
    }
    const path = (req.url ?? "/").split("?")[0]
    if (path === "/healthz" && req.method === "GET") {
      res.writeHead(draining ? 503 : 200, { "content-type": "application/json" })
      return res.end(
        JSON.stringify({
          status: draining ? "draining" : "ok",
          version: VERSION,
          sessions: sessions.size
        })
      )
    }
    if (path === "/mcp") return handleMcp(req, res)
    return sendJsonRpcError(res, 404, "Not found: the MCP endpoint is /mcp, health is /healthz")
  }

  const http = createHttpServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      options.log(`HTTP request failed: ${error instanceof Error ? error.message : String(error)}`)
      if (!res.headersSent) sendJsonRpcError(res, 500, "Internal server error")
      else res.end()
    })
  })
  await new Promise<void>((resolve, reject) => {
    http.once("error", reject)
    http.listen(options.port, options.host, () => {
      http.off("error", reject)
      resolve()
    })
  })
  const address = http.address()
  const port = typeof address === "object" && address !== null ? address.port : options.port
  const bound = options.host.includes(":") ? `[${options.host}]` : options.host
  allowedHosts = new Set(
    [
      `${bound}:${port}`,
      `localhost:${port}`,
      `127.0.0.1:${port}`,
      `[::1]:${port}`,
      ...options.allowedHosts
    ].map((h) => h.toLowerCase())
  )

  const idleMillis = options.sessionIdleMillis ?? 30 * 60_000
  const sweeper = setInterval(
    () => {
      // performance.now() is monotonic: a step of the system clock ends no session.
      const cutoff = performance.now() - idleMillis
      for (const session of sessions.values())
        if (session.lastSeen < cutoff) session.transport.close().catch(() => undefined)
    },
    Math.min(idleMillis, 60_000)
  )
  sweeper.unref()

  return {
    url: `http://${bound}:${port}/mcp`,
    sessions: () => sessions.size,
    close: async (graceMillis) => {
      draining = true
      clearInterval(sweeper)
      const closed = new Promise<void>((resolve) => http.close(() => resolve()))
      http.closeIdleConnections()
      let timer: NodeJS.Timeout | undefined
      await Promise.race([
        Promise.all([options.inFlight.idle(), posts.idle()]),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, graceMillis)
        })
      ])
      clearTimeout(timer)
      await Promise.all(
        [...sessions.values()].map((s) => s.transport.close().catch(() => undefined))
      )
      http.closeAllConnections()
      await closed
    }
  }
}
