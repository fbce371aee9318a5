/** What the limiter decided for one request, with the values of its rate-limit headers. */
export interface RateDecision {
  readonly allowed: boolean
  readonly limit: number
  readonly remaining: number
  /** Epoch seconds at which the current window ends. */
  readonly reset: number
  /** Whole seconds to wait before retrying (at least 1). */
  readonly retryAfter: number
}

interface Window {
  start: number
  count: number
}

/** Counts requests per key in fixed one-second windows aligned to epoch seconds. */
export class FixedWindowLimiter {
  readonly #windows = new Map<string, Window>()

  /** Creates a limiter allowing `limit` requests per key per second. */
  constructor(readonly limit: number) {}

  /** Counts one request for `key` at `nowMs` and says whether it is within the limit. */
  take(key: string, nowMs: number): RateDecision {
    const start = Math.floor(nowMs / 1000)
    let window = this.#windows.get(key)
    if (window === undefined || window.start !== start) {
      window = { start, count: 0 }
      this.#windows.set(key, window)
    }
    window.count += 1
    const reset = start + 1
    return {
      allowed: window.count <= this.limit,
      limit: this.limit,
      remaining: Math.max(0, this.limit - window.count),
      reset,
      retryAfter: Math.max(1, Math.ceil(reset - nowMs / 1000))
    }
  }
}
