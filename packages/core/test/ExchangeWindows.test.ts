// What the exchange tells the pacer of Trackstar's rate-limit windows, against the emulator's
// real limiter over real HTTP. The pacer here is a recording stand-in (the pacer itself is
// tested in Pacing.test.ts); what is under test is that each attempt's answer reaches it.

import { HttpClient } from "@effect/platform"
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import type { Emulator } from "@trackstar-mcp/emulator"
import { Effect, Either, Redacted } from "effect"
import { resolveOptions } from "../src/Config.js"
import { makeExchange } from "../src/Exchange.js"
import type { Counted, Pacer } from "../src/Pacing.js"
import { API_KEY, HTTP_CLIENTS, newConnection, startEmulator } from "./support.js"

describe("the exchange reports each answer's window to the pacer", () => {
  let emulator: Emulator
  beforeAll(async () => {
    emulator = await startEmulator()
  })
  afterAll(() => emulator.stop())

  const exchange = (seen: Array<Counted | undefined>) =>
    Effect.gen(function* () {
      const settings = Either.getOrThrow(
        resolveOptions({ apiKey: Redacted.make(API_KEY), baseUrl: emulator.url, maxAttempts: 1 })
      )
      const recording: Pacer = {
        pace: (_key, write, _deadline, countedIn) =>
          Effect.onExit(write, (exit) => Effect.sync(() => seen.push(countedIn?.(exit))))
      }
      return makeExchange({
        settings,
        http: yield* HttpClient.HttpClient,
        endpoint: new URL("connections", `${emulator.url}/`),
        pacer: recording
      })
    }).pipe(Effect.provide(HTTP_CLIENTS.NodeHttpClient))

  it.effect("a 200's x-ratelimit-reset, and a 429 as refused", () =>
    Effect.gen(function* () {
      const seen: Array<Counted | undefined> = []
      const { send } = yield* exchange(seen)
      const connection = newConnection(emulator)
      const before = Math.floor(Date.now() / 1000) + 1
      yield* send({ customer_id: "w" }, connection.redacted, undefined, false)
      const after = Math.floor(Date.now() / 1000) + 1
      expect(seen).toHaveLength(1)
      expect(seen[0]?.refused).toBe(false)
      expect(seen[0]?.resetEpochSeconds).toBeGreaterThanOrEqual(before)
      expect(seen[0]?.resetEpochSeconds).toBeLessThanOrEqual(after)

      emulator.inject({
        accessToken: connection.token,
        times: 1,
        fault: {
          kind: "status",
          status: 429,
          headers: { "x-ratelimit-reset": "2000000000", "retry-after": "1" },
          body: { error: "Too many requests", origin: "trackstar" }
        }
      })
      yield* Effect.either(send({ customer_id: "w" }, connection.redacted, undefined, false))
      expect(seen[1]).toStrictEqual({ resetEpochSeconds: 2_000_000_000, refused: true })
    })
  )
})
