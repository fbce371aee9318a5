/**
 * Plain timers for time limits, and the timeline they are measured on. Node
 * runs a `setTimeout` longer than about 24.8 days (2^31 - 1 ms), or `Infinity`,
 * after 1 ms instead; a limit that long means "never", so no timer is set for it.
 */
import type { Clock } from "effect"

/**
 * Milliseconds on the clock's monotonic timeline (`unsafeCurrentTimeNanos`,
 * epoch-based at start-up): unlike `Date.now()` it does not jump when the
 * system clock is stepped, so deadlines and pacing slots keep their length.
 * Under `TestClock` it is the test's time.
 */
export const monotonicMillis = (clock: Clock.Clock): number =>
  Number(clock.unsafeCurrentTimeNanos()) / 1_000_000

const LONGEST_TIMER_MILLIS = 2_147_483_647

/** Calls `f` after `millis`, or never when the limit is too long for a timer. */
export const after = (millis: number, f: () => void): ReturnType<typeof setTimeout> | undefined =>
  millis > LONGEST_TIMER_MILLIS || Number.isNaN(millis)
    ? undefined
    : setTimeout(f, Math.max(0, millis))
