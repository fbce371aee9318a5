// Spans and logs as an exporter would receive them, from a capturing tracer and logger.
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import type { Emulator } from "@trackstar-mcp/emulator"
import { Effect, Exit } from "effect"
import { ATTEMPT_SPAN, CALL_SPAN } from "../src/Telemetry.js"
import { type CapturedSpan, capturingLogger, capturingTracer } from "./capture.js"
import { clientFor, newConnection, requestsFor, startEmulator } from "./support.js"

let emulator: Emulator
beforeAll(async () => {
  emulator = await startEmulator()
})
afterAll(() => emulator.stop())

const attributes = (span: CapturedSpan | undefined) => Object.fromEntries(span?.attributes ?? [])

describe("spans", () => {
  it.live("a call span around one CLIENT span per attempt, and no platform HTTP span", () =>
    Effect.gen(function* () {
      const { tracer, spans } = capturingTracer()
      const { token, id, redacted } = newConnection(emulator)
      const client = yield* clientFor(emulator)
      const result = yield* client
        .updateConnection({ customer_id: "traced" }, { accessToken: redacted })
        .pipe(Effect.withTracer(tracer))
      const [sent] = requestsFor(emulator, token)

      expect(spans.map((s) => [s.name, s.parentName])).toStrictEqual([
        [CALL_SPAN, undefined],
        [ATTEMPT_SPAN, CALL_SPAN]
      ])
      const [call, attempt] = spans
      expect([call?.kind, attempt?.kind]).toStrictEqual(["internal", "client"])
      expect(attributes(call)).toStrictEqual({
        "http.request.method": "PATCH",
        "url.path": "/connections",
        "http.response.status_code": 200,
        "trackstar.request_id": sent?.requestId,
        "trackstar.outcome": "success",
        "trackstar.attempts": 1,
        "trackstar.connection_id": id
      })
      const url = new URL(emulator.url)
      expect(attributes(attempt)).toStrictEqual({
        "http.request.method": "PATCH",
        "url.path": "/connections",
        "url.full": `${emulator.url}/connections`,
        "server.address": url.hostname,
        "server.port": Number(url.port),
        "trackstar.attempt": 1,
        "http.response.status_code": 200,
        "trackstar.request_id": result.requestId,
        "trackstar.outcome": "success"
      })
      expect(spans.every((s) => s.exit !== undefined && Exit.isSuccess(s.exit))).toBe(true)
    })
  )

  it.live("one span per attempt, each with its number, status, request id and outcome", () =>
    Effect.gen(function* () {
      const { tracer, spans } = capturingTracer()
      const { token, redacted } = newConnection(emulator)
      emulator.inject({ fault: { kind: "status", status: 503 }, accessToken: token, times: 1 })
      emulator.inject({ fault: { kind: "drop" }, accessToken: token, times: 1 })
      const client = yield* clientFor(emulator)
      yield* client
        .updateConnection({ customer_id: "retried" }, { accessToken: redacted })
        .pipe(Effect.withTracer(tracer))
      const sent = requestsFor(emulator, token)

      const attempts = spans.filter((s) => s.name === ATTEMPT_SPAN).map(attributes)
      expect(attempts).toMatchObject([
        {
          "trackstar.attempt": 1,
          "http.response.status_code": 503,
          "trackstar.request_id": sent[0]?.requestId,
          "trackstar.outcome": "ServerError"
        },
        { "trackstar.attempt": 2, "trackstar.outcome": "TransportError" },
        {
          "trackstar.attempt": 3,
          "http.response.status_code": 200,
          "trackstar.request_id": sent[2]?.requestId,
          "trackstar.outcome": "success"
        }
      ])
      expect(attempts[1]).not.toHaveProperty("http.response.status_code")
      expect(attributes(spans.find((s) => s.name === CALL_SPAN))).toMatchObject({
        "trackstar.attempts": 3,
        "trackstar.outcome": "success"
      })
    })
  )

  it.live("a failed call records its outcome, status and attempts, and ends failed", () =>
    Effect.gen(function* () {
      const { tracer, spans } = capturingTracer()
      const { token, redacted } = newConnection(emulator)
      emulator.inject({ fault: { kind: "hang" }, accessToken: token })
      const client = yield* clientFor(emulator, {
        attemptTimeout: "50 millis",
        maxAttempts: 2
      })
      yield* client
        .updateConnection({ customer_id: "x" }, { accessToken: redacted })
        .pipe(Effect.withTracer(tracer), Effect.exit)
      const call = spans.find((s) => s.name === CALL_SPAN)
      expect(attributes(call)).toMatchObject({
        "trackstar.outcome": "Timeout",
        "trackstar.timeout": "attempt",
        "trackstar.attempts": 2
      })
      expect(call?.exit !== undefined && Exit.isFailure(call.exit)).toBe(true)
      expect(spans.filter((s) => s.name === ATTEMPT_SPAN).map(attributes)).toMatchObject([
        { "trackstar.attempt": 1, "trackstar.outcome": "Timeout" },
        { "trackstar.attempt": 2, "trackstar.outcome": "Timeout" }
      ])
    })
  )

  it.live("the bulk helper wraps its calls in one span", () =>
    Effect.gen(function* () {
      const { tracer, spans } = capturingTracer()
      const a = newConnection(emulator)
      const client = yield* clientFor(emulator)
      yield* client
        .updateConnections([
          { accessToken: a.redacted, body: { customer_id: "1" } },
          { accessToken: a.redacted, body: { customer_id: "2" } }
        ])
        .pipe(Effect.withTracer(tracer))
      const bulk = spans.find((s) => s.name === "TrackstarClient.updateConnections")
      expect(attributes(bulk)).toStrictEqual({ "trackstar.items": 2 })
      const calls = spans.filter((s) => s.name === CALL_SPAN)
      expect(calls.map((s) => s.parentName)).toStrictEqual([bulk?.name, bulk?.name])
    })
  )
})

describe("logs", () => {
  it.live("each failed attempt logs at debug, annotated with attempt, outcome and status", () =>
    Effect.gen(function* () {
      const logs = capturingLogger()
      const { token, redacted } = newConnection(emulator)
      emulator.inject({ fault: { kind: "status", status: 502 }, accessToken: token, times: 2 })
      const client = yield* clientFor(emulator)
      yield* client
        .updateConnection({ customer_id: "logged" }, { accessToken: redacted })
        .pipe(Effect.provide(logs.layer))
      const structured = logs.lines
        .filter((line) => line.startsWith("{"))
        .map((line): unknown => JSON.parse(line))
      expect(structured).toMatchObject([
        {
          logLevel: "DEBUG",
          message: expect.stringMatching(/^Trackstar attempt 1 failed: .*HTTP 502/),
          annotations: {
            "trackstar.operation": "PATCH /connections",
            "trackstar.attempt": 1,
            "trackstar.outcome": "ServerError",
            "http.response.status_code": 502,
            "trackstar.retryable": true
          },
          spans: {}
        },
        {
          message: expect.stringMatching(/^Trackstar attempt 2 failed/),
          annotations: { "trackstar.attempt": 2 }
        }
      ])
    })
  )

  it.live("what onRetry logs carries the call's annotation too", () =>
    Effect.gen(function* () {
      const logs = capturingLogger()
      const { token, redacted } = newConnection(emulator)
      emulator.inject({ fault: { kind: "status", status: 503 }, accessToken: token, times: 1 })
      const client = yield* clientFor(emulator)
      yield* client
        .updateConnection(
          { customer_id: "retried" },
          { accessToken: redacted, onRetry: () => Effect.logInfo("about to retry") }
        )
        .pipe(Effect.provide(logs.layer))
      const structured = logs.lines
        .filter((line) => line.startsWith("{"))
        .map((line): { message: unknown; annotations: unknown } => JSON.parse(line))
      expect(structured.find((l) => l.message === "about to retry")).toMatchObject({
        annotations: { "trackstar.operation": "PATCH /connections" }
      })
    })
  )
})
