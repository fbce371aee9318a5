// The cheap time limit used around attempts: it fires, it interrupts, it ignores limits
// too long for a timer.
import { describe, expect, it } from "@effect/vitest"
import { Deferred, Effect, Exit, Fiber } from "effect"
import { timeoutFail } from "../src/Timing.js"

describe("timeoutFail", () => {
  it.live("passes the result through when the effect ends in time", () =>
    Effect.gen(function* () {
      const result = yield* timeoutFail(
        Effect.as(Effect.sleep("5 millis"), "done"),
        1_000,
        () => "late"
      )
      expect(result).toBe("done")
    })
  )

  it.live("fails with onTimeout and interrupts the effect when the limit passes", () =>
    Effect.gen(function* () {
      const interrupted = yield* Deferred.make<void>()
      const slow = Effect.never.pipe(
        Effect.onInterrupt(() => Deferred.succeed(interrupted, void 0))
      )
      const exit = yield* Effect.exit(timeoutFail(slow, 20, () => "late"))
      expect(exit).toStrictEqual(Exit.fail("late"))
      expect(yield* Deferred.isDone(interrupted)).toBe(true)
    })
  )

  it.live("treats a limit too long for a timer (Infinity, 30 days) as none", () =>
    Effect.gen(function* () {
      for (const limit of [Number.POSITIVE_INFINITY, 30 * 24 * 3_600_000]) {
        const result = yield* timeoutFail(
          Effect.as(Effect.sleep("20 millis"), "done"),
          limit,
          () => "late"
        )
        expect(result).toBe("done")
      }
    })
  )

  it.live("interrupts the effect when the caller is interrupted", () =>
    Effect.gen(function* () {
      const started = yield* Deferred.make<void>()
      const interrupted = yield* Deferred.make<void>()
      const slow = Effect.zipRight(Deferred.succeed(started, void 0), Effect.never).pipe(
        Effect.onInterrupt(() => Deferred.succeed(interrupted, void 0))
      )
      const fiber = yield* Effect.fork(timeoutFail(slow, 60_000, () => "late"))
      yield* Deferred.await(started)
      yield* Fiber.interrupt(fiber)
      expect(yield* Deferred.isDone(interrupted)).toBe(true)
    })
  )
})
