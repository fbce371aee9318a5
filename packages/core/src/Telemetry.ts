/**
 * What the client records in spans and log annotations, and what it keeps out
 * of them. Only the method, the path, statuses, request ids, attempt numbers
 * and outcomes: never a header value, a body or anything from a credential.
 */
import { Headers, HttpClient } from "@effect/platform"
import { Context, DefaultServices, Effect, FiberRef, Layer, Tracer } from "effect"
import type { TrackstarError } from "./Errors.js"

/** Header names that carry secrets; registered so HTTP spans record them redacted. */
export const SECRET_HEADERS = ["x-trackstar-api-key", "x-trackstar-access-token"] as const

/**
 * Runs a call without the platform's own `http.client` span: the attempt span
 * is the CLIENT span of each request, with the same OpenTelemetry HTTP
 * attributes, so the platform's would only repeat it (one per attempt, and
 * about 100 µs of CPU each to record every header redacted). Without it no
 * header is ever recorded, and no trace header is sent to Trackstar.
 */
export const withoutPlatformSpan = <A, E, R>(self: Effect.Effect<A, E, R>) =>
  Effect.locally(self, HttpClient.currentTracerDisabledWhen, () => true)

/**
 * Registers the secret header names for the whole program a layer is provided
 * to, not only inside each call: the platform's request and response objects
 * (in span exits, in a caller's logs) then print them redacted when logged.
 */
export const redactSecretHeaders: Layer.Layer<never> = Layer.scopedDiscard(
  Effect.locallyScopedWith(Headers.currentRedactedNames, (names) => [...names, ...SECRET_HEADERS])
)

/** Effect's built-in tracer: it keeps spans in memory only, for no exporter to read. */
const builtInTracer = Context.get(DefaultServices.liveServices, Tracer.Tracer)

/**
 * Whether a span started now would reach anyone: a tracer other than Effect's
 * built-in one is installed (OpenTelemetry, say) and tracing is on. Otherwise
 * the client starts no span at all: spans cost about 40 µs each, a sizable
 * share of a call on a fast network, for records no one can read.
 */
export const isTracing: Effect.Effect<boolean> = Effect.tracerWith((tracer) =>
  tracer === builtInTracer ? Effect.succeed(false) : FiberRef.get(FiberRef.currentTracerEnabled)
)

/** The span around one `updateConnection` call, retries and waits included. */
export const CALL_SPAN = "TrackstarClient.updateConnection"

/** The CLIENT span of one HTTP attempt of a call. */
export const ATTEMPT_SPAN = "TrackstarClient.attempt"

/** Attributes of the call span: what is being called (OpenTelemetry HTTP names). */
export const requestAttributes = (endpoint: URL): Record<string, string> => ({
  "http.request.method": "PATCH",
  "url.path": endpoint.pathname
})

/**
 * Attributes of each attempt span, as OpenTelemetry names them for an HTTP
 * client span. The URL holds no secret: base URLs with user info, a query or
 * a fragment are refused (Config.ts).
 */
export const attemptAttributes = (
  endpoint: URL,
  attempt: number
): Record<string, string | number> => ({
  ...requestAttributes(endpoint),
  "url.full": endpoint.href,
  "server.address": endpoint.hostname,
  ...(endpoint.port === "" ? {} : { "server.port": Number(endpoint.port) }),
  "trackstar.attempt": attempt
})

/** Annotations on every log line of a call. */
export const LOG_ANNOTATIONS = { "trackstar.operation": "PATCH /connections" } as const

/** How a call or attempt that got an answer it could decode ended. */
export const successAttributes = (
  requestId: string | undefined
): Record<string, string | number> => ({
  "trackstar.outcome": "success",
  "http.response.status_code": 200,
  ...(requestId === undefined ? {} : { "trackstar.request_id": requestId })
})

/** How a call or attempt failed: the error's tag, and its status and request id where it has them. */
export const failureAttributes = (error: TrackstarError): Record<string, string | number> => ({
  "trackstar.outcome": error._tag,
  ...("status" in error ? { "http.response.status_code": error.status } : {}),
  ...("requestId" in error && error.requestId !== undefined
    ? { "trackstar.request_id": error.requestId }
    : {}),
  ...(error._tag === "Timeout" ? { "trackstar.timeout": error.scope } : {})
})
