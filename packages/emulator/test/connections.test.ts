import { describe, expect, it } from "vitest"
import { DEMO } from "../src/index.js"
import { ACME_TOKEN, patch, send, TOKEN, useEmulator } from "./support.js"

const emulator = useEmulator()

describe("PATCH /connections", () => {
  it("applies an update and answers with exactly id, object and updated", async () => {
    const reply = await patch(emulator(), { customer_id: "cust-42", webhooks_disabled: true })
    expect(reply.status).toBe(200)
    expect(reply.headers.get("content-type")).toBe("application/json")
    expect(reply.json).toStrictEqual({
      id: "conn_demo_default",
      object: "connection",
      updated: true
    })
    expect(emulator().connection(TOKEN)).toStrictEqual({
      id: "conn_demo_default",
      customer_id: "cust-42",
      webhooks_disabled: true
    })
    expect(emulator().connection(ACME_TOKEN)?.customer_id).toBe("acme-001")
  })

  it("says updated: false when nothing changes, and for an empty body", async () => {
    expect(
      (
        await patch(
          emulator(),
          { customer_id: "acme-001" },
          { "x-trackstar-access-token": ACME_TOKEN }
        )
      ).json
    ).toStrictEqual({ id: "conn_demo_acme", object: "connection", updated: false })
    expect((await patch(emulator(), { webhooks_disabled: true })).json).toMatchObject({
      updated: true
    })
    expect((await patch(emulator(), { webhooks_disabled: true })).json).toMatchObject({
      updated: false
    })
    const empty = await send(emulator(), "PATCH", "/connections", {
      headers: { "x-trackstar-api-key": DEMO.apiKey, "x-trackstar-access-token": TOKEN }
    })
    expect(empty.status).toBe(200)
    expect(empty.json).toStrictEqual({
      id: "conn_demo_default",
      object: "connection",
      updated: false
    })
  })

  it("clears customer_id with null", async () => {
    const reply = await patch(
      emulator(),
      { customer_id: null },
      { "x-trackstar-access-token": ACME_TOKEN }
    )
    expect(reply.json).toMatchObject({ updated: true })
    expect(emulator().connection(ACME_TOKEN)?.customer_id).toBeNull()
  })

  describe("validation", () => {
    const detail = (json: Record<string, ReadonlyArray<string>>) => ({
      error: "Validation error",
      origin: "trackstar",
      detail: { json }
    })

    it.each([
      ["a number customer_id", { customer_id: 42 }, { customer_id: ["Not a valid string."] }],
      [
        "a string boolean",
        { webhooks_disabled: "true" },
        { webhooks_disabled: ["Not a valid boolean."] }
      ],
      [
        "a null boolean",
        { webhooks_disabled: null },
        { webhooks_disabled: ["Not a valid boolean."] }
      ],
      ["an unknown key", { customerId: "x" }, { customerId: ["Unknown field."] }],
      ["a __proto__ key", '{"__proto__": {}}', { ["__proto__"]: ["Unknown field."] }],
      [
        "every offending field at once",
        { customer_id: 1, webhooks_disabled: "false", extra: true },
        {
          customer_id: ["Not a valid string."],
          webhooks_disabled: ["Not a valid boolean."],
          extra: ["Unknown field."]
        }
      ],
      ["invalid JSON", '{"customer_id": ', { _schema: ["Invalid JSON body."] }],
      ["an array body", [{ customer_id: "x" }], { _schema: ["Invalid input type."] }],
      ["a string body", '"hello"', { _schema: ["Invalid input type."] }],
      ["a null body", "null", { _schema: ["Invalid input type."] }]
    ])("rejects %s with 422 and leaves the connection alone", async (_, body, errors) => {
      const before = emulator().connection(TOKEN)
      const reply = await patch(emulator(), body)
      expect(reply.status).toBe(422)
      expect(reply.json).toStrictEqual(detail(errors))
      expect(emulator().connection(TOKEN)).toStrictEqual(before)
    })
  })

  describe("authentication", () => {
    it.each([
      ["no API key", { "x-trackstar-access-token": TOKEN }, /missing.*x-trackstar-api-key/i],
      [
        "a wrong API key",
        { "x-trackstar-api-key": "wrong-secret-key", "x-trackstar-access-token": TOKEN },
        /invalid.*x-trackstar-api-key/i
      ],
      [
        "no access token",
        { "x-trackstar-api-key": DEMO.apiKey },
        /missing.*x-trackstar-access-token/i
      ],
      [
        "an unknown access token",
        { "x-trackstar-api-key": DEMO.apiKey, "x-trackstar-access-token": "wrong-secret-token" },
        /invalid.*x-trackstar-access-token/i
      ]
    ])(
      "answers 401 to %s, naming the header and echoing no secret",
      async (_, headers, message) => {
        const reply = await send(emulator(), "PATCH", "/connections", {
          headers: { "content-type": "application/json", ...headers },
          body: JSON.stringify({ customer_id: "nope" })
        })
        expect(reply.status).toBe(401)
        expect(reply.json).toStrictEqual({
          error: expect.stringMatching(message),
          origin: "trackstar"
        })
        for (const secret of [DEMO.apiKey, TOKEN, "wrong-secret-key", "wrong-secret-token"]) {
          expect(reply.text).not.toContain(secret)
          expect([...reply.headers.values()].join(" ")).not.toContain(secret)
        }
        expect(reply.headers.get("x-ratelimit-limit")).toBeNull()
        expect(emulator().connection(TOKEN)?.customer_id).toBeNull()
      }
    )
  })
})

describe("GET /connections/:id", () => {
  const key = { "x-trackstar-api-key": DEMO.apiKey }

  it("shows a connection's state after an update", async () => {
    await patch(emulator(), { webhooks_disabled: true })
    const reply = await send(emulator(), "GET", "/connections/conn_demo_default", { headers: key })
    expect(reply.status).toBe(200)
    expect(reply.json).toStrictEqual({
      id: "conn_demo_default",
      customer_id: null,
      webhooks_disabled: true,
      object: "connection"
    })
  })

  it("answers 404 with the id for an unknown connection, and 401 without the key", async () => {
    const missing = await send(emulator(), "GET", "/connections/conn_nope", { headers: key })
    expect(missing.status).toBe(404)
    expect(missing.json).toStrictEqual({
      error: "Connection not found",
      origin: "trackstar",
      id: "conn_nope"
    })
    const anonymous = await send(emulator(), "GET", "/connections/conn_demo_default")
    expect(anonymous.status).toBe(401)
  })
})

describe("routing and headers", () => {
  it("answers 404 to unknown routes and 405 with Allow to other methods", async () => {
    const unknown = await send(emulator(), "GET", "/orders")
    expect(unknown.status).toBe(404)
    expect(unknown.json).toMatchObject({ error: expect.any(String), origin: "trackstar" })
    const wrongMethod = await send(emulator(), "POST", "/connections", { body: "{}" })
    expect(wrongMethod.status).toBe(405)
    expect(wrongMethod.headers.get("allow")).toBe("PATCH")
    expect(wrongMethod.json).toMatchObject({ error: expect.any(String), origin: "trackstar" })
    const wrongRead = await send(emulator(), "DELETE", "/connections/conn_demo_default")
    expect(wrongRead.status).toBe(405)
    expect(wrongRead.headers.get("allow")).toBe("GET")
  })

  it("puts a unique X-Request-Id on every response", async () => {
    const replies = await Promise.all([
      patch(emulator(), { customer_id: "a" }),
      patch(emulator(), { customer_id: 1 }),
      patch(emulator(), {}, {}),
      send(emulator(), "GET", "/nowhere"),
      send(emulator(), "PUT", "/connections"),
      send(emulator(), "GET", "/connections/x", { headers: { "x-trackstar-api-key": DEMO.apiKey } })
    ])
    const ids = replies.map((reply) => reply.headers.get("x-request-id"))
    for (const id of ids) expect(id).toMatch(/^req_[0-9a-f]{24}$/)
    expect(new Set(ids).size).toBe(ids.length)
  })

  it("records every request, rejected ones included, with lower-cased headers and raw bodies", async () => {
    const ok = await patch(emulator(), '{"customer_id":"rec"}', {
      "X-Trackstar-Access-Token": TOKEN
    })
    await send(emulator(), "GET", "/nowhere?x=1")
    const recorded = emulator().requests()
    expect(recorded).toHaveLength(2)
    expect(recorded[0]).toMatchObject({
      requestId: ok.headers.get("x-request-id"),
      method: "PATCH",
      path: "/connections",
      body: '{"customer_id":"rec"}',
      status: 200
    })
    expect(recorded[0]?.headers["x-trackstar-access-token"]).toBe(TOKEN)
    expect(recorded[1]).toMatchObject({ method: "GET", path: "/nowhere?x=1", status: 404 })
    expect(recorded[0]?.at).toBeLessThanOrEqual(recorded[1]?.at ?? 0)
    emulator().clearRequests()
    expect(emulator().requests()).toHaveLength(0)
  })
})

describe("addConnection", () => {
  it("adds a connection with random values that the API then accepts", async () => {
    const added = emulator().addConnection({ customer_id: "new" })
    expect(added.accessToken).not.toBe("")
    expect(
      emulator()
        .connections()
        .map((c) => c.name)
    ).toContain(added.name)
    const reply = await patch(
      emulator(),
      { webhooks_disabled: true },
      { "x-trackstar-access-token": added.accessToken }
    )
    expect(reply.json).toStrictEqual({ id: added.id, object: "connection", updated: true })
    expect(emulator().connection(added.accessToken)).toStrictEqual({
      id: added.id,
      customer_id: "new",
      webhooks_disabled: true
    })
  })

  it("refuses a duplicate token without echoing it", () => {
    expect(() => emulator().addConnection({ accessToken: TOKEN })).toThrow(/already used/)
    expect(() => emulator().addConnection({ accessToken: TOKEN })).not.toThrow(new RegExp(TOKEN))
  })
})
