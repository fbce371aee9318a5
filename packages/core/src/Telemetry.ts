/**
 * What the client records in spans and log annotations. Only the method, the
 * path, statuses, request ids, attempt numbers and outcomes: never a header
 * value, a body or anything derived from a credential.
 */
import type { TrackstarError } from "./Errors.js"

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
