/**
 * Plain timers for time limits. Node runs a `setTimeout` longer than about
 * 24.8 days (2^31 - 1 ms), or `Infinity`, after 1 ms instead; a limit that
 * long means "never", so no timer is set for it.
 */

const LONGEST_TIMER_MILLIS = 2_147_483_647

/** Calls `f` after `millis`, or never when the limit is too long for a timer. */
export const after = (millis: number, f: () => void): ReturnType<typeof setTimeout> | undefined =>
  millis > LONGEST_TIMER_MILLIS || Number.isNaN(millis)
    ? undefined
    : setTimeout(f, Math.max(0, millis))
