/**
 * What we can tell of Trackstar's clock from its rate-limit windows, so the
 * pacer can reuse a slot as soon as the server's window has moved on.
 *
 * We read `x-ratelimit-reset` ("epoch seconds when the window resets") as
 * fixed one-second windows aligned to epoch seconds: the window a request was
 * counted in ends then. A request sent at local time `s` and answered by `r`,
 * counted in the window ending at `R` seconds, bounds the server's offset from
 * our clock: it was counted at or after `R - 1` s and before `R` s server time,
 * and somewhere between `s` and `r` ours, so `(R - 1) s - r <= offset < R s - s`.
 *
 * We wait by the lowest offset the answers allow, so the server's clock has
 * surely reached a time when ours shows it, whichever way the two differ. The
 * bound is loose at first (an answer read late in its window); it tightens as
 * answers come soon after a window begins, and a loose bound only shifts when
 * in each window a slot's write goes, not how many go.
 *
 * Two clocks drift apart, so an old answer's bound loosens by `DRIFT_PER_MILLI`
 * for every millisecond since it was read, and fresh answers tighten it again.
 * That covers ntpd's fastest slew (0.5 ms a second) twice over; a clock slewed
 * faster (chrony may, to correct a large offset) can make a write go early,
 * meet a 429 and put its token on the pacer's safe rule for a while.
 *
 * On a token kept busy, few answers tighten the bounds (its writes go just
 * after a window ends, so their answers say little): the bounds close in on
 * each other until, after about 1,000 s, they cross and start again from the
 * next answer, costing a window or two that is not full (4 writes short in
 * 7,500 over 25 minutes, in a one-off TestClock run).
 *
 * Local times come from a monotonic clock (`monotonicMillis`), so a step of our
 * system clock moves nothing; a step of the server's is seen when an answer
 * contradicts the bounds, and a step backwards before then is what the pacer's
 * 429 rule is for.
 */

/** How fast bounds loosen: 1 ms a second. */
const DRIFT_PER_MILLI = 0.001

/** Bounds on the server's clock minus ours, in milliseconds. */
export interface ServerClock {
  /** Records an answer sent at `sentAt`, read by `answeredAt` (ours), counted in the window ending at `resetEpochSeconds`. */
  readonly observe: (sentAt: number, answeredAt: number, resetEpochSeconds: number) => void
  /**
   * When our clock will show that the server's has surely reached `serverMillis`, by the
   * bounds as of the last answer (the pacer asks right after recording one).
   */
  readonly toLocal: (serverMillis: number) => number
}

export const makeServerClock = (): ServerClock => {
  let lower = Number.NEGATIVE_INFINITY
  let upper = Number.POSITIVE_INFINITY
  /** When the bounds were last set: they have loosened since. */
  let boundsAt = 0
  return {
    observe: (sentAt, answeredAt, resetEpochSeconds) => {
      const drift = Math.max(0, answeredAt - boundsAt) * DRIFT_PER_MILLI
      const lowest = lower - drift
      const highest = upper + drift
      const low = (resetEpochSeconds - 1) * 1000 - answeredAt
      const high = resetEpochSeconds * 1000 - sentAt
      boundsAt = answeredAt
      if (low > highest || high < lowest) {
        // No single offset explains this answer and the earlier ones: the server's clock
        // was stepped (or another clock answered). Start again from this answer.
        lower = low
        upper = high
      } else {
        lower = Math.max(lowest, low)
        upper = Math.min(highest, high)
      }
    },
    toLocal: (serverMillis) => serverMillis - lower
  }
}
