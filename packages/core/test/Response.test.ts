// Pure mapping tests: decodeAnswer is a function of (status, headers, body), no HTTP involved.
import { describe, expect, it } from "@effect/vitest"
import { Either } from "effect"
import { decodeAnswer, excerptOf, retryAfterMillis } from "../src/Response.js"

const NOW = Date.UTC(2026, 11, 3, 12, 0, 0)
const answer = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  decodeAnswer(
    status,
    { "x-request-id": "req_1", ...headers },
    typeof body === "string" ? body : JSON.stringify(body),
    NOW,
    ["SECRET-KEY"]
  )
const failure = (status: number, body: unknown, headers?: Record<string, string>) => {
  const result = answer(status, body, headers)
  if (Either.isRight(result)) throw new Error("expected a failure")
  return result.left
}

describe("decodeAnswer", () => {
  it("decodes a 200 with its request id", () => {
    expect(answer(200, { id: "c1", object: "connection", updated: false })).toStrictEqual(
      Either.right({
        body: { id: "c1", object: "connection", updated: false },
        requestId: "req_1",
        windowReset: undefined
      })
    )
  })

  it("reads from a 200 when its rate-limit window ends, for the pacer", () => {
    const ok = { id: "c1", object: "connection", updated: true }
    const read = (reset: string) =>
      Either.map(answer(200, ok, { "x-ratelimit-reset": reset }), (a) => a.windowReset)
    expect(read("1764700000")).toStrictEqual(Either.right(1764700000))
    expect(read("soon")).toStrictEqual(Either.right(undefined))
    // Seconds left, as some APIs send, are not a time in 1970.
    expect(read("1")).toStrictEqual(Either.right(undefined))
  })

  it.each([
    [401, "Unauthorized"],
    [403, "Unauthorized"],
    [404, "NotFound"],
    [422, "ValidationFailed"],
    [429, "RateLimited"],
    [500, "ServerError"],
    [502, "ServerError"],
    [501, "NotImplemented"],
    [400, "UnexpectedResponse"],
    [409, "UnexpectedResponse"]
  ])("maps HTTP %i to %s with status, request id and origin", (status, tag) => {
    const error = failure(status, { error: "boom", origin: "integration" })
    expect(error._tag).toBe(tag)
    expect(error).toMatchObject({ status, requestId: "req_1", origin: "integration" })
  })

  it("keeps 422 field messages structured", () => {
    const error = failure(422, {
      error: "Validation error",
      detail: { json: { webhooks_disabled: ["Not a valid boolean."], foo: ["Unknown field."] } }
    })
    expect(error).toMatchObject({
      _tag: "ValidationFailed",
      fields: [
        { location: "json", field: "webhooks_disabled", messages: ["Not a valid boolean."] },
        { location: "json", field: "foo", messages: ["Unknown field."] }
      ]
    })
    expect(error.message).toContain("json.webhooks_disabled: Not a valid boolean.")
  })

  it("reads the rate limit headers of a 429", () => {
    const error = failure(
      429,
      { error: "Rate limit exceeded" },
      {
        "retry-after": "2",
        "x-ratelimit-limit": "50",
        "x-ratelimit-remaining": "0",
        "x-ratelimit-reset": String(NOW / 1000 + 1)
      }
    )
    expect(error).toMatchObject({
      retryAfterMillis: 2000,
      limit: 50,
      remaining: 0,
      resetEpochSeconds: NOW / 1000 + 1
    })
  })

  it("falls back to x-ratelimit-reset when retry-after is absent", () => {
    expect(failure(429, "", { "x-ratelimit-reset": String(NOW / 1000 + 1) })).toMatchObject({
      retryAfterMillis: 1000
    })
  })

  it("caps a wait read from x-ratelimit-reset at 2 s: windows last a second, so more is clock skew", () => {
    expect(failure(429, "", { "x-ratelimit-reset": String(NOW / 1000 + 30) })).toMatchObject({
      retryAfterMillis: 2000
    })
  })

  it("reads no reset from a 429 whose x-ratelimit-reset is seconds left, not an epoch second", () => {
    const error = failure(429, "", { "x-ratelimit-reset": "1" })
    expect(error).toMatchObject({ _tag: "RateLimited" })
    expect(error).not.toHaveProperty("resetEpochSeconds")
    expect(error).not.toHaveProperty("retryAfterMillis")
  })

  it("keeps the status of an error answer whose body is HTML, and an excerpt", () => {
    const error = failure(502, "<html><body>Bad gateway</body></html>")
    expect(error).toMatchObject({
      _tag: "ServerError",
      status: 502,
      excerpt: "<html><body>Bad gateway</body></html>"
    })
  })

  it.each([
    ["", "empty body"],
    ["<html>oops</html>", "not JSON"],
    ['{"id": "c1"}', "not {id, object, updated}"]
  ])("calls a 200 with body %j an UnexpectedResponse", (body, problem) => {
    const error = failure(200, body)
    expect(error._tag).toBe("UnexpectedResponse")
    expect(error.message).toContain(problem)
  })

  it("drops an unknown origin instead of failing", () => {
    expect(failure(500, { error: "x", origin: "martians" })).not.toHaveProperty("origin")
  })

  it("cuts credentials out of excerpts and vendor messages", () => {
    const error = failure(500, "token SECRET-KEY leaked")
    expect(JSON.stringify(error)).not.toContain("SECRET-KEY")
    expect(error.message).not.toContain("SECRET-KEY")
    expect(excerptOf("a".repeat(500), [])).toHaveLength(201)
  })
})

describe("retryAfterMillis", () => {
  it("reads delta seconds and HTTP dates", () => {
    expect(retryAfterMillis("3", NOW)).toBe(3000)
    expect(retryAfterMillis(new Date(NOW + 5000).toUTCString(), NOW)).toBe(5000)
    expect(retryAfterMillis("soon", NOW)).toBeUndefined()
    expect(retryAfterMillis(undefined, NOW)).toBeUndefined()
  })
})
