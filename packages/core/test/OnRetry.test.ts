import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import type { Emulator } from "@trackstar-mcp/emulator"
import { Effect, Exit } from "effect"
import type { RetryEvent } from "../src/TrackstarClient.js"
import { clientFor, startEmulator, TOKEN_A } from "./support.js"

let emulator: Emulator
beforeAll(async () => {
  emulator = await startEmulator()
})
afterAll(() => emulator.stop())

describe("onRetry", () => {
  it.live("reports each retry before its wait, with the failed attempt and its error", () =>
    Effect.gen(function* () {
      emulator.inject({ fault: { kind: "status", status: 503 }, accessToken: TOKEN_A, times: 2 })
      const events: Array<RetryEvent> = []
      const client = yield* clientFor(emulator)
      const result = yield* client.updateConnection(
        { customer_id: "retried" },
        { onRetry: (event) => Effect.sync(() => events.push(event)) }
      )
      expect(result.attempts).toBe(3)
      expect(events.map((e) => [e.attempt, e.error._tag])).toStrictEqual([
        [1, "ServerError"],
        [2, "ServerError"]
      ])
      for (const e of events) expect(e.delayMillis).toBeGreaterThanOrEqual(0)
    })
  )

  it.live("is not called for a failure that is not retried, nor after the last attempt", () =>
    Effect.gen(function* () {
      emulator.inject({ fault: { kind: "status", status: 503 }, accessToken: TOKEN_A, times: 2 })
      const events: Array<RetryEvent> = []
      const client = yield* clientFor(emulator, { maxAttempts: 2 })
      const exit = yield* Effect.exit(
        client.updateConnection(
          { customer_id: "x" },
          { onRetry: (event) => Effect.sync(() => events.push(event)) }
        )
      )
      expect(Exit.isFailure(exit)).toBe(true)
      expect(events.map((e) => e.attempt)).toStrictEqual([1])
    })
  )
})
