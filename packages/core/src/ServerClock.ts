/**
 * What we can tell of Trackstar's clock from its rate-limit windows, so the
 * pacer can reuse a slot as soon as the server's window has moved on.
 *
 * Trackstar counts writes in fixed one-second windows aligned to epoch seconds
 * and says in `x-ratelimit-reset` when the window a request was counted in
 * ends. A request sent at local time `s` and answered by `r`, counted in the
 * window ending at `R` seconds, bounds the server's offset from our clock:
 * it was counted at or after `R - 1` s and before `R` s server time, and
 * somewhere between `s` and `r` ours, so `(R - 1) s - r <= offset < R s - s`.
 *
 * We wait by the lowest offset the answers allow, so the server's clock has
 * surely reached a time when ours shows it, whichever way the two differ. The
 * bound is loose at first (an answer read late in its window); it tightens as
 * answers come soon after a window begins, and a loose bound only shifts when
 * in each window a slot's write goes, not how many go.
 */

/** Bounds on the server's clock minus ours, in milliseconds. */
export interface ServerClock {
  /** Records an answer sent at `sentAt`, read by `answeredAt` (ours), counted in the window ending at `resetEpochSeconds`. */
  readonly observe: (sentAt: number, answeredAt: number, resetEpochSeconds: number) => void
  /** When our clock will show that the server's has surely reached `serverMillis`. */
  readonly toLocal: (serverMillis: number) => number
}

export const makeServerClock = (): ServerClock => {
  let lower = Number.NEGATIVE_INFINITY
  let upper = Number.POSITIVE_INFINITY
  return {
    observe: (sentAt, answeredAt, resetEpochSeconds) => {
      const low = (resetEpochSeconds - 1) * 1000 - answeredAt
      const high = resetEpochSeconds * 1000 - sentAt
      if (low > upper || high < lower) {
        // No single offset explains this answer and the earlier ones: the server's clock
        // was stepped (or another clock answered). Start again from this answer.
        lower = low
        upper = high
      } else {
        lower = Math.max(lower, low)
        upper = Math.min(upper, high)
      }
    },
    toLocal: (serverMillis) => serverMillis - lower
  }
}
