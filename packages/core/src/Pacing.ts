/**
 * Client-side pacing of writes per access token, so that a burst stays under
 * Trackstar's 50 writes/s per token instead of collecting 429s.
 *
 * A sliding window: the n-th write on a token may start no earlier than one
 * window after the (n - limit)-th. Any one-second span, aligned to the
 * server's clock or not, then holds at most `limit` writes, while the first
 * `limit` writes of an idle token go out at once (pacing never slows a lone
 * call). Tokens have independent windows, so one busy token delays no other.
 */

import { createHash } from "node:crypto"
import { Clock, Effect } from "effect"

/** Paces writes per key; `acquire` waits until the key may send again. */
export interface Pacer {
  readonly acquire: (key: string) => Effect.Effect<void>
}

/** A pacer that never waits. */
export const unpaced: Pacer = { acquire: () => Effect.void }

/**
 * Widens the window a little beyond one second, so that requests sent a full
 * second apart cannot land in the same server second after network jitter.
 */
const WINDOW_MARGIN_MILLIS = 25

/** Keeps only a digest of each token, so no secret sits in the pacer's state. */
const keyOf = (token: string): string => createHash("sha256").update(token).digest("base64url")

/** Idle windows are dropped after this long, so memory follows the active tokens. */
const IDLE_MILLIS = 60_000

/** Makes a pacer allowing `perSecond` starts per key in any one-second span. */
export const makePacer = (perSecond: number): Pacer => {
  if (perSecond <= 0) return unpaced
  const limit = Math.max(1, Math.floor(perSecond))
  const windowMillis = (1000 * limit) / perSecond + WINDOW_MARGIN_MILLIS
  // Per key: start times of the last `limit` reservations, as a ring.
  const rings = new Map<string, { readonly starts: Array<number>; next: number; last: number }>()
  let sweptAt = 0

  const sweep = (now: number) => {
    if (now - sweptAt < IDLE_MILLIS) return
    sweptAt = now
    for (const [key, ring] of rings) if (now - ring.last > IDLE_MILLIS) rings.delete(key)
  }

  const reserve = (key: string, now: number): number => {
    sweep(now)
    let ring = rings.get(key)
    if (ring === undefined) {
      ring = { starts: [], next: 0, last: now }
      rings.set(key, ring)
    }
    const slot = ring.next % limit
    const previous = ring.starts[slot]
    const start = previous === undefined ? now : Math.max(now, previous + windowMillis)
    ring.starts[slot] = start
    ring.next = slot + 1
    ring.last = Math.max(ring.last, start)
    return start - now
  }

  return {
    acquire: (token) =>
      Effect.flatMap(Clock.currentTimeMillis, (now) => {
        const wait = reserve(keyOf(token), now)
        return wait > 0 ? Effect.sleep(wait) : Effect.void
      })
  }
}
