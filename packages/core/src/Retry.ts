/**
 * The retry policy of `updateConnection`.
 *
 * PATCH /connections sets fields to given values, so repeating it leaves the
 * connection in the same state (Trackstar documents it as idempotent). That is
 * why a request whose answer was lost (timeout, reset, 5xx) is safe to send
 * again. Only failures that may pass on their own are retried: 429, 500, 502,
 * 503, 504, transport failures and attempt timeouts. Other 4xx, 501 and
 * malformed answers would fail the same way again.
 */
import { Duration, Schedule } from "effect"
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

/** What the retry schedule needs from the client's settings. */
export interface RetrySettings {
  readonly maxAttempts: number
  readonly retryBaseDelay: Duration.Duration
  readonly retryMaxDelay: Duration.Duration
}

/**
 * Exponential backoff with jitter, capped at `retryMaxDelay`, for at most
 * `maxAttempts - 1` retries of transient failures. When Trackstar says how
 * long to wait (`retry-after`, `x-ratelimit-reset`), that wait wins over the
 * computed one. The deadline around the whole call bounds the total.
 */
export const retrySchedule = (
  settings: RetrySettings
): Schedule.Schedule<unknown, TrackstarError> =>
  Schedule.exponential(settings.retryBaseDelay, 2).pipe(
    Schedule.jittered,
    Schedule.modifyDelay((_, delay) => Duration.min(delay, settings.retryMaxDelay)),
    Schedule.intersect(Schedule.recurs(settings.maxAttempts - 1)),
    Schedule.intersect(Schedule.identity<TrackstarError>()),
    Schedule.whileInput(isTransient),
    Schedule.modifyDelay(([, error], delay) =>
      error._tag === "RateLimited" && error.retryAfterMillis !== undefined
        ? Duration.millis(error.retryAfterMillis)
        : delay
    )
  )
