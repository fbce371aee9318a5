/**
 * The retry policy of `updateConnection`.
 *
 * Retrying is safe because PATCH /connections is idempotent: it sets fields to
 * given values, so sending the same body twice leaves the connection in the
 * same state as sending it once (Trackstar documents this; see
 * trackstar-api-facts.md, "Idempotency"). A request whose answer was lost
 * (timeout, reset, 5xx) may or may not have been applied, and sending it again
 * cannot apply it "twice". That is the only reason we retry writes at all.
 *
 * Only failures that may pass on their own are retried: 429, 500, 502, 503,
 * 504, transport failures and attempt timeouts. 401/403 and every other 4xx,
 * 501 and malformed answers would fail the same way again.
 */
import { Duration, type Effect, Random } from "effect"
import type { TrackstarError } from "./Errors.js"

const TRANSIENT_STATUSES: ReadonlySet<number> = new Set([500, 502, 503, 504])

/** Whether a failure may succeed if the same request is sent again. */
export const isTransient = (error: TrackstarError): boolean => {
  switch (error._tag) {
    case "RateLimited":
    case "TransportError":
      return true
    case "Timeout":
      return error.scope === "attempt"
    case "ServerError":
      return TRANSIENT_STATUSES.has(error.status)
    default:
      return false
  }
}

/** The wait a failure asked for (`retry-after`, `x-ratelimit-reset`), if any. */
const advisedWait = (error: TrackstarError): number | undefined =>
  error._tag === "RateLimited" || error._tag === "ServerError" ? error.retryAfterMillis : undefined

/** What the retry schedule needs from the client's settings. */
export interface RetrySettings {
  readonly maxAttempts: number
  readonly retryBaseDelay: Duration.Duration
  readonly retryMaxDelay: Duration.Duration
}

/**
 * How long to wait before retrying after attempt number `attempt` failed with
 * `error`, or `undefined` when the call should fail with that error now.
 *
 * Exponential backoff with jitter (base, 2x base, 4x base... each scaled by
 * `jitter`, from 0.8 to 1.2, and capped at `retryMaxDelay`), for at most
 * `maxAttempts - 1` retries of transient failures. When Trackstar says how long
 * to wait (`retry-after` as seconds or an HTTP date, else `x-ratelimit-reset`),
 * that wait is a floor, even beyond `retryMaxDelay`: never sooner than it asks,
 * nor sooner than backoff (a `retry-after: 0` must not turn the remaining
 * attempts into a tight loop).
 *
 * With `deadlineAt` (on the timeline of `now`: the client's monotonic one), a
 * retry whose wait would end after the deadline is not attempted: the call
 * fails at once with the error that prompted it (a `RateLimited` that says how
 * long to wait is more use to a caller than a `Timeout` reached by sleeping).
 */
export const retryDelay = (
  settings: RetrySettings,
  attempt: number,
  error: TrackstarError,
  now: number,
  deadlineAt: number,
  jitter: number
): number | undefined => {
  if (attempt >= settings.maxAttempts || !isTransient(error)) return undefined
  const backoff = Math.min(
    Duration.toMillis(settings.retryBaseDelay) * 2 ** (attempt - 1) * jitter,
    Duration.toMillis(settings.retryMaxDelay)
  )
  const delay = Math.max(backoff, advisedWait(error) ?? 0)
  return now + delay < deadlineAt ? delay : undefined
}

/** A jitter factor for `retryDelay`, from 0.8 to 1.2 (Effect's `Random`, so tests can fix it). */
export const jitter: Effect.Effect<number> = Random.nextRange(0.8, 1.2)
