/**
 * How the core sends through a client that can time a request itself.
 *
 * The core bounds every attempt. Over any `HttpClient` it does so with a timer
 * fiber around `execute` (Timing.ts). A client that also offers `TimedSend`,
 * such as NodeHttpClient, is handed the request and its limit directly: it
 * arms one plain timer on its socket, and the call skips the forked fiber and
 * the fiber-local settings `execute` would need (together about a fifth of
 * the core's own cost per call). When the limit passes, such a client aborts
 * the request and fails with a `RequestError` whose cause is a
 * `RequestTimedOut`. A wrapped client (`HttpClient.tapRequest`, say) loses
 * `TimedSend`, and the core falls back to `execute` and its own timer: what a
 * wrapper adds is never skipped, and a limit is never lost.
 */
import type { HttpClient, HttpClientRequest, HttpClientResponse } from "@effect/platform"
import type { RequestError, ResponseError } from "@effect/platform/HttpClientError"
import type { Effect } from "effect"

/** The key of a client's timed send. */
export const TimedSend: unique symbol = Symbol.for("@trackstar-mcp/core/TimedSend")

/** Sends one request, failing with a `RequestTimedOut` cause once `timeoutMillis` have passed. */
export type TimedSendFn = (
  request: HttpClientRequest.HttpClientRequest,
  timeoutMillis: number
) => Effect.Effect<HttpClientResponse.HttpClientResponse, RequestError | ResponseError>

/** A client's timed send, when it has one. */
export const timedSendOf = (client: HttpClient.HttpClient): TimedSendFn | undefined =>
  TimedSend in client ? (client as { readonly [TimedSend]: TimedSendFn })[TimedSend] : undefined

/** The cause of the `RequestError` of a request that ran out of time. */
export class RequestTimedOut extends Error {
  constructor(readonly millis: number) {
    super(`no complete answer within ${millis} ms`)
    this.name = "RequestTimedOut"
  }
}
