/**
 * What the client records in spans and log annotations, and what it keeps out
 * of them. Only the method, the path, statuses, request ids, attempt numbers
 * and outcomes: never a header value, a body or anything from a credential.
 */
import { Headers } from "@effect/platform"
import { Effect, Layer } from "effect"
import type { TrackstarError } from "./Errors.js"

/** Header names that carry secrets; registered so HTTP spans record them redacted. */
export const SECRET_HEADERS = ["x-trackstar-api-key", "x-trackstar-access-token"] as const

/**
 * Every header name but these few is also recorded redacted on the platform's
 * HTTP span, request and response alike: a proxy or a misbehaving server can
 * echo a credential in any header (even `x-request-id`), and these are all a
 * reader needs. The request id is on our attempt span, scrubbed, instead.
 */
const UNLISTED_HEADER =
  /^(?!(?:accept|content-type|content-length|date|retry-after|x-ratelimit-limit|x-ratelimit-remaining|x-ratelimit-reset)$)/

/** Runs a call with the secret and unlisted header names redacted on its HTTP spans. */
export const withRedactedHeaders = <A, E, R>(self: Effect.Effect<A, E, R>) =>
  Effect.locallyWith(self, Headers.currentRedactedNames, (names) => [
    ...names,
    ...SECRET_HEADERS,
    UNLISTED_HEADER
  ])

/**
 * Registers the secret header names for the whole program a layer is provided
 * to, not only inside each call: the platform's request and response objects
 * (in span exits, in a caller's logs) then print them redacted when logged.
 */
export const redactSecretHeaders: Layer.Layer<never> = Layer.scopedDiscard(
  Effect.locallyScopedWith(Headers.currentRedactedNames, (names) => [...names, ...SECRET_HEADERS])
)

/** The span around one `updateConnection` call, retries and waits included. */
export const CALL_SPAN = "TrackstarClient.updateConnection"

/** The span around one HTTP attempt of a call; the platform's `http.client` span is its child. */
export const ATTEMPT_SPAN = "TrackstarClient.attempt"

/** Attributes of both spans: what is being called (OpenTelemetry HTTP names). */
export const requestAttributes = (path: string): Record<string, string> => ({
  "http.request.method": "PATCH",
  "url.path": path
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
