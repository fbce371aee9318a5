/**
 * An `HttpClient` over `node:http` and `node:https` with keep-alive agents:
 * on Node it sends a small JSON request in about half the time and a third
 * of the CPU of the global `fetch` (see docs/benchmarks.md), and it never
 * follows a redirect. Each answer is read whole before it is handed over,
 * which suits JSON APIs such as Trackstar's; it is not meant for streaming
 * downloads or uploads (stream and form bodies are refused).
 */
import * as http from "node:http"
import * as https from "node:https"
import {
  HttpClient,
  type HttpClientRequest,
  type HttpClientResponse,
  UrlParams
} from "@effect/platform"
import { type HttpClientError, RequestError, ResponseError } from "@effect/platform/HttpClientError"
import { Effect, Either, FiberRef, Layer, Option } from "effect"
import { BufferedResponse } from "./BufferedResponse.js"
import { RequestTimedOut, TimedSend, type TimedSendFn } from "./TimedSend.js"
import { after } from "./Timers.js"

/** Options of the layer. */
export interface NodeHttpClientOptions {
  /** Sockets open at once per origin (default 256). */
  readonly maxSockets?: number
  /**
   * How long an idle socket is kept for the next request (default 4 s): below
   * the 5 s after which common servers close idle keep-alive sockets. A server
   * that closes them sooner may still close one under a request, which then
   * fails as a transport error (and the core retries it).
   */
  readonly idleSocketMillis?: number
  /** Largest answer body read, in bytes (default 8 MiB); a larger one fails. */
  readonly maxBodyBytes?: number
}

/** The bytes of an in-memory body, or a reason it cannot be sent. */
const payloadOf = (body: HttpClientRequest.HttpClientRequest["body"]): Uint8Array | string => {
  switch (body._tag) {
    case "Empty":
      return ""
    case "Uint8Array":
      return body.body
    case "Raw":
      if (typeof body.body === "string" || body.body instanceof Uint8Array) return body.body
      throw new TypeError("a raw body must be a string or a Uint8Array")
    default:
      throw new TypeError(`${body._tag} bodies are not supported by this client`)
  }
}

/** The cause of the `ResponseError` of an answer larger than `maxBodyBytes`. */
export class BodyTooLarge extends Error {
  constructor(readonly maxBodyBytes: number) {
    super(`the answer body is larger than ${maxBodyBytes} bytes`)
    this.name = "BodyTooLarge"
  }
}

/** Node's codes for a URL it cannot send to. */
const URL_CODES: ReadonlySet<unknown> = new Set(["ERR_INVALID_URL", "ERR_INVALID_PROTOCOL"])

const send = (
  request: HttpClientRequest.HttpClientRequest,
  url: URL | string,
  signal: AbortSignal | undefined,
  timeoutMillis: number | undefined,
  agents: { readonly http: http.Agent; readonly https: https.Agent },
  maxBodyBytes: number
): Effect.Effect<HttpClientResponse.HttpClientResponse, RequestError | ResponseError> =>
  Effect.async((reply) => {
    // Node may report more than one ending (an error after an abort, say); the first one counts.
    let settled = false
    let timer: ReturnType<typeof setTimeout> | undefined
    const resume = (
      effect: Effect.Effect<HttpClientResponse.HttpClientResponse, RequestError | ResponseError>
    ) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      reply(effect)
    }
    let payload: Uint8Array | string
    try {
      payload = payloadOf(request.body)
    } catch (cause) {
      resume(Effect.fail(new RequestError({ request, reason: "Encode", cause })))
      return
    }
    const secure =
      (typeof url === "string" ? url.slice(0, 6) : url.protocol).toLowerCase() === "https:"
    // Node reports the close of every answer, even a complete one: build no error then,
    // as capturing its stack costs more than the rest of the request's bookkeeping.
    const transportError = (cause: () => unknown) => {
      if (!settled)
        resume(Effect.fail(new RequestError({ request, reason: "Transport", cause: cause() })))
    }
    let outgoing: http.ClientRequest
    try {
      outgoing = (secure ? https : http).request(
        url,
        {
          method: request.method,
          headers: request.headers,
          agent: secure ? agents.https : agents.http,
          ...(signal === undefined ? {} : { signal })
        },
        (message) => receive(message)
      )
    } catch (cause) {
      // Node throws at once for a URL, method or header it cannot send.
      const code =
        typeof cause === "object" && cause !== null && "code" in cause ? cause.code : undefined
      resume(
        Effect.fail(
          new RequestError({
            request,
            reason: URL_CODES.has(code) ? "InvalidUrl" : "Encode",
            cause
          })
        )
      )
      return
    }
    let answered = false
    const receive = (message: http.IncomingMessage) => {
      answered = true
      const chunks: Array<Buffer> = []
      let size = 0
      message.on("data", (chunk: Buffer) => {
        size += chunk.length
        if (size > maxBodyBytes) {
          const response = new BufferedResponse(
            request,
            message.statusCode ?? 0,
            message,
            Buffer.alloc(0)
          )
          resume(
            Effect.fail(
              new ResponseError({
                request,
                response,
                reason: "Decode",
                cause: new BodyTooLarge(maxBodyBytes)
              })
            )
          )
          message.destroy()
        } else chunks.push(chunk)
      })
      message.on("end", () => {
        resume(
          Effect.succeed(
            new BufferedResponse(
              request,
              message.statusCode ?? 0,
              message,
              Buffer.concat(chunks, size)
            )
          )
        )
      })
      // A body cut short (the server dropped the connection mid-answer) is a transport
      // failure; so is a close without an end, should Node report no error for it.
      message.on("error", (error) => transportError(() => error))
      message.on("close", () => transportError(() => new Error("the answer ended early")))
    }
    outgoing.on("error", (error) => transportError(() => error))
    outgoing.on("close", () => {
      if (!answered) transportError(() => new Error("closed before an answer"))
    })
    if (timeoutMillis !== undefined)
      timer = after(timeoutMillis, () => {
        transportError(() => new RequestTimedOut(timeoutMillis))
        outgoing.destroy()
      })
    outgoing.end(payload)
    // Interrupted while waiting: the request is aborted and its socket closed.
    return Effect.sync(() => {
      settled = true
      clearTimeout(timer)
      outgoing.destroy()
    })
  })

/** Where a request goes: its own URL string when it has no query parameters or fragment. */
const urlOf = (
  request: HttpClientRequest.HttpClientRequest
): Either.Either<URL | string, unknown> =>
  request.urlParams.length === 0 && Option.isNone(request.hash)
    ? Either.right(request.url)
    : UrlParams.makeUrl(request.url, request.urlParams, request.hash)

/**
 * Makes the client from its agents. A request that the platform would trace
 * (the tracer on, and not disabled for it by `HttpClient.withTracerDisabledWhen`)
 * goes through `HttpClient.make`, which records its `http.client` span; any
 * other is sent directly, without the span's bookkeeping, the AbortController
 * and the URL parsing that come with it (about a third of the client's CPU on
 * loopback). Interrupting either aborts the request. The client also offers
 * `TimedSend` (see TimedSend.ts), through which the core sends its requests.
 */
export const make = (
  agents: { readonly http: http.Agent; readonly https: https.Agent },
  options: Pick<NodeHttpClientOptions, "maxBodyBytes"> = {}
): HttpClient.HttpClient => {
  const maxBodyBytes = options.maxBodyBytes ?? 8 * 1024 * 1024
  const traced = HttpClient.make((request, url, signal) =>
    send(request, url, signal, undefined, agents, maxBodyBytes)
  )
  const direct = (request: HttpClientRequest.HttpClientRequest, timeoutMillis?: number) =>
    Either.match(urlOf(request), {
      onLeft: (cause) => Effect.fail(new RequestError({ request, reason: "InvalidUrl", cause })),
      onRight: (url) => send(request, url, undefined, timeoutMillis, agents, maxBodyBytes)
    })
  const client = HttpClient.makeWith<never, never, HttpClientError, never>(
    (effect) =>
      Effect.flatMap(effect, (request) =>
        Effect.withFiberRuntime<HttpClientResponse.HttpClientResponse, HttpClientError>((fiber) =>
          !fiber.getFiberRef(FiberRef.currentTracerEnabled) ||
          fiber.getFiberRef(HttpClient.currentTracerDisabledWhen)(request)
            ? direct(request)
            : traced.execute(request)
        )
      ),
    Effect.succeed
  )
  const timedSend: TimedSendFn = direct
  return Object.assign(client, { [TimedSend]: timedSend })
}

/** The client with keep-alive agents of its own, destroyed when the layer's scope closes. */
export const layer = (options: NodeHttpClientOptions = {}): Layer.Layer<HttpClient.HttpClient> =>
  Layer.scoped(
    HttpClient.HttpClient,
    Effect.map(
      Effect.acquireRelease(
        Effect.sync(() => {
          const settings = {
            keepAlive: true,
            maxSockets: options.maxSockets ?? 256,
            // Only idle sockets are closed on this timeout; a request in flight is bounded by the caller.
            timeout: options.idleSocketMillis ?? 4_000,
            scheduling: "lifo" as const
          }
          return { http: new http.Agent(settings), https: new https.Agent(settings) }
        }),
        (agents) =>
          Effect.sync(() => {
            agents.http.destroy()
            agents.https.destroy()
          })
      ),
      (agents) => make(agents, options)
    )
  )
