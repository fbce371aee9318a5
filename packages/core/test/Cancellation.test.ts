// Interrupting a call cancels it for real: the HTTP request in flight is aborted (the emulator
// sees its socket closed by the client), and a call waiting for its pacing slot sends nothing.
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import type { Emulator } from "@trackstar-mcp/emulator"
import { Effect, Exit, Fiber } from "effect"
import { clientFor, eventually, newConnection, requestsFor, startEmulator } from "./support.js"

let emulator: Emulator
beforeAll(async () => {
  emulator = await startEmulator()
})
afterAll(() => emulator.stop())

describe("interruption", () => {
  it.live("aborts the request in flight", () =>
    Effect.gen(function* () {
      const { token, redacted } = newConnection(emulator)
      emulator.inject({ fault: { kind: "hang" }, accessToken: token })
      const client = yield* clientFor(emulator)
      const fiber = yield* Effect.fork(
        client.updateConnection({ customer_id: "never" }, { accessToken: redacted })
      )
      yield* eventually(() => requestsFor(emulator, token).length === 1, "the request arrived")
      expect(requestsFor(emulator, token)[0]?.closedByClient).toBe(false)

      const exit = yield* Fiber.interrupt(fiber)

      expect(Exit.isInterrupted(exit)).toBe(true)
      yield* eventually(
        () => requestsFor(emulator, token)[0]?.closedByClient === true,
        "the client closed the hanging request's socket"
      )
      expect(requestsFor(emulator, token)).toHaveLength(1)
    })
  )

  it.live("a call interrupted while it waits for its pacing slot sends nothing", () =>
    Effect.gen(function* () {
      const { token, redacted } = newConnection(emulator)
      const client = yield* clientFor(emulator, { writesPerSecond: 1 })
      yield* client.updateConnection({ customer_id: "first" }, { accessToken: redacted })
      // The token's only slot now cools for a second; this call waits for it.
      const waiting = yield* Effect.fork(
        client.updateConnection({ customer_id: "second" }, { accessToken: redacted })
      )
      yield* Effect.sleep("50 millis")
      yield* Fiber.interrupt(waiting)
      expect(requestsFor(emulator, token)).toHaveLength(1)
      expect(emulator.connection(token)?.customer_id).toBe("first")
    })
  )
})
