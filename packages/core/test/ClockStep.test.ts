// A step of the system clock (NTP, a VM resumed) moves no deadline and no pacing slot: both run
// on the monotonic timeline. The clocks here step their wall-clock reading only.
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import type { Emulator } from "@trackstar-mcp/emulator"
import { Clock, Effect, TestClock } from "effect"
import { makePacer } from "../src/Pacing.js"
import { clientFor, newConnection, requestsFor, startEmulator } from "./support.js"

const HOUR = 3_600_000

/** `base`, but for a wall-clock reading `offset()` ms away from it. */
const steppedClock = (base: Clock.Clock, offset: () => number): Clock.Clock => ({
  [Clock.ClockTypeId]: Clock.ClockTypeId,
  unsafeCurrentTimeMillis: () => base.unsafeCurrentTimeMillis() + offset(),
  unsafeCurrentTimeNanos: () => base.unsafeCurrentTimeNanos(),
  currentTimeMillis: Effect.sync(() => base.unsafeCurrentTimeMillis() + offset()),
  currentTimeNanos: base.currentTimeNanos,
  sleep: (duration) => base.sleep(duration)
})

let emulator: Emulator
beforeAll(async () => {
  emulator = await startEmulator()
})
afterAll(() => emulator.stop())

describe("a stepped system clock", () => {
  it.live("leaves the call's deadline where it was: a retry still goes", () =>
    Effect.gen(function* () {
      const client = yield* clientFor(emulator)
      const { token, redacted } = newConnection(emulator)
      emulator.inject({ fault: { kind: "drop" }, accessToken: token, times: 1 })
      // Every reading of the wall clock is an hour past the one before: by it, the
      // 60 s deadline has passed before the retry.
      let readings = 0
      const clock = steppedClock(yield* Effect.clock, () => HOUR * readings++)
      const result = yield* client
        .updateConnection({ customer_id: "stepped" }, { accessToken: redacted })
        .pipe(Effect.withClock(clock))
      expect(result).toMatchObject({ attempts: 2 })
      expect(readings).toBeGreaterThan(0)
      expect(requestsFor(emulator, token)).toHaveLength(2)
    })
  )

  it.effect("leaves a cooling slot's time where it was when the clock steps back", () =>
    Effect.gen(function* () {
      let offset = 0
      const testClock = yield* Effect.clock
      const clock = steppedClock(testClock, () => offset)
      const pacer = makePacer(1)
      const starts: Array<number> = []
      const write = Effect.suspend(() => {
        starts.push(testClock.unsafeCurrentTimeMillis())
        return Effect.sleep(10)
      })
      yield* Effect.fork(pacer.pace("k", write).pipe(Effect.withClock(clock)))
      yield* TestClock.adjust(500)
      // The system clock goes back an hour; the slot is free at 1.015 s all the same.
      offset = -HOUR
      yield* TestClock.adjust(1500)
      yield* Effect.fork(pacer.pace("k", write).pipe(Effect.withClock(clock)))
      yield* TestClock.adjust(100)
      expect(starts).toStrictEqual([0, 2000])
    })
  )
})
