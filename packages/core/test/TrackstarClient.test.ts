import { FetchHttpClient } from "@effect/platform"
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "@effect/vitest"
import type { Emulator } from "@trackstar-mcp/emulator"
import { Effect, Exit, Layer, Redacted } from "effect"
import type { UpdateConnectionRequest } from "../src/Schemas.js"
import * as TrackstarClient from "../src/TrackstarClient.js"
import { API_KEY, clientFor, HTTP_CLIENTS, startEmulator, TOKEN_A, TOKEN_B } from "./support.js"

let emulator: Emulator
beforeAll(async () => {
  emulator = await startEmulator()
})
afterAll(() => emulator.stop())
beforeEach(() => {
  emulator.clearFaults()
  emulator.clearRequests()
})

const failureOf = <A, E>(exit: Exit.Exit<A, E>): E => {
  if (Exit.isSuccess(exit)) throw new Error("expected a failure")
  const failure = exit.cause._tag === "Fail" ? exit.cause.error : undefined
  if (failure === undefined) throw new Error(`expected a typed failure, got ${exit.cause._tag}`)
  return failure
}

describe("TrackstarClient against the emulator", () => {
  it.live("updates the connection and returns Trackstar's answer with the request id", () =>
    Effect.gen(function* () {
      const client = yield* clientFor(emulator)
      const result = yield* client.updateConnection({
        customer_id: "acme-42",
        webhooks_disabled: true
      })
      expect(result).toMatchObject({
        id: "conn_a",
        object: "connection",
        updated: true,
        attempts: 1
      })
      expect(result.requestId).toMatch(/^req_/)
      expect(emulator.connection(TOKEN_A)).toMatchObject({
        customer_id: "acme-42",
        webhooks_disabled: true
      })
      const [request] = emulator.requests()
      expect(request?.headers["x-trackstar-api-key"]).toBe(API_KEY)
      expect(request?.headers["content-type"]).toMatch(/^application\/json/)
      expect(JSON.parse(request?.body ?? "")).toStrictEqual({
        customer_id: "acme-42",
        webhooks_disabled: true
      })
    })
  )

  it.live("clears customer_id with null and reports no change on a repeat", () =>
    Effect.gen(function* () {
      const client = yield* clientFor(emulator, { accessToken: Redacted.make(TOKEN_B) })
      expect((yield* client.updateConnection({ customer_id: null })).updated).toBe(true)
      expect(emulator.connection(TOKEN_B)?.customer_id).toBeNull()
      expect((yield* client.updateConnection({ customer_id: null })).updated).toBe(false)
    })
  )

  it.live("takes a per-call access token over the configured one", () =>
    Effect.gen(function* () {
      const client = yield* clientFor(emulator)
      const result = yield* client.updateConnection(
        { webhooks_disabled: false },
        { accessToken: Redacted.make(TOKEN_B) }
      )
      expect(result.id).toBe("conn_b")
    })
  )

  it.live("fails with Unauthorized on a wrong API key, without retrying", () =>
    Effect.gen(function* () {
      const client = yield* clientFor(emulator, { apiKey: Redacted.make("sk_wrong_key_0000") })
      const error = failureOf(yield* Effect.exit(client.updateConnection({ customer_id: "x" })))
      expect(error).toMatchObject({ _tag: "Unauthorized", status: 401, origin: "trackstar" })
      expect(error).toHaveProperty("requestId", expect.stringMatching(/^req_/))
      expect(emulator.requests()).toHaveLength(1)
      expect(error.message).not.toContain("sk_wrong_key_0000")
    })
  )

  it.live("fails with ValidationFailed carrying Trackstar's field messages on a 422", () =>
    Effect.gen(function* () {
      emulator.inject({
        fault: {
          kind: "status",
          status: 422,
          body: {
            error: "Validation error",
            origin: "trackstar",
            detail: { json: { customer_id: ["Too long."] } }
          }
        }
      })
      const client = yield* clientFor(emulator)
      const error = failureOf(
        yield* Effect.exit(client.updateConnection({ customer_id: "x".repeat(300) }))
      )
      expect(error).toMatchObject({
        _tag: "ValidationFailed",
        status: 422,
        fields: [{ location: "json", field: "customer_id", messages: ["Too long."] }]
      })
      expect(emulator.requests()).toHaveLength(1)
    })
  )

  it.live("refuses invalid input before sending anything", () =>
    Effect.gen(function* () {
      const client = yield* clientFor(emulator)
      // A JavaScript caller can pass anything; the decode is the guard.
      const input = { webhooks_disabled: "yes", extra: 1 } as unknown as UpdateConnectionRequest
      const error = failureOf(yield* Effect.exit(client.updateConnection(input)))
      expect(error._tag).toBe("InvalidRequest")
      expect(error.message).toContain("webhooks_disabled must be true or false")
      expect(error.message).toContain("extra is not a field")
      expect(emulator.requests()).toHaveLength(0)
    })
  )

  it.live("asks for an access token when neither the call nor the config has one", () =>
    Effect.gen(function* () {
      const client = yield* clientFor(emulator, { accessToken: undefined })
      const error = failureOf(yield* Effect.exit(client.updateConnection({ customer_id: "x" })))
      expect(error.message).toContain("TRACKSTAR_ACCESS_TOKEN")
      expect(emulator.requests()).toHaveLength(0)
    })
  )

  it.live("describes the request without sending it", () =>
    Effect.gen(function* () {
      const client = yield* clientFor(emulator)
      const prepared = yield* client.prepareUpdate({ webhooks_disabled: true })
      expect(prepared).toStrictEqual({
        method: "PATCH",
        url: `${emulator.url}/connections`,
        headers: {
          accept: "application/json",
          "content-type": "application/json",
          "x-trackstar-api-key": "<redacted>",
          "x-trackstar-access-token": "<redacted>"
        },
        body: { webhooks_disabled: true }
      })
      expect(emulator.requests()).toHaveLength(0)
    })
  )

  it.live("works as a layer read from config, composed with the HttpClient layer", () =>
    TrackstarClient.updateConnection({ customer_id: "from-layer" }).pipe(
      Effect.provide(
        TrackstarClient.layer({
          apiKey: Redacted.make(API_KEY),
          accessToken: Redacted.make(TOKEN_A),
          baseUrl: emulator.url
        }).pipe(Layer.provide(FetchHttpClient.layer))
      ),
      Effect.map((result) => expect(result.id).toBe("conn_a"))
    )
  )
})

describe("base URL", () => {
  it.live.each(["http://example.com", "ftp://127.0.0.1", "not a url", "http://10.0.0.1:8080"])(
    "refuses %s before anything is sent",
    (baseUrl) =>
      Effect.gen(function* () {
        const exit = yield* Effect.exit(
          TrackstarClient.make({ apiKey: Redacted.make(API_KEY), baseUrl }).pipe(
            Effect.provide(FetchHttpClient.layer)
          )
        )
        const error = failureOf(exit)
        expect(String(error)).toContain("TRACKSTAR_BASE_URL")
      })
  )

  it.live.each([
    "https://production.trackstarhq.com",
    "http://127.0.0.1:1234",
    "http://localhost:8080",
    "http://[::1]:9"
  ])("accepts %s", (baseUrl) =>
    Effect.gen(function* () {
      const client = yield* TrackstarClient.make({ apiKey: Redacted.make(API_KEY), baseUrl }).pipe(
        Effect.provide(FetchHttpClient.layer)
      )
      expect(client.baseUrl.href.startsWith(baseUrl.replace(/\/$/, ""))).toBe(true)
    })
  )
})

describe("credentials stay where they belong", () => {
  it.live.each(Object.entries(HTTP_CLIENTS))(
    "does not follow a redirect over %s, so no credential reaches its target",
    ([, http]) =>
      Effect.gen(function* () {
        const elsewhere = yield* Effect.promise(() => startEmulator())
        try {
          emulator.inject({
            fault: {
              kind: "status",
              status: 307,
              headers: { location: `${elsewhere.url}/connections` },
              body: ""
            },
            times: 1
          })
          const client = yield* clientFor(emulator, { maxAttempts: 1 }, http)
          const error = failureOf(yield* Effect.exit(client.updateConnection({ customer_id: "x" })))
          expect(error).toMatchObject({ _tag: "UnexpectedResponse", status: 307 })
          expect(elsewhere.requests()).toHaveLength(0)
        } finally {
          yield* Effect.promise(() => elsewhere.stop())
        }
      })
  )

  it.live(
    "refuses an access token no HTTP header can carry, before sending, without echoing it",
    () =>
      Effect.gen(function* () {
        const client = yield* clientFor(emulator)
        const exit = yield* Effect.exit(
          client.updateConnection(
            { customer_id: "x" },
            { accessToken: Redacted.make("tok with space\n") }
          )
        )
        const error = failureOf(exit)
        expect(error._tag).toBe("InvalidRequest")
        expect(error.message).toContain(
          "accessToken contains a character an HTTP header cannot carry"
        )
        expect(error.message).not.toContain("tok with space")
        expect(emulator.requests()).toHaveLength(0)
      })
  )

  it.live.each([
    "https://user:pass@example.com",
    "https://example.com/?key=1",
    "https://example.com/#x"
  ])("refuses the base URL %s", (baseUrl) =>
    Effect.gen(function* () {
      const exit = yield* Effect.exit(
        TrackstarClient.make({ apiKey: Redacted.make(API_KEY), baseUrl }).pipe(
          Effect.provide(FetchHttpClient.layer)
        )
      )
      const error = failureOf(exit)
      expect(String(error)).toContain("plain origin")
      expect(String(error)).not.toContain("pass")
    })
  )
})
