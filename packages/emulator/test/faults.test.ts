import { describe, expect, it } from "vitest"
import { DEMO } from "../src/index.js"
import { ACME_TOKEN, patch, send, TOKEN, useEmulator } from "./support.js"

const emulator = useEmulator()

describe("fault injection", () => {
  it("answers a status fault with its headers and JSON body, keeping X-Request-Id", async () => {
    emulator().inject({
      fault: {
        kind: "status",
        status: 503,
        headers: { "Retry-After": "2" },
        body: { error: "Down", origin: "trackstar" }
      },
      times: 1
    })
    const faulted = await patch(emulator(), { customer_id: "x" })
    expect(faulted.status).toBe(503)
    expect(faulted.headers.get("retry-after")).toBe("2")
    expect(faulted.headers.get("content-type")).toBe("application/json")
    expect(faulted.headers.get("x-request-id")).toMatch(/^req_[0-9a-f]{24}$/)
    expect(faulted.json).toStrictEqual({ error: "Down", origin: "trackstar" })
    expect(emulator().connection(TOKEN)?.customer_id).toBeNull()
    expect((await patch(emulator(), { customer_id: "x" })).status).toBe(200)
  })

  it("lets a status fault override or omit headers, and defaults its body", async () => {
    emulator().inject({
      fault: { kind: "status", status: 502, headers: { "x-request-id": "" } },
      times: 1
    })
    emulator().inject({
      fault: {
        kind: "status",
        status: 500,
        headers: { "X-Request-Id": "req_fixed" },
        body: "oops"
      },
      times: 1
    })
    const omitted = await patch(emulator(), {})
    expect(omitted.headers.get("x-request-id")).toBeNull()
    expect(omitted.json).toStrictEqual({ error: "Bad Gateway", origin: "trackstar" })
    const overridden = await patch(emulator(), {})
    expect(overridden.status).toBe(500)
    expect(overridden.headers.get("x-request-id")).toBe("req_fixed")
    expect(overridden.text).toBe("oops")
  })

  it("delays, then handles the request normally", async () => {
    emulator().inject({ fault: { kind: "delay", ms: 150 }, times: 1 })
    const started = performance.now()
    const reply = await patch(emulator(), { customer_id: "late" })
    expect(performance.now() - started).toBeGreaterThanOrEqual(140)
    expect(reply.status).toBe(200)
    expect(emulator().connection(TOKEN)?.customer_id).toBe("late")
  })

  it("drops the connection so fetch rejects, recording status 0", async () => {
    emulator().inject({ fault: { kind: "drop" }, times: 1 })
    await expect(patch(emulator(), {})).rejects.toThrow()
    expect((await patch(emulator(), {})).status).toBe(200)
    expect(
      emulator()
        .requests()
        .map((r) => r.status)
    ).toStrictEqual([0, 200])
  })

  it("hangs until the client gives up", async () => {
    emulator().inject({ fault: { kind: "hang" } })
    const hanging = send(emulator(), "PATCH", "/connections", { signal: AbortSignal.timeout(150) })
    await expect(hanging).rejects.toMatchObject({ name: "TimeoutError" })
    expect(emulator().requests()).toMatchObject([{ method: "PATCH", status: 0 }])
  })

  it("records that the client closed a hanging request, and not a drop or an answer", async () => {
    emulator().inject({ fault: { kind: "hang" }, times: 1 })
    emulator().inject({ fault: { kind: "drop" }, times: 1 })
    const controller = new AbortController()
    const hanging = send(emulator(), "PATCH", "/connections", { signal: controller.signal })
    while (emulator().requests().length === 0) await new Promise((r) => setImmediate(r))
    expect(emulator().requests()[0]?.closedByClient).toBe(false)
    controller.abort()
    await expect(hanging).rejects.toMatchObject({ name: "AbortError" })
    while (emulator().requests()[0]?.closedByClient !== true) {
      await new Promise((r) => setImmediate(r))
    }
    await expect(patch(emulator(), {})).rejects.toThrow()
    expect((await patch(emulator(), {})).status).toBe(200)
    expect(
      emulator()
        .requests()
        .map((r) => [r.status, r.closedByClient])
    ).toStrictEqual([
      [0, true],
      [0, false],
      [200, false]
    ])
  })

  it("sends malformed bodies with the given status and content type", async () => {
    emulator().inject({
      fault: {
        kind: "malformed",
        status: 502,
        contentType: "text/html",
        body: "<html>Bad gateway</html>"
      },
      times: 1
    })
    emulator().inject({ fault: { kind: "malformed", body: '{"id": "conn_' }, times: 1 })
    emulator().inject({ fault: { kind: "malformed", body: "", contentType: "" }, times: 1 })
    const html = await patch(emulator(), {})
    expect([html.status, html.headers.get("content-type"), html.text]).toStrictEqual([
      502,
      "text/html",
      "<html>Bad gateway</html>"
    ])
    const truncated = await patch(emulator(), {})
    expect([truncated.status, truncated.headers.get("content-type"), truncated.text]).toStrictEqual(
      [200, "application/json", '{"id": "conn_']
    )
    const empty = await patch(emulator(), {})
    expect([empty.status, empty.headers.get("content-type"), empty.text]).toStrictEqual([
      200,
      null,
      ""
    ])
    expect(empty.headers.get("x-request-id")).not.toBeNull()
  })

  it("consumes rules with times in order, and matches on the raw access token", async () => {
    emulator().inject({ fault: { kind: "status", status: 500 }, accessToken: ACME_TOKEN, times: 2 })
    emulator().inject({
      fault: { kind: "status", status: 418 },
      accessToken: "not-a-known-token",
      times: 1
    })
    emulator().inject({ fault: { kind: "status", status: 503 }, times: 1 })
    const acme = { "x-trackstar-access-token": ACME_TOKEN }
    expect((await patch(emulator(), {}, acme)).status).toBe(500)
    expect(
      (await patch(emulator(), {}, { "x-trackstar-access-token": "not-a-known-token" })).status
    ).toBe(418)
    expect((await patch(emulator(), {})).status).toBe(503)
    expect((await patch(emulator(), {})).status).toBe(200)
    expect((await patch(emulator(), {}, acme)).status).toBe(500)
    expect((await patch(emulator(), {}, acme)).status).toBe(200)
    expect(
      (await patch(emulator(), {}, { "x-trackstar-access-token": "not-a-known-token" })).status
    ).toBe(401)
  })

  it("keeps a rule without times until cleared", async () => {
    emulator().inject({ fault: { kind: "status", status: 500 } })
    for (let i = 0; i < 3; i++) expect((await patch(emulator(), {})).status).toBe(500)
    emulator().clearFaults()
    expect((await patch(emulator(), {})).status).toBe(200)
  })

  it("refuses malformed rules", () => {
    expect(() => emulator().inject({ fault: { kind: "status", status: 99 } })).toThrow(/status/)
    expect(() => emulator().inject({ fault: { kind: "delay", ms: -1 } })).toThrow(/ms/)
    expect(() => emulator().inject({ fault: { kind: "drop" }, times: 0 })).toThrow(/times/)
  })
})

describe("control API", () => {
  it("lists connections without access tokens", async () => {
    const reply = await send(emulator(), "GET", "/_emulator/connections")
    expect(reply.status).toBe(200)
    expect(reply.json).toStrictEqual([
      { name: "default", id: "conn_demo_default", customer_id: null, webhooks_disabled: false },
      {
        name: "acme-warehouse",
        id: "conn_demo_acme",
        customer_id: "acme-001",
        webhooks_disabled: false
      }
    ])
    for (const connection of DEMO.connections)
      expect(reply.text).not.toContain(connection.accessToken)
  })

  it("injects and clears faults over HTTP, unaffected by them and unrecorded", async () => {
    const rule = { fault: { kind: "status", status: 503 }, accessToken: TOKEN }
    const injected = await send(emulator(), "POST", "/_emulator/faults", {
      body: JSON.stringify(rule)
    })
    expect(injected.status).toBe(204)
    expect((await patch(emulator(), {})).status).toBe(503)
    expect((await send(emulator(), "GET", "/_emulator/connections")).status).toBe(200)
    expect((await send(emulator(), "DELETE", "/_emulator/faults")).status).toBe(204)
    expect((await patch(emulator(), {})).status).toBe(200)
    expect(
      emulator()
        .requests()
        .map((r) => r.status)
    ).toStrictEqual([503, 200])
  })

  it("answers 400 to a bad fault rule", async () => {
    const notJson = await send(emulator(), "POST", "/_emulator/faults", { body: "{" })
    expect(notJson.status).toBe(400)
    const badKind = await send(emulator(), "POST", "/_emulator/faults", {
      body: JSON.stringify({ fault: { kind: "explode" } })
    })
    expect(badKind.status).toBe(400)
    expect(badKind.json).toMatchObject({ error: expect.stringMatching(/kind/) })
    const typo = await send(emulator(), "POST", "/_emulator/faults", {
      body: JSON.stringify({ fault: { kind: "drop" }, time: 1 })
    })
    expect(typo.status).toBe(400)
    expect((await patch(emulator(), {})).status).toBe(200)
  })
})
