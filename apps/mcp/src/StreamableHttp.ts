/**
 * The server side of one Streamable HTTP session (MCP 2025-03-26 and later),
 * on Node's own request and response objects.
 *
 * The SDK's transport converts every request to a WHATWG `Request`, answers
 * through a `ReadableStream` of server-sent events and converts back: on
 * loopback that is a quarter of the server's CPU per tool call. This one
 * writes to the `ServerResponse` directly, and answers a POST with plain JSON
 * unless a notification for one of its requests (progress, a log line) comes
 * before the answer; only then does it switch that response to an event
 * stream. Both are what the specification lets a server choose per POST.
 *
 * A call still unanswered after 10 s is switched to an event stream all the
 * same, with a comment line every 15 s, so that no client or proxy gives up on
 * a silent connection while Trackstar retries.
 *
 * A session has no GET stream (405): this server sends nothing unprompted, so
 * a message tied to no open POST has nowhere to go and is dropped, as the SDK
 * does without a GET stream. A client that drops a POST's connection does not
 * cancel its requests (the specification says so); their answers are dropped,
 * and their ids stay taken until then.
 */
import { randomUUID } from "node:crypto"
import type { IncomingMessage, ServerResponse } from "node:http"
import type { Transport, TransportSendOptions } from "@modelcontextprotocol/sdk/shared/transport.js"
import {
  CancelledNotificationSchema,
  type JSONRPCMessage,
  JSONRPCMessageSchema,
  type JSONRPCRequest,
  type RequestId,
  SUPPORTED_PROTOCOL_VERSIONS
} from "@modelcontextprotocol/sdk/types.js"

/** Most messages one POST may carry (a JSON-RPC batch, allowed by protocol 2025-03-26). */
const MAX_BATCH = 100

/** How long a POST's answer may stay silent before it becomes an event stream. */
const STREAM_AFTER_MILLIS = 10_000

/** How often an event stream waiting for its answers carries a comment line. */
const KEEP_ALIVE_MILLIS = 15_000

/** Writes a JSON-RPC error as the whole HTTP answer. */
export const sendJsonRpcError = (
  res: ServerResponse,
  status: number,
  message: string,
  headers: Record<string, string> = {},
  code = -32000
): void => {
  res.writeHead(status, { "content-type": "application/json", ...headers })
  res.end(JSON.stringify({ jsonrpc: "2.0", error: { code, message }, id: null }))
}

/** Which of our two answer formats an `Accept` header allows. */
const accepted = (header: string | undefined): { json: boolean; stream: boolean } => {
  if (header === undefined || header.trim() === "") return { json: true, stream: true }
  const types = header.split(",").map((part) => part.split(";")[0]?.trim().toLowerCase())
  const any = types.includes("*/*")
  return {
    json: any || types.includes("application/json") || types.includes("application/*"),
    stream: any || types.includes("text/event-stream") || types.includes("text/*")
  }
}

const isRequest = (m: JSONRPCMessage): m is JSONRPCRequest => "method" in m && "id" in m

/** The request an answer (a result or an error) is for; `undefined` for any other message. */
const answerTo = (m: JSONRPCMessage): RequestId | undefined =>
  "result" in m || "error" in m ? (m.id ?? undefined) : undefined

/** One POST with requests in it, waiting for their answers. */
interface Reply {
  readonly res: ServerResponse
  /** The POST's requests, in order; answered ones are in `answers`. */
  readonly ids: ReadonlyArray<RequestId>
  /** Answers by request id; `undefined` for a request the client cancelled (it gets none). */
  readonly answers: Map<RequestId, JSONRPCMessage | undefined>
  /** Whether the POST body was an array (the answer then is one too). */
  readonly batch: boolean
  readonly canStream: boolean
  streaming: boolean
  /** Switches a silent answer to an event stream, then keeps the stream alive. */
  timer: NodeJS.Timeout | undefined
}

/** One session's transport; `Http.ts` routes its POSTs here after checking host, origin and token. */
export class StreamableHttpTransport implements Transport {
  readonly sessionId = randomUUID()
  onclose?: (() => void) | undefined
  onerror?: ((error: Error) => void) | undefined
  onmessage?: Transport["onmessage"]
  private readonly replies = new Map<RequestId, Reply>()
  /** Ids of requests still running whose POST is gone: their answers go nowhere. */
  private readonly orphaned = new Set<RequestId>()
  private initialized = false
  private closed = false

  /** Whether this session has taken its initialize request. */
  get isInitialized(): boolean {
    return this.initialized
  }

  async start(): Promise<void> {}

  /** Ends the session: requests not yet answered get an error, and open answers are ended. */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    const open = [...this.replies]
    this.replies.clear()
    this.orphaned.clear()
    for (const [id, reply] of open) {
      this.answer(reply, id, {
        jsonrpc: "2.0",
        id,
        error: { code: -32000, message: "The session was closed before this request was answered" }
      })
    }
    this.onclose?.()
  }

  async send(message: JSONRPCMessage, options?: TransportSendOptions): Promise<void> {
    const answered = answerTo(message)
    if (answered !== undefined && this.orphaned.delete(answered)) return
    const id = answered ?? options?.relatedRequestId
    const reply = id === undefined ? undefined : this.replies.get(id)
    if (id === undefined || reply === undefined || reply.res.writableEnded) return
    if (answered !== undefined) {
      this.replies.delete(answered)
      this.answer(reply, answered, message)
    } else if (reply.canStream) {
      // The first message before the answers: this POST's answer becomes an event stream.
      if (!reply.streaming) this.startStream(reply)
      this.event(reply, message)
    }
  }

  /**
   * Handles one POST whose body `Http.ts` has parsed; resolves once its
   * answer is written or its client is gone.
   */
  handlePost(req: IncomingMessage, res: ServerResponse, body: unknown): Promise<void> {
    const done = new Promise<void>((resolve) => res.once("close", resolve))
    const formats = accepted(req.headers.accept)
    const refusal = this.refusal(req, body, formats)
    if (refusal !== undefined) {
      sendJsonRpcError(res, refusal.status, refusal.message, {}, refusal.code)
      return done
    }
    const batch = Array.isArray(body)
    const messages: Array<JSONRPCMessage> = []
    for (const item of batch ? body : [body]) {
      const parsed = JSONRPCMessageSchema.safeParse(item)
      if (!parsed.success) {
        sendJsonRpcError(
          res,
          400,
          `Invalid Request: ${JSON.stringify(item)?.slice(0, 200)} is not a JSON-RPC 2.0 request, notification or response`,
          {},
          -32600
        )
        return done
      }
      messages.push(parsed.data)
    }
    const ids = messages.filter(isRequest).map((m) => m.id)
    const duplicate = ids.find(
      (id, i) => this.replies.has(id) || this.orphaned.has(id) || ids.indexOf(id) !== i
    )
    if (duplicate !== undefined) {
      sendJsonRpcError(
        res,
        400,
        `Invalid Request: request id ${JSON.stringify(duplicate)} is already in use in this session (a request with it is still running); use a new id`,
        {},
        -32600
      )
      return done
    }
    if (messages.some((m) => "method" in m && m.method === "initialize")) this.initialized = true
    const extra = { requestInfo: { headers: req.headers } }
    if (ids.length === 0) {
      res.writeHead(202, { "mcp-session-id": this.sessionId }).end()
    } else {
      const { json, stream } = formats
      const reply: Reply = {
        res,
        ids,
        answers: new Map(),
        batch,
        canStream: stream,
        streaming: false,
        timer: undefined
      }
      if (json) {
        if (stream) reply.timer = setTimeout(() => this.startStream(reply), STREAM_AFTER_MILLIS)
      } else this.startStream(reply)
      for (const id of ids) this.replies.set(id, reply)
      // A client gone before its answers: they are dropped, the requests still run.
      res.once("close", () => {
        clearTimeout(reply.timer)
        for (const id of ids) {
          if (this.replies.get(id) !== reply) continue
          this.replies.delete(id)
          this.orphaned.add(id)
        }
      })
    }
    for (const message of messages) {
      this.onmessage?.(message, extra)
      this.settleCancelled(message)
    }
    return done
  }

  /** Why a POST cannot be taken at all, if it cannot. */
  private refusal(
    req: IncomingMessage,
    body: unknown,
    { json, stream }: { json: boolean; stream: boolean }
  ): { status: number; code: number; message: string } | undefined {
    if (this.closed)
      return {
        status: 404,
        code: -32001,
        message: "Session not found: start a new one with initialize"
      }
    if (!json && !stream)
      return {
        status: 406,
        code: -32000,
        message: "Not Acceptable: accept application/json and text/event-stream"
      }
    const type = (req.headers["content-type"] ?? "").split(";")[0]?.trim().toLowerCase()
    if (type !== "application/json")
      return {
        status: 415,
        code: -32000,
        message: "Unsupported Media Type: send the body as Content-Type: application/json"
      }
    const items = Array.isArray(body) ? body : [body]
    if (items.length === 0 || items.length > MAX_BATCH)
      return {
        status: 400,
        code: -32600,
        message: `Invalid Request: send one JSON-RPC message, or a batch of 1 to ${MAX_BATCH}`
      }
    const initializes = items.filter(
      (item) => typeof item === "object" && item !== null && item.method === "initialize"
    ).length
    if (initializes > 0 && (this.initialized || items.length > 1))
      return {
        status: 400,
        code: -32600,
        message: this.initialized
          ? "Invalid Request: this session is already initialized; start a new session without the mcp-session-id header"
          : "Invalid Request: initialize must be sent alone"
      }
    const version = req.headers["mcp-protocol-version"]
    if (
      initializes === 0 &&
      typeof version === "string" &&
      !SUPPORTED_PROTOCOL_VERSIONS.includes(version)
    )
      return {
        status: 400,
        code: -32000,
        message: `Bad Request: unsupported MCP-Protocol-Version ${JSON.stringify(version)}; this server supports ${SUPPORTED_PROTOCOL_VERSIONS.join(", ")}`
      }
    return undefined
  }

  /**
   * A cancelled request gets no answer (the server drops it), so its POST
   * would wait forever: it counts as settled once the server has seen the
   * cancellation.
   */
  private settleCancelled(message: JSONRPCMessage): void {
    if (!("method" in message) || message.method !== "notifications/cancelled") return
    // Exactly the cancellations the SDK acts on: a valid notification naming a truthy id.
    const parsed = CancelledNotificationSchema.safeParse(message)
    const id = parsed.success ? parsed.data.params.requestId : undefined
    if (id === undefined || id === "" || id === 0) return
    this.orphaned.delete(id)
    const reply = this.replies.get(id)
    if (reply === undefined) return
    this.replies.delete(id)
    this.answer(reply, id, undefined)
  }

  /** Makes a POST's answer an event stream, sending what it already has; then keeps it alive. */
  private startStream(reply: Reply): void {
    if (reply.streaming || reply.res.headersSent) return
    reply.streaming = true
    reply.res.writeHead(200, {
      "content-type": "text/event-stream",
      "cache-control": "no-cache",
      connection: "keep-alive",
      "mcp-session-id": this.sessionId
    })
    reply.res.flushHeaders()
    for (const earlier of reply.answers.values())
      if (earlier !== undefined) this.event(reply, earlier)
    clearTimeout(reply.timer)
    const keepAlive = () => {
      reply.res.write(": waiting for the answer\n\n")
      reply.timer = setTimeout(keepAlive, KEEP_ALIVE_MILLIS)
    }
    reply.timer = setTimeout(keepAlive, KEEP_ALIVE_MILLIS)
  }

  private event(reply: Reply, message: JSONRPCMessage): void {
    reply.res.write(`event: message\ndata: ${JSON.stringify(message)}\n\n`)
  }

  /**
   * Records one request's answer (`undefined` when cancelled); once all of the
   * POST's requests have one, ends the event stream or writes them as one JSON
   * body. When every request was cancelled there is nothing to write: an empty
   * event stream, or 202 for a client that takes JSON only.
   */
  private answer(reply: Reply, id: RequestId, message: JSONRPCMessage | undefined): void {
    if (reply.res.writableEnded) return
    reply.answers.set(id, message)
    if (reply.streaming && message !== undefined) this.event(reply, message)
    if (reply.answers.size < reply.ids.length) return
    clearTimeout(reply.timer)
    const answers = reply.ids.flatMap((each) => reply.answers.get(each) ?? [])
    if (answers.length === 0 && reply.canStream) this.startStream(reply)
    if (reply.streaming) {
      clearTimeout(reply.timer)
      reply.res.end()
      return
    }
    if (answers.length === 0) {
      reply.res.writeHead(202, { "mcp-session-id": this.sessionId }).end()
      return
    }
    reply.res.writeHead(200, {
      "content-type": "application/json",
      "mcp-session-id": this.sessionId
    })
    reply.res.end(JSON.stringify(reply.batch ? answers : answers[0]))
  }
}
