/**
 * A time limit an HTTP client may enforce itself on the request it sends.
 *
 * The core bounds every attempt. Over any `HttpClient` it does so with a
 * timer fiber around the request (Timing.ts); a client that carries the
 * `EnforcesRequestTimeout` mark, such as NodeHttpClient, instead reads the
 * limit from `currentRequestTimeout` and arms one plain timer on its socket,
 * which saves a forked fiber on every call. When the limit passes, such a
 * client aborts the request and fails with a `RequestError` whose cause is a
 * `RequestTimedOut`. A wrapped client (`HttpClient.tapRequest`, say) loses
 * the mark, and the core falls back to its own timer: a limit is never lost.
 */
import type { HttpClient } from "@effect/platform"
import { FiberRef, GlobalValue } from "effect"

/** The limit, in milliseconds, for requests sent by the current fiber; none when `undefined`. */
export const currentRequestTimeout: FiberRef.FiberRef<number | undefined> = GlobalValue.globalValue(
  Symbol.for("@trackstar-mcp/core/currentRequestTimeout"),
  () => FiberRef.unsafeMake<number | undefined>(undefined)
)

/** The cause of the `RequestError` of a request that ran out of time. */
export class RequestTimedOut extends Error {
  constructor(readonly millis: number) {
    super(`no complete answer within ${millis} ms`)
    this.name = "RequestTimedOut"
  }
}

/** Marks a client that honours `currentRequestTimeout`. */
export const EnforcesRequestTimeout: unique symbol = Symbol.for(
  "@trackstar-mcp/core/EnforcesRequestTimeout"
)

/** Whether a client enforces `currentRequestTimeout` itself. */
export const enforcesRequestTimeout = (client: HttpClient.HttpClient): boolean =>
  EnforcesRequestTimeout in client
