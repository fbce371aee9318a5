// The Promise facade as a service without Effect would use it: plain awaits, try/catch,
// instanceof, AbortSignal.
import type { Emulator } from "@trackstar-mcp/emulator"
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest"
import * as Errors from "../src/Errors.js"
import {
  ConfigurationError,
  createTrackstarClient,
  type TrackstarPromiseClient
} from "../src/Promise.js"
import { API_KEY, newConnection, requestsFor, startEmulator, TOKEN_A } from "./support.js"

let emulator: Emulator
let client: TrackstarPromiseClient
beforeAll(async () => {
  emulator = await startEmulator()
  client = createTrackstarClient({
    apiKey: API_KEY,
    accessToken: TOKEN_A,
    baseUrl: emulator.url,
    retryBaseDelay: "5 millis",
    retryMaxDelay: "20 millis",
    maxAttempts: 3
  })
})
afterAll(async () => {
  await client.close()
  await emulator.stop()
})
afterEach(() => emulator.clearFaults())

const rejectionOf = async (promise: Promise<unknown>): Promise<unknown> => {
  try {
    await promise
  } catch (error) {
    return error
  }
  throw new Error("expected a rejection")
}

describe("createTrackstarClient", () => {
  it("updates a connection with the configured token, or a per-call plain-string token", async () => {
    expect(await client.updateConnection({ customer_id: "promised" })).toMatchObject({
      id: "conn_a",
      updated: true,
      attempts: 1,
      requestId: expect.stringMatching(/^req_/)
    })
    const other = newConnection(emulator)
    const result = await client.updateConnection(
      { webhooks_disabled: true },
      { accessToken: other.token }
    )
    expect(result.id).toBe(other.id)
    expect(emulator.connection(other.token)?.webhooks_disabled).toBe(true)
  })

  it("rejects with the same tagged error instances as the Effect API", async () => {
    const { token } = newConnection(emulator)
    emulator.inject({
      fault: {
        kind: "status",
        status: 429,
        headers: { "retry-after": "120" },
        body: { error: "Rate limit exceeded", origin: "trackstar" }
      },
      accessToken: token
    })
    // Two minutes is past the 60 s deadline, so the client gives up at once instead of waiting.
    const error = await rejectionOf(
      client.updateConnection({ customer_id: "x" }, { accessToken: token })
    )
    expect(error).toBeInstanceOf(Errors.RateLimited)
    expect(error).toBeInstanceOf(Error)
    expect(error).toMatchObject({ _tag: "RateLimited", status: 429, retryAfterMillis: 120_000 })
    expect(requestsFor(emulator, token)).toHaveLength(1)
  })

  it("rejects invalid input with InvalidRequest, listing every problem, sending nothing", async () => {
    const before = emulator.requests().length
    // A JavaScript caller can pass anything.
    const input: unknown = JSON.parse('{"customer_id": 5, "webhooks_disabled": "no", "x": 1}')
    const error = await rejectionOf(
      client.updateConnection(input as Parameters<typeof client.updateConnection>[0])
    )
    expect(error).toBeInstanceOf(Errors.InvalidRequest)
    if (!(error instanceof Errors.InvalidRequest)) return
    expect(error.issues.map((i) => i.path)).toStrictEqual(["x", "customer_id", "webhooks_disabled"])
    expect(emulator.requests()).toHaveLength(before)
  })

  it("cancels a call with an AbortSignal, aborting the request in flight", async () => {
    const { token } = newConnection(emulator)
    emulator.inject({ fault: { kind: "hang" }, accessToken: token })
    const controller = new AbortController()
    const pending = client.updateConnection(
      { customer_id: "never" },
      { accessToken: token, signal: controller.signal }
    )
    while (requestsFor(emulator, token).length === 0) await new Promise((r) => setTimeout(r, 2))
    controller.abort(new Error("the caller gave up"))
    await expect(pending).rejects.toThrow("the caller gave up")
    while (requestsFor(emulator, token)[0]?.closedByClient !== true) {
      await new Promise((r) => setTimeout(r, 2))
    }
    expect(requestsFor(emulator, token)).toHaveLength(1)
  })

  it("closes: a call still running is cancelled and its request aborted; later calls reject", async () => {
    const { token } = newConnection(emulator)
    emulator.inject({ fault: { kind: "hang" }, accessToken: token })
    const own = createTrackstarClient({
      apiKey: API_KEY,
      accessToken: token,
      baseUrl: emulator.url
    })
    const pending = own.updateConnection({ customer_id: "never" })
    while (requestsFor(emulator, token).length === 0) await new Promise((r) => setTimeout(r, 2))
    await own.close()
    await expect(pending).rejects.toThrow(/closed while this call was running/)
    while (requestsFor(emulator, token)[0]?.closedByClient !== true) {
      await new Promise((r) => setTimeout(r, 2))
    }
    await expect(own.updateConnection({ customer_id: "late" })).rejects.toThrow(/closed/)
  })

  it("updates many connections, settling each one in input order", async () => {
    const good = newConnection(emulator)
    const broken = newConnection(emulator)
    emulator.inject({ fault: { kind: "status", status: 404 }, accessToken: broken.token })
    const settled = await client.updateConnections(
      [
        { accessToken: good.token, body: { customer_id: "g" } },
        { accessToken: broken.token, body: { customer_id: "b" } },
        { accessToken: good.token, body: { customer_id: "g2" } }
      ],
      { concurrency: 2 }
    )
    expect(settled.map((s) => [s.index, s.status])).toStrictEqual([
      [0, "fulfilled"],
      [1, "rejected"],
      [2, "fulfilled"]
    ])
    const [, failed] = settled
    expect(failed?.status === "rejected" && failed.reason).toBeInstanceOf(Errors.NotFound)
  })

  it("throws a ConfigurationError naming a bad setting at creation, not on the first call", () => {
    expect(() => createTrackstarClient({ apiKey: API_KEY, baseUrl: "http://example.com" })).toThrow(
      ConfigurationError
    )
    expect(() => createTrackstarClient({ apiKey: API_KEY, maxAttempts: 0 })).toThrow(
      /TRACKSTAR_MAX_ATTEMPTS/
    )
  })

  it('reads TRACKSTAR_* from the environment with "env"', async () => {
    const saved = { ...process.env }
    Object.assign(process.env, {
      TRACKSTAR_API_KEY: API_KEY,
      TRACKSTAR_ACCESS_TOKEN: TOKEN_A,
      TRACKSTAR_BASE_URL: emulator.url,
      TRACKSTAR_TIMEOUT_MS: ""
    })
    try {
      const fromEnv = createTrackstarClient("env")
      expect((await fromEnv.updateConnection({ customer_id: "env" })).id).toBe("conn_a")
      await fromEnv.close()
      process.env.TRACKSTAR_MAX_ATTEMPTS = "many"
      expect(() => createTrackstarClient("env")).toThrow(/TRACKSTAR_MAX_ATTEMPTS/)
    } finally {
      for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key]
      Object.assign(process.env, saved)
    }
  })

  it("is what the package exports as @trackstar-mcp/core/promise (the built entry)", async () => {
    // A specifier in a variable: resolved by Node at run time through package.json `exports`.
    const specifier = "@trackstar-mcp/core/promise"
    const entry: unknown = await import(/* @vite-ignore */ specifier)
    expect(typeof Reflect.get(Object(entry), "createTrackstarClient")).toBe("function")
  })
})
