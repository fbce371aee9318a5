import { describe, expect, it } from "vitest"
import { DEMO } from "../src/index.js"
import { FixedWindowLimiter } from "../src/RateLimiter.js"
import { ACME_TOKEN, patch, type Reply, send, useEmulator } from "./support.js"

/**
 * A burst may straddle a window boundary, so check each window on its own: the responses sharing
 * an `x-ratelimit-reset` belong to one window, in which exactly min(size, limit) succeed.
 */
function expectWindowsWithin(replies: ReadonlyArray<Reply>, limit: number): void {
  const windows = new Map<string | null, Array<Reply>>()
  for (const reply of replies) {
    const reset = reply.headers.get("x-ratelimit-reset")
    windows.set(reset, [...(windows.get(reset) ?? []), reply])
  }
  expect(windows.size).toBeGreaterThanOrEqual(1)
  expect(windows.size).toBeLessThanOrEqual(2)
  for (const [reset, group] of windows) {
    expect(reset).toMatch(/^\d+$/)
    const succeeded = group.filter((reply) => reply.status === 200)
    const limited = group.filter((reply) => reply.status === 429)
    expect(succeeded.length + limited.length).toBe(group.length)
    expect(succeeded).toHaveLength(Math.min(group.length, limit))
    expect(
      succeeded
        .map((reply) => Number(reply.headers.get("x-ratelimit-remaining")))
        .sort((a, b) => a - b)
    ).toStrictEqual(
      Array.from({ length: succeeded.length }, (_, i) => limit - succeeded.length + i)
    )
    for (const reply of group) expect(reply.headers.get("x-ratelimit-limit")).toBe(String(limit))
    for (const reply of limited) {
      expect(reply.json).toStrictEqual({ error: "Rate limit exceeded", origin: "trackstar" })
      expect(reply.headers.get("x-ratelimit-remaining")).toBe("0")
      expect(Number(reply.headers.get("retry-after"))).toBeGreaterThanOrEqual(1)
    }
  }
}

describe("rate limits with the defaults", () => {
  const emulator = useEmulator()

  it("lets at most 50 of 60 concurrent PATCHes on one token through per window", async () => {
    const replies = await Promise.all(
      Array.from({ length: 60 }, (_, i) => patch(emulator(), { customer_id: `c${i}` }))
    )
    expectWindowsWithin(replies, 50)
    const limited = replies.filter((reply) => reply.status === 429).length
    // One window: exactly 10 refused; split over two: between 0 and 10.
    expect(limited).toBeLessThanOrEqual(10)
    if (new Set(replies.map((r) => r.headers.get("x-ratelimit-reset"))).size === 1)
      expect(limited).toBe(10)
  })

  it("counts reads per API key at 10 per second", async () => {
    const replies = await Promise.all(
      Array.from({ length: 25 }, () =>
        send(emulator(), "GET", "/connections/conn_demo_default", {
          headers: { "x-trackstar-api-key": DEMO.apiKey }
        })
      )
    )
    expectWindowsWithin(replies, 10)
    expect(replies.filter((reply) => reply.status === 429).length).toBeGreaterThanOrEqual(5)
  })
})

describe("rate limits per token", () => {
  const emulator = useEmulator({ rateLimit: { writesPerSecond: 3 } })

  it("refuses over the limit whatever the window boundaries", async () => {
    const replies = await Promise.all(Array.from({ length: 8 }, () => patch(emulator(), {})))
    expectWindowsWithin(replies, 3)
    // Two windows hold at most 6, so at least 2 of 8 are refused.
    expect(replies.filter((reply) => reply.status === 429).length).toBeGreaterThanOrEqual(2)
    expect(
      emulator()
        .requests()
        .filter((r) => r.status === 429).length
    ).toBeGreaterThanOrEqual(2)
  })

  it("keeps tokens independent", async () => {
    // Exhaust one token, then use the other in the same window (retrying if a window ended between).
    for (let attempt = 0; attempt < 5; attempt++) {
      let refused: Reply | undefined
      while (refused === undefined) {
        const reply = await patch(emulator(), {})
        if (reply.status === 429) refused = reply
      }
      const other = await patch(emulator(), {}, { "x-trackstar-access-token": ACME_TOKEN })
      if (other.headers.get("x-ratelimit-reset") !== refused.headers.get("x-ratelimit-reset"))
        continue
      expect(other.status).toBe(200)
      return
    }
    throw new Error("Five window boundaries in a row fell between two requests")
  })

  it("limits validation failures too, and checks auth first", async () => {
    const invalid = await patch(emulator(), { bogus: 1 })
    expect(invalid.status).toBe(422)
    expect(invalid.headers.get("x-ratelimit-limit")).toBe("3")
    const unauthorised = await patch(emulator(), {}, { "x-trackstar-access-token": "nope" })
    expect(unauthorised.status).toBe(401)
    expect(unauthorised.headers.get("x-ratelimit-limit")).toBeNull()
  })
})

describe("rate limits off", () => {
  const emulator = useEmulator({ rateLimit: false })

  it("lets everything through without rate-limit headers", async () => {
    const replies = await Promise.all(Array.from({ length: 70 }, () => patch(emulator(), {})))
    expect(replies.every((reply) => reply.status === 200)).toBe(true)
    expect(replies[0]?.headers.get("x-ratelimit-limit")).toBeNull()
  })
})

describe("FixedWindowLimiter", () => {
  it("resets at each epoch second and reports the window's end", () => {
    const limiter = new FixedWindowLimiter(2)
    const t = 1_700_000_000_000
    expect(limiter.take("a", t + 100)).toStrictEqual({
      allowed: true,
      limit: 2,
      remaining: 1,
      reset: 1_700_000_001,
      retryAfter: 1
    })
    expect(limiter.take("a", t + 200)).toMatchObject({ allowed: true, remaining: 0 })
    expect(limiter.take("a", t + 999)).toMatchObject({
      allowed: false,
      remaining: 0,
      retryAfter: 1
    })
    expect(limiter.take("b", t + 999)).toMatchObject({ allowed: true, remaining: 1 })
    expect(limiter.take("a", t + 1000)).toMatchObject({
      allowed: true,
      remaining: 1,
      reset: 1_700_000_002
    })
  })
})
