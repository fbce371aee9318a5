import { describe, expect, it } from "@effect/vitest"
import { Either, Schema } from "effect"
import { InvalidRequest } from "../src/Errors.js"
import { UpdateConnectionRequest, UpdateConnectionResponse } from "../src/Schemas.js"
import { decodeUpdate } from "../src/TrackstarClient.js"

const problems = (input: unknown) =>
  Either.match(decodeUpdate(input), {
    onLeft: (e) => e.issues.map((i) => `${i.path}: ${i.message}`),
    onRight: () => []
  })

describe("UpdateConnectionRequest", () => {
  it.each([
    {},
    { customer_id: "acme-42" },
    { customer_id: null },
    { webhooks_disabled: true },
    { webhooks_disabled: false, customer_id: "" }
  ])("accepts %j and encodes it back unchanged", (body) => {
    const decoded = decodeUpdate(body)
    expect(Either.getOrThrow(decoded)).toStrictEqual(body)
    expect(Schema.encodeSync(UpdateConnectionRequest)(Either.getOrThrow(decoded))).toStrictEqual(
      body
    )
  })

  it("keeps an absent key absent rather than sending undefined", () => {
    const decoded = Either.getOrThrow(decodeUpdate({ webhooks_disabled: true }))
    expect(Object.keys(decoded)).toStrictEqual(["webhooks_disabled"])
    expect(JSON.stringify(decoded)).toBe('{"webhooks_disabled":true}')
  })

  it("reports every offending field at once, unknown keys included", () => {
    expect(problems({ customer_id: 5, webhooks_disabled: "true", foo: 1 })).toStrictEqual([
      "foo: is not a field that can be set (allowed: customer_id, webhooks_disabled)",
      "customer_id: must be a string, or null to clear it, got 5",
      'webhooks_disabled: must be true or false (a JSON boolean, not a string), got "true"'
    ])
  })

  it.each([null, [], "customer", 3, true])("refuses a non-object body %j", (body) => {
    const [problem] = problems(body)
    expect(problem).toMatch(
      /must be a JSON object with the optional fields customer_id, webhooks_disabled/
    )
  })

  it("refuses numbers and null for webhooks_disabled", () => {
    expect(problems({ webhooks_disabled: 1 })).toHaveLength(1)
    expect(problems({ webhooks_disabled: null })).toHaveLength(1)
  })

  it("fails with an InvalidRequest whose message lists the problems", () => {
    const error = Either.getLeft(decodeUpdate({ webhooks_disabled: "no" }))
    expect(error._tag).toBe("Some")
    if (error._tag === "Some") {
      expect(error.value).toBeInstanceOf(InvalidRequest)
      expect(error.value.message).toBe(
        'Invalid input; nothing was sent: webhooks_disabled must be true or false (a JSON boolean, not a string), got "no".'
      )
    }
  })
})

describe("UpdateConnectionResponse", () => {
  const decode = Schema.decodeUnknownEither(UpdateConnectionResponse)

  it("decodes the documented 200 body", () => {
    expect(
      Either.getOrThrow(decode({ id: "c1", object: "connection", updated: true }))
    ).toStrictEqual({
      id: "c1",
      object: "connection",
      updated: true
    })
  })

  it.each([
    { id: "c1", object: "connection" },
    { id: 1, object: "connection", updated: true },
    null
  ])("refuses %j", (body) => {
    expect(Either.isLeft(decode(body))).toBe(true)
  })
})
