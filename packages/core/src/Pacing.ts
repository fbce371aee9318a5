/**
 * Client-side pacing of writes per access token, so that a burst stays under
 * Trackstar's 50 writes/s per token instead of collecting 429s. Its times are
 * on the monotonic timeline (`monotonicMillis`), deadlines included.
 *
 * Each token has `limit` slots, and a slot carries one write at a time. When
 * it may carry the next:
 * - **By the server's window**, when the answer said which one it was counted
 *   in (`x-ratelimit-reset`): as soon as that window has surely ended on the
 *   server's clock, as far as its answers bound that clock (ServerClock.ts).
 *   With fixed one-second windows, as that header describes, no window then
 *   counts more than `limit` writes, and a busy token gets the full `limit` in
 *   every window (a sliding second may see up to twice `limit`).
 * - **Otherwise, one window (a second, plus a margin) after the write ended.**
 *   Trackstar counts a request at some moment between our sending it and our
 *   reading its answer, so two writes on one slot are then counted at least a
 *   window apart, whatever the latency: no one-second span, aligned to the
 *   server's clock or not, sees more than `limit` writes. This costs one round
 *   trip per window of throughput per slot. It is also a token's rule for a
 *   while after a 429 on it, which pacing by windows should never meet: a
 *   minute, doubled (up to an hour) each time the windows meet 429s again.
 *
 * An idle token's first `limit` writes go out at once, so pacing never slows
 * a lone call, and tokens have separate slots, so one busy token delays no other.
 */

import { createHash } from "node:crypto"
import { Duration, Effect, Exit, Redacted } from "effect"
import { makeServerClock } from "./ServerClock.js"
import { monotonicMillis } from "./Timers.js"

/** A time by which a write must have started, and the failure if it cannot. */
export interface Deadline<E> {
  /** Milliseconds on the monotonic timeline (`monotonicMillis`). */
  readonly at: number
  readonly onDeadline: () => E
}

/** Paces writes per key; `pace` runs a write once the key may send again. */
export interface Pacer {
  /**
   * Runs `write` once `key` has a free slot. With a `deadline`, fails at once
   * when the slot would only be free after it, and stops waiting when it passes.
   * `countedIn` reads from how the write ended what the server said of its
   * rate-limit window, if anything.
   */
  readonly pace: <A, E, R, E2 = never>(
    key: string,
    write: Effect.Effect<A, E, R>,
    deadline?: Deadline<E2>,
    countedIn?: (exit: Exit.Exit<A, E>) => Counted | undefined
  ) => Effect.Effect<A, E | E2, R>
}

/** What an answer said of the server's rate-limit window. */
export interface Counted {
  /** When the window the write was counted in ends, epoch seconds (`x-ratelimit-reset`). */
  readonly resetEpochSeconds: number | undefined
  /** Whether the server refused the write as over its limit (a 429). */
  readonly refused: boolean
}

/** A pacer that never waits. */
export const unpaced: Pacer = { pace: (_, write) => write }

/**
 * Widens the window a little beyond one second, and waits as long past the end
 * of a server's window: timers may fire a millisecond early against the clock.
 */
const WINDOW_MARGIN_MILLIS = 5

/**
 * How long a 429 first stops slots from following the server's windows. Pacing
 * by them should never meet one; when it does, another sender used the token or
 * the server counts otherwise than its headers say (a sliding window), and only
 * the window after each write is safe. Each later run of 429s met while
 * following the windows doubles the pause, up to `REFUSED_PAUSE_MAX_MILLIS`, so
 * a server that never keeps to them costs one run an hour (at most `limit`
 * 429s, the writes then in flight, each retried), not one a minute.
 */
const REFUSED_PAUSE_MILLIS = 60_000
const REFUSED_PAUSE_MAX_MILLIS = 3_600_000

const keys = new WeakMap<Redacted.Redacted<string>, string>()

/**
 * The pacing key of a token: a digest, so no secret sits in the pacer's state.
 * It is kept per `Redacted` (a configured token is the same object on every
 * call), so a token is hashed once rather than on every write.
 */
export const tokenKey = (token: Redacted.Redacted<string>): string => {
  let key = keys.get(token)
  if (key === undefined) {
    key = createHash("sha256").update(Redacted.value(token)).digest("base64url")
    keys.set(token, key)
  }
  return key
}

/** Idle lanes are dropped after this long, so memory follows the active tokens. */
const IDLE_MILLIS = 60_000

/** A write waiting for one of its key's slots. */
interface Waiter {
  /** Hands this waiter a permit. */
  grant: () => void
  /** Whether a permit was handed to it (even if it stopped waiting at the same moment). */
  granted: boolean
  /** Set when it stopped waiting (interrupted, deadline): it is skipped, not removed. */
  cancelled: boolean
}

/**
 * One key's slots. Holding a permit guarantees a slot: every slot is either
 * in flight under another permit or cooling, and there are as many permits as
 * slots. Permits pass to waiters first come, first served; while anyone waits,
 * every permit is held, so a new write with a free permit jumps no queue.
 */
interface Lane {
  /** Permits held: writes in flight or sleeping until their slot is free. */
  held: number
  /** Waiters, oldest first from `head`. */
  readonly queue: Array<Waiter | undefined>
  head: number
  /** When each slot not in flight may send again, ascending. */
  readonly cooling: Array<number>
  /** Slots handed out so far; an idle key's first `limit` writes take fresh ones. */
  slots: number
  /** Writes waiting, sleeping or in flight; a lane in use is never swept. */
  users: number
  /** Until when a 429 keeps this key's slots off the server's windows. */
  windowsPausedUntil: number
  /** How long the latest run of 429s paused them; the next run pauses twice as long. */
  refusedPause: number
}

const insertSorted = (times: Array<number>, time: number): void => {
  let i = times.length
  while (i > 0 && (times[i - 1] ?? 0) > time) i--
  times.splice(i, 0, time)
}

/** Passes a released permit to the oldest live waiter, or returns it to the lane. */
const release = (lane: Lane): void => {
  while (lane.head < lane.queue.length) {
    const waiter = lane.queue[lane.head]
    lane.queue[lane.head] = undefined
    lane.head += 1
    if (waiter !== undefined && !waiter.cancelled) {
      if (lane.head > 1024 && lane.head * 2 > lane.queue.length) {
        lane.queue.splice(0, lane.head)
        lane.head = 0
      }
      waiter.grant()
      return
    }
  }
  lane.queue.length = 0
  lane.head = 0
  lane.held -= 1
}

/**
 * Makes a pacer allowing `perSecond` writes per key: in any one-second span, or,
 * where answers give the server's windows, in each of them.
 */
export const makePacer = (perSecond: number): Pacer => {
  if (perSecond <= 0) return unpaced
  const limit = Math.max(1, Math.floor(perSecond))
  const windowMillis = Math.ceil((1000 * limit) / perSecond) + WINDOW_MARGIN_MILLIS
  // The server's windows hold `limit` writes a second; a fractional rate is kept by slot
  // cycles shorter than a second, which only the window after each write keeps to.
  const serverClock = Number.isInteger(perSecond) ? makeServerClock() : undefined
  const lanes = new Map<string, Lane>()
  let sweptAt = 0

  const enter = (key: string, now: number): Lane => {
    if (now - sweptAt >= IDLE_MILLIS) {
      sweptAt = now
      for (const [k, lane] of lanes) {
        // A lane paused by a 429 is kept, or the pause would be forgotten.
        const idle = lane.users === 0 && (lane.cooling.at(-1) ?? 0) <= now
        if (idle && lane.windowsPausedUntil <= now) lanes.delete(k)
      }
    }
    let lane = lanes.get(key)
    if (lane === undefined) {
      lane = {
        held: 0,
        queue: [],
        head: 0,
        cooling: [],
        slots: 0,
        users: 0,
        windowsPausedUntil: Number.NEGATIVE_INFINITY,
        refusedPause: REFUSED_PAUSE_MILLIS
      }
      lanes.set(key, lane)
    }
    lane.users += 1
    return lane
  }

  /** A slot for the permit just taken: a fresh one, or the one free soonest. */
  const claim = (lane: Lane, now: number): number => {
    if (lane.slots < limit) {
      lane.slots += 1
      return now
    }
    return lane.cooling.shift() ?? now
  }

  /** When a slot of `lane` is free again after a write sent at `sentAt` ended at `ended`. */
  const freeAt = (
    lane: Lane,
    sentAt: number,
    ended: number,
    counted: Counted | undefined
  ): number => {
    if (counted?.refused) {
      // A 429 on a write sent while the windows were followed starts a new run of them
      // (twice as long a pause as the last run's); the others, sent before the first of
      // their run was answered or during its pause, extend that run's pause.
      if (sentAt >= lane.windowsPausedUntil && lane.windowsPausedUntil > Number.NEGATIVE_INFINITY)
        lane.refusedPause = Math.min(2 * lane.refusedPause, REFUSED_PAUSE_MAX_MILLIS)
      lane.windowsPausedUntil = Math.max(lane.windowsPausedUntil, ended + lane.refusedPause)
    }
    const reset = counted?.resetEpochSeconds
    if (serverClock === undefined || reset === undefined) return ended + windowMillis
    serverClock.observe(sentAt, ended, reset)
    if (ended < lane.windowsPausedUntil) return ended + windowMillis
    return Math.min(ended + windowMillis, serverClock.toLocal(reset * 1000) + WINDOW_MARGIN_MILLIS)
  }

  const leave = (lane: Lane): void => {
    release(lane)
    lane.users -= 1
  }

  /**
   * Waits for a permit. An interruption only stops the wait; what the lane is
   * owed is settled once, in `pace`, from how the wait ended.
   */
  const waitForPermit = (lane: Lane, waiter: Waiter): Effect.Effect<void> =>
    Effect.async<void>((resume) => {
      waiter.grant = () => {
        waiter.granted = true
        resume(Effect.void)
      }
      lane.queue.push(waiter)
      return Effect.sync(() => {
        waiter.cancelled = true
      })
    })

  /** The wait, bounded by the deadline on the clock's own time (only writes that wait pay for it). */
  const waitUntil = <E2>(
    lane: Lane,
    waiter: Waiter,
    now: number,
    deadline: Deadline<E2> | undefined
  ): Effect.Effect<void, E2> =>
    deadline === undefined
      ? waitForPermit(lane, waiter)
      : Effect.timeoutFail(waitForPermit(lane, waiter), {
          duration: Duration.millis(Math.max(0, deadline.at - now)),
          onTimeout: deadline.onDeadline
        })

  return {
    pace: <A, E, R, E2 = never>(
      key: string,
      write: Effect.Effect<A, E, R>,
      deadline?: Deadline<E2>,
      countedIn?: (exit: Exit.Exit<A, E>) => Counted | undefined
    ): Effect.Effect<A, E | E2, R> =>
      Effect.uninterruptibleMask((restore) =>
        Effect.clockWith((clock) => {
          const entered = monotonicMillis(clock)
          const lane = enter(key, entered)
          const send = (): Effect.Effect<A, E | E2, R> => {
            const now = monotonicMillis(clock)
            const readyAt = claim(lane, now)
            // A write that could only start at or after the deadline is not sent at all.
            if (deadline !== undefined && Math.max(readyAt, now) >= deadline.at) {
              insertSorted(lane.cooling, readyAt)
              leave(lane)
              return Effect.fail(deadline.onDeadline())
            }
            // Ready now, the write starts at once (this runs as the effect runs), so even
            // if it is interrupted at once its slot cools: the safe side.
            let sentAt = readyAt <= now ? now : undefined
            const go =
              sentAt !== undefined
                ? write
                : Effect.zipRight(
                    Effect.sleep(readyAt - now),
                    Effect.suspend(() => {
                      sentAt = monotonicMillis(clock)
                      return write
                    })
                  )
            // Interrupted while sleeping for its slot, the slot keeps its old time; otherwise
            // it is free once the server's window has ended, or a window after the write ended.
            return Effect.onExit(restore(go), (exit) =>
              Effect.sync(() => {
                insertSorted(
                  lane.cooling,
                  sentAt === undefined
                    ? readyAt
                    : freeAt(lane, sentAt, monotonicMillis(clock), countedIn?.(exit))
                )
                leave(lane)
              })
            )
          }
          if (lane.held < limit) {
            lane.held += 1
            return send()
          }
          const waiter: Waiter = { grant: () => {}, granted: false, cancelled: false }
          return Effect.flatMap(
            Effect.exit(restore(waitUntil(lane, waiter, entered, deadline))),
            (exit): Effect.Effect<A, E | E2, R> => {
              if (Exit.isSuccess(exit)) return send()
              // Stopped waiting (deadline, interruption), perhaps just as a permit came:
              // pass that permit on, and leave the lane either way.
              waiter.cancelled = true
              if (waiter.granted) leave(lane)
              else lane.users -= 1
              return Effect.failCause(exit.cause)
            }
          )
        })
      )
  }
}
