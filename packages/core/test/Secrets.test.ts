// No secret in anything the client produces: the client fails every way it can, against a
// server that echoes the credentials back wherever it can, and everything produced is searched.

import { HttpClient } from "@effect/platform"
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import type { Emulator, Fault } from "@trackstar-mcp/emulator"
import { Cause, Effect, Exit, Layer, Redacted } from "effect"
import type { TrackstarClientOptions } from "../src/Config.js"
import * as NodeHttpClient from "../src/NodeHttpClient.js"
import type { UpdateConnectionRequest } from "../src/Schemas.js"
import * as TrackstarClient from "../src/TrackstarClient.js"
import { capturingLogger, capturingTracer, renderSpan } from "./capture.js"
import { API_KEY, clientFor, refusedUrl, startEmulator } from "./support.js"

let emulator: Emulator
beforeAll(async () => {
  emulator = await startEmulator()
})
afterAll(() => emulator.stop())

let serial = 0
/** A connection whose token is distinctive enough that no search can miss it. */
const secretConnection = () => {
  serial += 1
  const accessToken = `tok_SECRET_${serial}_9f86d081884c7d659a2feaa0c55ad015`
  emulator.addConnection({ accessToken })
  return accessToken
}

interface Scenario {
  readonly name: string
  /** The fault, built from the row's token so the server can echo it back. */
  readonly fault?: (token: string) => Fault
  readonly options?: Partial<TrackstarClientOptions>
  readonly body?: unknown
  /** The token to send instead of a registered one (a real 401 from the emulator). */
  readonly unknownToken?: boolean
  readonly tag: string
}

const echo = (token: string) =>
  `key ${API_KEY} token ${token} header x-trackstar-access-token: ${token}`

const scenarios: ReadonlyArray<Scenario> = [
  {
    name: "invalid input",
    body: { customer_id: 5, webhooks_disabled: "yes", extra: true },
    tag: "InvalidRequest"
  },
  {
    name: "401 echoing both credentials",
    fault: (t) => ({ kind: "status", status: 401, body: { error: echo(t), origin: "trackstar" } }),
    tag: "Unauthorized"
  },
  { name: "401 from the emulator itself", unknownToken: true, tag: "Unauthorized" },
  {
    name: "403 echoing both credentials",
    fault: (t) => ({ kind: "status", status: 403, body: { error: echo(t) } }),
    tag: "Unauthorized"
  },
  {
    name: "404 whose id is the token",
    fault: (t) => ({ kind: "status", status: 404, body: { error: echo(t), id: t } }),
    tag: "NotFound"
  },
  {
    name: "422 whose detail names and quotes the credentials",
    fault: (t) => ({
      kind: "status",
      status: 422,
      body: {
        error: echo(t),
        detail: {
          headers: { "x-trackstar-access-token": [`invalid value ${t}`], [t]: [API_KEY] },
          [API_KEY]: { customer_id: [echo(t)] }
        }
      }
    }),
    tag: "ValidationFailed"
  },
  {
    name: "429 echoing both credentials",
    fault: (t) => ({
      kind: "status",
      status: 429,
      headers: { "retry-after": "1", "x-ratelimit-limit": "50" },
      body: { error: echo(t) }
    }),
    options: { maxAttempts: 1 },
    tag: "RateLimited"
  },
  {
    name: "500 with a plain-text body and a request id that is the token",
    fault: (t) => ({ kind: "status", status: 500, headers: { "x-request-id": t }, body: echo(t) }),
    options: { maxAttempts: 1 },
    tag: "ServerError"
  },
  {
    name: "501 echoing both credentials",
    fault: (t) => ({ kind: "status", status: 501, body: { error: echo(t) } }),
    tag: "NotImplemented"
  },
  {
    name: "400 echoing both credentials",
    fault: (t) => ({ kind: "status", status: 400, body: { error: echo(t) } }),
    tag: "UnexpectedResponse"
  },
  {
    name: "200 with an HTML page quoting the credentials",
    fault: (t) => ({ kind: "malformed", contentType: "text/html", body: `<p>${echo(t)}</p>` }),
    tag: "UnexpectedResponse"
  },
  {
    name: "200 of the wrong shape whose id is the token",
    fault: (t) => ({ kind: "status", status: 200, body: { id: t, note: echo(t) } }),
    tag: "UnexpectedResponse"
  },
  {
    name: "connection reset",
    fault: () => ({ kind: "drop" }),
    options: { maxAttempts: 2 },
    tag: "TransportError"
  },
  {
    name: "attempt timeout",
    fault: () => ({ kind: "hang" }),
    options: { attemptTimeout: "50 millis", maxAttempts: 2 },
    tag: "Timeout"
  },
  {
    name: "deadline",
    fault: () => ({ kind: "hang" }),
    options: { attemptTimeout: "1 second", deadline: "80 millis" },
    tag: "Timeout"
  }
]

describe("secrets", () => {
  it.live("appear in no message, string, JSON, cause, log line or span, however a call fails", () =>
    Effect.gen(function* () {
      const { tracer, spans } = capturingTracer()
      const logs = capturingLogger()
      const produced: Array<string> = []
      const secrets = [API_KEY]
      const tags: Array<string> = []

      const record = (exit: Exit.Exit<unknown, { readonly _tag: string } & Error>) => {
        produced.push(String(exit), JSON.stringify(exit))
        if (Exit.isSuccess(exit)) return
        produced.push(Cause.pretty(exit.cause))
        const error = Cause.failureOption(exit.cause)
        if (error._tag === "None") return
        const e = error.value
        tags.push(e._tag)
        produced.push(e.message, String(e), JSON.stringify(e), e.stack ?? "", String(e.cause))
      }

      const run = (scenario: Scenario, baseUrl = emulator.url) =>
        Effect.gen(function* () {
          const token = scenario.unknownToken
            ? "tok_SECRET_UNKNOWN_2c26b46b68ffc68ff99b453c1d304134"
            : secretConnection()
          secrets.push(token)
          const fault = scenario.fault?.(token)
          if (fault !== undefined) emulator.inject({ fault, accessToken: token })
          const client = yield* clientFor(emulator, {
            baseUrl,
            accessToken: Redacted.make(token),
            ...scenario.options
          })
          // A caller logging the failure the usual way is part of what is produced.
          const exit = yield* client
            .updateConnection((scenario.body ?? { customer_id: "c" }) as UpdateConnectionRequest)
            .pipe(
              Effect.tapErrorCause((cause) => Effect.logError("update failed", cause)),
              Effect.exit
            )
          record(exit)
        })

      const everything = Effect.gen(function* () {
        for (const scenario of scenarios) yield* run(scenario)
        yield* run({ name: "refused", tag: "TransportError" }, yield* Effect.promise(refusedUrl))
        yield* run({ name: "success", tag: "none" })
      })
      yield* everything.pipe(Effect.withTracer(tracer), Effect.provide(logs.layer))

      // Every failure really happened, as the kind it was meant to be.
      expect(tags).toStrictEqual([...scenarios.map((s) => s.tag), "TransportError"])

      const haystack = [...produced, ...logs.lines, ...spans.map(renderSpan)].join("\n")
      // The search is not vacuous: every attempt left a span with its URL, and no span
      // records a header at all (the platform's HTTP span, which would, is not started).
      expect(haystack).toContain(`"url.full","${emulator.url}/connections"`)
      expect(haystack).not.toContain("http.request.header.")
      expect(haystack).toContain("Trackstar attempt 1 failed")
      expect(haystack).toContain("[redacted]")
      for (const secret of secrets) {
        expect(haystack).not.toContain(secret)
        // A fragment catches a secret that was cut, re-encoded or partly scrubbed.
        expect(haystack).not.toContain(secret.slice(-32))
      }
    })
  )

  it.live("a program on TrackstarClient.layer logs even its HTTP client's requests redacted", () =>
    Effect.gen(function* () {
      const logs = capturingLogger()
      const token = secretConnection()
      emulator.inject({ fault: { kind: "status", status: 503 }, accessToken: token, times: 1 })
      // A service that logs every request its HttpClient sends, as middleware often does. The
      // log gets the credentials redacted: the layer registered their names for the whole
      // program, not only inside each call.
      const loggingHttp = Layer.effect(
        HttpClient.HttpClient,
        Effect.map(HttpClient.HttpClient, (client) =>
          HttpClient.tapRequest(client, (request) => Effect.logDebug("sending", request))
        )
      ).pipe(Layer.provide(NodeHttpClient.layer()))
      const result = yield* TrackstarClient.updateConnection({ customer_id: "layer" }).pipe(
        Effect.provide(
          TrackstarClient.layer({
            apiKey: Redacted.make(API_KEY),
            accessToken: Redacted.make(token),
            baseUrl: emulator.url,
            retryBaseDelay: "5 millis"
          }).pipe(Layer.provide(loggingHttp))
        ),
        Effect.provide(logs.layer)
      )
      expect(result.attempts).toBe(2)
      const logged = logs.lines.filter((line) => line.includes("sending")).join("\n")
      expect(logged).toContain("x-trackstar-api-key")
      expect(logged).toContain("x-trackstar-access-token")
      expect(logged).toContain("<redacted>")
      expect(logged).not.toContain(API_KEY)
      expect(logged).not.toContain(token)
    })
  )
})
