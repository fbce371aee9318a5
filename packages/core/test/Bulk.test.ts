// The bulk helper: one outcome per item, in input order, whatever happens to the others.
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import type { Emulator } from "@trackstar-mcp/emulator"
import { Effect, Either, Redacted } from "effect"
import type { UpdateConnectionRequest } from "../src/Schemas.js"
import { clientFor, newConnection, requestsFor, startEmulator } from "./support.js"

let emulator: Emulator
beforeAll(async () => {
  emulator = await startEmulator()
})
afterAll(() => emulator.stop())

describe("updateConnections", () => {
  it.live("keeps every outcome, in input order, when some connections fail", () =>
    Effect.gen(function* () {
      const ok = [newConnection(emulator), newConnection(emulator), newConnection(emulator)]
      const [gone, limited, flaky] = [
        newConnection(emulator),
        newConnection(emulator),
        newConnection(emulator)
      ]
      emulator.inject({ fault: { kind: "status", status: 404 }, accessToken: gone.token })
      emulator.inject({
        fault: { kind: "status", status: 429, headers: { "retry-after": "60" } },
        accessToken: limited.token
      })
      emulator.inject({ fault: { kind: "drop" }, accessToken: flaky.token, times: 1 })
      const unknown = Redacted.make("tok_not_a_connection")
      // A JavaScript caller can pass anything; the item fails alone.
      const invalid = { customer_id: 7 } as unknown as UpdateConnectionRequest

      const items = [
        { accessToken: ok[0]?.redacted ?? unknown, body: { customer_id: "ok-0" } },
        { accessToken: gone.redacted, body: { customer_id: "gone" } },
        { accessToken: ok[1]?.redacted ?? unknown, body: invalid },
        { accessToken: limited.redacted, body: { customer_id: "limited" } },
        { accessToken: flaky.redacted, body: { customer_id: "flaky" } },
        { accessToken: unknown, body: { customer_id: "unknown" } },
        { accessToken: ok[2]?.redacted ?? unknown, body: { webhooks_disabled: true } }
      ]
      const client = yield* clientFor(emulator, { deadline: "5 seconds" })
      const outcomes = yield* client.updateConnections(items, { concurrency: 3 })

      expect(outcomes.map((o) => o.index)).toStrictEqual([0, 1, 2, 3, 4, 5, 6])
      expect(
        outcomes.map((o) =>
          Either.match(o.result, { onLeft: (e) => e._tag, onRight: (r) => `ok ${r.id}` })
        )
      ).toStrictEqual([
        `ok ${ok[0]?.id}`,
        "NotFound",
        "InvalidRequest",
        "RateLimited",
        `ok ${flaky.id}`,
        "Unauthorized",
        `ok ${ok[2]?.id}`
      ])
      expect(emulator.connection(ok[0]?.token ?? "")?.customer_id).toBe("ok-0")
      expect(emulator.connection(ok[2]?.token ?? "")?.webhooks_disabled).toBe(true)
      expect(requestsFor(emulator, ok[1]?.token ?? "")).toHaveLength(0)
      expect(requestsFor(emulator, flaky.token)).toHaveLength(2)
    })
  )

  it.live("bounds concurrency", () =>
    Effect.gen(function* () {
      const { token, redacted } = newConnection(emulator)
      emulator.inject({ fault: { kind: "delay", ms: 30 }, accessToken: token })
      const client = yield* clientFor(emulator)
      yield* client.updateConnections(
        Array.from({ length: 12 }, (_, i) => ({
          accessToken: redacted,
          body: { customer_id: `c${i}` }
        })),
        { concurrency: 4 }
      )
      // Each request is held 30 ms at the server, so requests arriving within 25 ms of each
      // other were all in flight together: there are never more than 4 of them.
      const arrivals = requestsFor(emulator, token).map((r) => r.at)
      expect(arrivals).toHaveLength(12)
      const together = Math.max(
        ...arrivals.map((t) => arrivals.filter((u) => u >= t && u < t + 25).length)
      )
      expect(together).toBeLessThanOrEqual(4)
      expect(together).toBeGreaterThan(1)
    })
  )
})
