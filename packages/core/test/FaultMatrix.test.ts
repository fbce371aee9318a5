// Every failure the issue lists, played by the emulator over real HTTP: the typed error (or
// eventual success) the caller sees, and exactly how many requests reached the server.
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import type { Emulator, Fault } from "@trackstar-mcp/emulator"
import { Effect, Exit, Redacted } from "effect"
import type { TrackstarClientOptions } from "../src/Config.js"
import { capturingTracer } from "./capture.js"
import {
  clientFor,
  eventually,
  failureOf,
  HTTP_CLIENTS,
  newConnection,
  refusedUrl,
  requestsFor,
  startEmulator
} from "./support.js"

let emulator: Emulator
beforeAll(async () => {
  emulator = await startEmulator()
})
afterAll(() => emulator.stop())

/** Fast, small retry budget so exhaustion rows end quickly. */
const MATRIX: Partial<TrackstarClientOptions> = {
  maxAttempts: 3,
  retryBaseDelay: "5 millis",
  retryMaxDelay: "20 millis",
  attemptTimeout: "2 seconds",
  deadline: "10 seconds"
}

interface Row {
  readonly name: string
  /** The faults for this row's own access token, built when the row runs (some carry times). */
  readonly faults: () => ReadonlyArray<{ readonly fault: Fault; readonly times?: number }>
  readonly options?: Partial<TrackstarClientOptions>
  /** The typed failure, matched field by field, or eventual success. */
  readonly expected: "success" | Record<string, unknown>
  /** Requests that reached the emulator: the first attempt and every retry. */
  readonly attempts: number
  /** A lower bound on the call's duration, when a server-advised wait must have been honoured. */
  readonly atLeastMillis?: () => number
  /** An upper bound, when the client must give up rather than wait. */
  readonly atMostMillis?: number
}

const status = (code: number, body?: string | object, headers?: Record<string, string>): Fault => ({
  kind: "status",
  status: code,
  ...(body === undefined ? {} : { body }),
  ...(headers === undefined ? {} : { headers })
})
const once =
  (fault: Fault, times = 1) =>
  () => [{ fault, times }]
const always = (fault: Fault) => () => [{ fault }]
const REQUEST_ID = expect.stringMatching(/^req_[0-9a-f]{24}$/)

// Computed when the row runs: a reset at least half a second away, so honouring it is visible.
let resetAt = 0
const HTML_502 = "<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"

const rows: ReadonlyArray<Row> = [
  {
    name: "401: credentials refused, not retried",
    faults: once(status(401, { error: "Invalid access token", origin: "trackstar" })),
    expected: { _tag: "Unauthorized", status: 401, origin: "trackstar", requestId: REQUEST_ID },
    attempts: 1
  },
  {
    name: "403: read-only key, not retried",
    faults: once(status(403, { error: "API key is read only", origin: "trackstar" })),
    expected: { _tag: "Unauthorized", status: 403, detail: "API key is read only" },
    attempts: 1
  },
  {
    name: "404 with the id Trackstar could not find",
    faults: once(
      status(404, { error: "Connection not found", id: "conn_gone", origin: "trackstar" })
    ),
    expected: { _tag: "NotFound", status: 404, id: "conn_gone", origin: "trackstar" },
    attempts: 1
  },
  {
    name: "422 with detail kept structured",
    faults: once(
      status(422, {
        error: "Validation error",
        origin: "integration",
        detail: { json: { customer_id: ["Too long.", "Not allowed by the WMS."] } }
      })
    ),
    expected: {
      _tag: "ValidationFailed",
      status: 422,
      origin: "integration",
      fields: [
        {
          location: "json",
          field: "customer_id",
          messages: ["Too long.", "Not allowed by the WMS."]
        }
      ]
    },
    attempts: 1
  },
  {
    name: "429 with retry-after in seconds, then success after that wait",
    faults: once(status(429, { error: "Rate limit exceeded" }, { "retry-after": "1" })),
    expected: "success",
    attempts: 2,
    atLeastMillis: () => 1000
  },
  {
    name: "429 with retry-after as an HTTP date, then success after that wait",
    faults: () => [
      {
        fault: status(429, undefined, { "retry-after": new Date(Date.now() + 2000).toUTCString() }),
        times: 1
      }
    ],
    expected: "success",
    attempts: 2,
    atLeastMillis: () => 950
  },
  {
    name: "429 with only x-ratelimit-reset, then success at the reset",
    faults: () => {
      resetAt = Math.ceil((Date.now() + 500) / 1000)
      return [{ fault: status(429, undefined, { "x-ratelimit-reset": String(resetAt) }), times: 1 }]
    },
    expected: "success",
    attempts: 2,
    atLeastMillis: () => resetAt * 1000 - Date.now() - 50
  },
  {
    name: "429 exhausted: retry-after and every x-ratelimit-* value reported",
    faults: always(
      status(
        429,
        { error: "Rate limit exceeded", origin: "trackstar" },
        {
          "retry-after": "7",
          "x-ratelimit-limit": "50",
          "x-ratelimit-remaining": "0",
          "x-ratelimit-reset": "1767225600"
        }
      )
    ),
    options: { maxAttempts: 1 },
    expected: {
      _tag: "RateLimited",
      status: 429,
      requestId: REQUEST_ID,
      origin: "trackstar",
      retryAfterMillis: 7000,
      limit: 50,
      remaining: 0,
      resetEpochSeconds: 1767225600
    },
    attempts: 1
  },
  {
    name: "429 whose retry-after passes the deadline: fails at once instead of sleeping",
    faults: always(status(429, { error: "Rate limit exceeded" }, { "retry-after": "30" })),
    options: { deadline: "2 seconds" },
    expected: { _tag: "RateLimited", retryAfterMillis: 30_000 },
    attempts: 1,
    atMostMillis: 1000
  },
  ...[500, 502, 503, 504].map(
    (code): Row => ({
      name: `${code} twice, then success on the third attempt`,
      faults: once(status(code), 2),
      expected: "success",
      attempts: 3
    })
  ),
  {
    name: "503 with retry-after: the advised wait is honoured",
    faults: once(status(503, undefined, { "retry-after": "1" })),
    expected: "success",
    attempts: 2,
    atLeastMillis: () => 1000
  },
  {
    name: "500 every time: ServerError after maxAttempts",
    faults: always(status(500, { error: "Internal error", origin: "trackstar" })),
    expected: { _tag: "ServerError", status: 500, detail: "Internal error", origin: "trackstar" },
    attempts: 3
  },
  {
    name: "501: not implemented for this integration, not retried",
    faults: always(
      status(501, {
        error: "Endpoint update_connection is not implemented for Cool WMS",
        origin: "integration"
      })
    ),
    expected: {
      _tag: "NotImplemented",
      status: 501,
      origin: "integration",
      detail: "Endpoint update_connection is not implemented for Cool WMS"
    },
    attempts: 1
  },
  ...[400, 409].map(
    (code): Row => ({
      name: `${code}: not in the contract, not retried`,
      faults: always(status(code, { error: "Nope", origin: "trackstar" })),
      expected: { _tag: "UnexpectedResponse", status: code, detail: "Nope" },
      attempts: 1
    })
  ),
  {
    name: "connection reset once, then success",
    faults: once({ kind: "drop" }),
    expected: "success",
    attempts: 2
  },
  {
    name: "connection reset every time: TransportError after maxAttempts",
    faults: always({ kind: "drop" }),
    expected: {
      _tag: "TransportError",
      baseUrl: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/),
      reason: expect.stringMatching(/connection (reset|closed)/)
    },
    attempts: 3
  },
  {
    name: "hang once: the attempt times out, the retry succeeds",
    faults: once({ kind: "hang" }),
    options: { attemptTimeout: "200 millis" },
    expected: "success",
    attempts: 2
  },
  {
    name: "hang every time: attempt timeouts exhausted",
    faults: always({ kind: "hang" }),
    options: { attemptTimeout: "100 millis", maxAttempts: 2 },
    expected: { _tag: "Timeout", scope: "attempt", millis: 100 },
    attempts: 2
  },
  {
    // Attempts start at ~0 and ~405 ms; the deadline at 600 ms cuts the second. Wide margins
    // on both sides (~195 ms), so a loaded machine cannot change the count.
    name: "hang every time: the deadline ends the call",
    faults: always({ kind: "hang" }),
    options: { attemptTimeout: "400 millis", deadline: "600 millis" },
    expected: { _tag: "Timeout", scope: "deadline", millis: 600 },
    attempts: 2
  },
  {
    name: "200 with an HTML page",
    faults: always({
      kind: "malformed",
      contentType: "text/html",
      body: "<html><body>Maintenance</body></html>"
    }),
    expected: {
      _tag: "UnexpectedResponse",
      status: 200,
      excerpt: "<html><body>Maintenance</body></html>",
      problem: expect.stringMatching(/not JSON/)
    },
    attempts: 1
  },
  {
    name: "200 with an empty body",
    faults: always({ kind: "malformed", contentType: "", body: "" }),
    expected: {
      _tag: "UnexpectedResponse",
      status: 200,
      excerpt: "",
      problem: expect.stringMatching(/empty/)
    },
    attempts: 1
  },
  {
    name: "200 with truncated JSON",
    faults: always({ kind: "malformed", body: '{"id": "conn_' }),
    expected: { _tag: "UnexpectedResponse", status: 200, excerpt: '{"id": "conn_' },
    attempts: 1
  },
  {
    name: "200 with JSON of the wrong shape",
    faults: always(status(200, { id: 5, object: "connection" })),
    expected: {
      _tag: "UnexpectedResponse",
      status: 200,
      problem: expect.stringMatching(/not \{id, object, updated\}/)
    },
    attempts: 1
  },
  {
    name: "a proxy's HTML 502 page once, then success",
    faults: once({ kind: "malformed", status: 502, contentType: "text/html", body: HTML_502 }),
    expected: "success",
    attempts: 2
  },
  {
    name: "a proxy's HTML 502 page every time: ServerError with an excerpt",
    faults: always({ kind: "malformed", status: 502, contentType: "text/html", body: HTML_502 }),
    expected: { _tag: "ServerError", status: 502, excerpt: HTML_502, requestId: REQUEST_ID },
    attempts: 3
  }
]

describe.concurrent.each(Object.entries(HTTP_CLIENTS))("fault matrix over %s", (_, http) => {
  it.live.each(rows)("$name", (row) =>
    Effect.gen(function* () {
      const { token, redacted } = newConnection(emulator)
      for (const { fault, times } of row.faults()) {
        emulator.inject({ fault, accessToken: token, ...(times === undefined ? {} : { times }) })
      }
      const atLeast = row.atLeastMillis?.()
      const client = yield* clientFor(emulator, { ...MATRIX, ...row.options }, http)
      const started = Date.now()
      const exit = yield* Effect.exit(
        client.updateConnection({ customer_id: "matrix" }, { accessToken: redacted })
      )
      const elapsed = Date.now() - started
      const sent = requestsFor(emulator, token)
      expect(sent).toHaveLength(row.attempts)
      const last = sent.at(-1)

      if (row.expected === "success") {
        if (!Exit.isSuccess(exit)) throw new Error(`expected success, got ${String(exit.cause)}`)
        expect(exit.value).toMatchObject({ updated: true, attempts: row.attempts })
        expect(exit.value.requestId).toBe(last?.requestId)
        expect(emulator.connection(token)?.customer_id).toBe("matrix")
      } else {
        const error = failureOf(exit)
        expect(error).toMatchObject(row.expected)
        if ("requestId" in error && error.requestId !== undefined) {
          expect(error.requestId).toBe(last?.requestId)
        }
        expect(error.message.length).toBeGreaterThan(20)
      }
      if (atLeast !== undefined) expect(elapsed).toBeGreaterThanOrEqual(atLeast)
      if (row.atMostMillis !== undefined) expect(elapsed).toBeLessThan(row.atMostMillis)
      // A timed-out attempt aborts its request: the server sees the client close the socket.
      if (row.faults().some(({ fault }) => fault.kind === "hang")) {
        yield* eventually(
          () => requestsFor(emulator, token).every((r) => r.status !== 0 || r.closedByClient),
          "every hanging request closed by the client"
        )
      }
    })
  )

  it.live("an unknown access token: the emulator's own 401, not retried", () =>
    Effect.gen(function* () {
      const token = `tok_unknown_${Date.now()}`
      const client = yield* clientFor(emulator, MATRIX, http)
      const error = failureOf(
        yield* Effect.exit(
          client.updateConnection({ customer_id: "x" }, { accessToken: Redacted.make(token) })
        )
      )
      expect(error).toMatchObject({ _tag: "Unauthorized", status: 401, origin: "trackstar" })
      expect(requestsFor(emulator, token)).toHaveLength(1)
    })
  )

  it.live("connection refused: TransportError after maxAttempts (attempts counted by span)", () =>
    Effect.gen(function* () {
      const baseUrl = yield* Effect.promise(refusedUrl)
      const { tracer, spans } = capturingTracer()
      const client = yield* clientFor(emulator, { ...MATRIX, baseUrl }, http)
      const error = failureOf(
        yield* Effect.exit(
          client.updateConnection({ customer_id: "x" }).pipe(Effect.withTracer(tracer))
        )
      )
      expect(error).toMatchObject({
        _tag: "TransportError",
        baseUrl,
        reason: "connection refused (ECONNREFUSED)"
      })
      expect(spans.filter((s) => s.name === "TrackstarClient.attempt")).toHaveLength(3)
    })
  )
})

describe("the emulator's real 50 writes/s limiter, pacing off", () => {
  const burst = (options: Partial<TrackstarClientOptions>) =>
    Effect.gen(function* () {
      const { token, redacted } = newConnection(emulator)
      const client = yield* clientFor(emulator, { writesPerSecond: 0, ...options })
      // 120 writes within well under a second span at most two fixed windows, so at
      // least one window receives more than 50 of them.
      const outcomes = yield* client.updateConnections(
        Array.from({ length: 120 }, (_, i) => ({
          accessToken: redacted,
          body: { customer_id: `b${i}` }
        })),
        { concurrency: "unbounded" }
      )
      return { outcomes, sent: requestsFor(emulator, token) }
    })

  it.live("answers the excess with 429s whose headers the client reports", () =>
    Effect.gen(function* () {
      const { outcomes, sent } = yield* burst({ maxAttempts: 1 })
      const limited = outcomes.flatMap((o) =>
        o.result._tag === "Left" && o.result.left._tag === "RateLimited" ? [o.result.left] : []
      )
      const succeeded = outcomes.filter((o) => o.result._tag === "Right")
      expect(limited.length).toBeGreaterThanOrEqual(20)
      expect(limited.length + succeeded.length).toBe(120)
      expect(sent.filter((r) => r.status === 429)).toHaveLength(limited.length)
      for (const error of limited) {
        expect(error).toMatchObject({ status: 429, limit: 50, remaining: 0, origin: "trackstar" })
        expect(error.retryAfterMillis).toBeGreaterThanOrEqual(1000)
        expect(error.resetEpochSeconds).toBeGreaterThan(Date.now() / 1000 - 5)
      }
    })
  )

  it.live("retries every 429 after its retry-after until all 120 succeed", () =>
    Effect.gen(function* () {
      const { outcomes, sent } = yield* burst({})
      const attempts = outcomes.map((o) =>
        o.result._tag === "Right" ? o.result.right.attempts : 0
      )
      expect(attempts.every((n) => n >= 1)).toBe(true)
      const retried = sent.filter((r) => r.status === 429).length
      expect(retried).toBeGreaterThan(0)
      expect(sent).toHaveLength(120 + retried)
      expect(attempts.reduce((a, b) => a + b, 0)).toBe(sent.length)
    })
  )
})
