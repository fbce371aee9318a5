/**
 * Client-side pacing of writes per access token, so that a burst stays under
 * Trackstar's 50 writes/s per token instead of collecting 429s.
 *
 * Each token has `limit` slots. A write holds a slot while it is in flight,
 * and the slot may carry the next write only one window (a second, plus a
 * margin) after that write *ended*. Trackstar counts a request at some moment
 * between our sending it and our reading its answer, so two writes on one
 * slot are always counted at least a window apart, whatever the latency:
 * no one-second span, aligned to the server's clock or not, sees more than
 * `limit` writes. (Spacing the *starts* a window apart is not enough: under
 * load, requests queue for tens or hundreds of milliseconds on the way, and a
 * late one lands in the next second with the following batch.)
 *
 * The cost is one round trip per window of throughput per slot; on loopback
 * that is about 2%, against Trackstar's ~100 ms about 10%, which is cheaper
 * than a single 429 and its one-second `retry-after`.
 *
 * An idle token's first `limit` writes go out at once, so pacing never slows
 * a lone call, and tokens have separate slots, so one busy token delays no other.
 */

import { createHash } from "node:crypto"
import { Clock, Effect } from "effect"

/** Paces writes per key; `pace` runs a write once the key may send again. */
export interface Pacer {
  readonly pace: <A, E, R>(key: string, write: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
}

/** A pacer that never waits. */
export const unpaced: Pacer = { pace: (_, write) => write }

/**
 * Widens the window a little beyond one second: timers may fire a millisecond
 * early against the wall clock the server counts with.
 */
const WINDOW_MARGIN_MILLIS = 5

/** Keeps only a digest of each token, so no secret sits in the pacer's state. */
const keyOf = (token: string): string => createHash("sha256").update(token).digest("base64url")

/** Idle lanes are dropped after this long, so memory follows the active tokens. */
const IDLE_MILLIS = 60_000

/** One key's slots. */
interface Lane {
  /** One permit per slot: taken while a write waits for its slot or is in flight. */
  readonly permits: Effect.Semaphore
  /** When each slot not in flight may send again, ascending. */
  readonly cooling: Array<number>
  /** Slots handed out so far; an idle key's first `limit` writes take fresh ones. */
  slots: number
  /** Fibers waiting for or holding a permit; a lane in use is never swept. */
  users: number
}

const insertSorted = (times: Array<number>, time: number): void => {
  let i = times.length
  while (i > 0 && (times[i - 1] ?? 0) > time) i--
  times.splice(i, 0, time)
}

/** Makes a pacer allowing `perSecond` writes per key in any one-second span. */
export const makePacer = (perSecond: number): Pacer => {
  if (perSecond <= 0) return unpaced
  const limit = Math.max(1, Math.floor(perSecond))
  const windowMillis = Math.ceil((1000 * limit) / perSecond) + WINDOW_MARGIN_MILLIS
  const lanes = new Map<string, Lane>()
  let sweptAt = 0

  const enter = (key: string, now: number): Lane => {
    if (now - sweptAt >= IDLE_MILLIS) {
      sweptAt = now
      for (const [k, lane] of lanes) {
        if (lane.users === 0 && (lane.cooling.at(-1) ?? 0) <= now) lanes.delete(k)
      }
    }
    let lane = lanes.get(key)
    if (lane === undefined) {
      lane = { permits: Effect.unsafeMakeSemaphore(limit), cooling: [], slots: 0, users: 0 }
      lanes.set(key, lane)
    }
    lane.users += 1
    return lane
  }

  // Holding a permit guarantees a slot: every slot is either in flight under
  // another permit or cooling, and there are as many permits as slots.
  const claim = (lane: Lane, now: number): number => {
    if (lane.slots < limit) {
      lane.slots += 1
      return now
    }
    return lane.cooling.shift() ?? now
  }

  return {
    pace: (token, write) =>
      Effect.uninterruptibleMask((restore) =>
        Effect.flatMap(Clock.currentTimeMillis, (entered) => {
          const lane = enter(keyOf(token), entered)
          const turn = Effect.flatMap(restore(lane.permits.take(1)), () =>
            Effect.flatMap(Clock.currentTimeMillis, (now) => {
              const readyAt = claim(lane, now)
              let sent = false
              const go = Effect.zipRight(
                readyAt > now ? Effect.sleep(readyAt - now) : Effect.void,
                Effect.suspend(() => {
                  sent = true
                  return write
                })
              )
              // Interrupted before sending, the slot keeps its old time; otherwise it
              // cools for a window from the moment the write ended, however it ended.
              return Effect.onExit(restore(go), () =>
                Effect.flatMap(Clock.currentTimeMillis, (ended) => {
                  insertSorted(lane.cooling, sent ? ended + windowMillis : readyAt)
                  return lane.permits.release(1)
                })
              )
            })
          )
          return Effect.ensuring(
            turn,
            Effect.sync(() => {
              lane.users -= 1
            })
          )
        })
      )
  }
}
