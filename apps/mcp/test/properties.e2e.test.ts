// Property-based tests through the real MCP path: the built server over stdio, the SDK's
// client, the emulator. Random tool arguments and random emulator answers must always end in a
// tool result (or, for arguments that are not an object, a JSON-RPC invalid-params error),
// never crash the server, never send a request the API spec forbids, and never surface an
// unhandled defect. `STRESS=1` (`pnpm stress`) raises the number of runs.
import {
  type CallToolResult,
  CallToolResultSchema,
  McpError
} from "@modelcontextprotocol/sdk/types.js"
import { type Emulator, type Fault, start } from "@trackstar-mcp/emulator"
import { Ajv2020 } from "ajv/dist/2020.js"
import fc from "fast-check"
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest"
import { STRESS } from "./stress-support.js"
import { API_KEY, connect, type Session } from "./support.js"

const RUNS = STRESS ? 2_000 : 100
/**
 * The short runs of `pnpm test` use a fixed seed, so CI sees the same 100 cases each time (a
 * random 100 can, rarely, miss a path the coverage checks below insist on); `pnpm stress`
 * draws a new seed each run, and fast-check prints it with any counterexample.
 */
const PARAMETERS = STRESS ? { numRuns: RUNS } : { numRuns: RUNS, seed: 20_261_203 }
const TIMEOUT = STRESS ? 900_000 : 60_000
const TOKENS = {
  default: "tok_PROP_DEFAULT_5d41402abc4b2a76b9719d911017c592",
  acme: "tok_PROP_ACME_7d793037a0760186574b0282f2f435e7"
}

/**
 * The request body schema of PATCH /connections, copied from the API contract:
 * /work/shared/spec/update-connection.openapi.yaml, components.schemas.UpdateConnectionSchema.
 */
const UPDATE_CONNECTION_SCHEMA = {
  type: "object",
  properties: {
    customer_id: { type: ["string", "null"] },
    webhooks_disabled: { type: "boolean" }
  },
  additionalProperties: false
}
const matchesSpec = new Ajv2020({ strict: true }).compile(UPDATE_CONNECTION_SCHEMA)

let emulator: Emulator
let session: Session

beforeAll(async () => {
  // No limiter and no client pacing: these properties are about arguments and answers, and
  // hundreds of writes a second on one token would only add waiting.
  emulator = await start({
    apiKey: API_KEY,
    rateLimit: false,
    connections: [
      { name: "default", accessToken: TOKENS.default, id: "conn_prop_default" },
      { name: "acme", accessToken: TOKENS.acme, id: "conn_prop_acme" }
    ]
  })
  session = await connect({
    TRACKSTAR_BASE_URL: emulator.url,
    TRACKSTAR_API_KEY: API_KEY,
    TRACKSTAR_ACCESS_TOKEN: TOKENS.default,
    TRACKSTAR_ACCESS_TOKEN_ACME: TOKENS.acme,
    TRACKSTAR_WRITES_PER_SECOND: "0",
    // Fast retries and a short deadline: a retry-after the deadline cannot honour fails the call
    // at once instead of waiting, so random retry-after values never stall a run.
    TRACKSTAR_MAX_ATTEMPTS: "2",
    TRACKSTAR_RETRY_BASE_DELAY_MS: "1",
    TRACKSTAR_RETRY_MAX_DELAY_MS: "5",
    TRACKSTAR_TIMEOUT_MS: "2000",
    TRACKSTAR_DEADLINE_MS: "3000",
    TRACKSTAR_LOG_LEVEL: "warning"
  })
})
beforeEach(() => {
  emulator.clearFaults()
  emulator.clearRequests()
})
afterAll(async () => {
  await session?.client.close()
  await emulator?.stop()
  const written = [session.stderr(), ...session.received].join("\n")
  for (const secret of [API_KEY, ...Object.values(TOKENS)]) expect(written).not.toContain(secret)
})

const alive = (): boolean => {
  const pid = session.pid
  if (pid === undefined) return false
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

/** Calls the tool with any JSON value as `arguments`, as a misbehaving client could. */
const callWith = async (args: unknown): Promise<CallToolResult> =>
  CallToolResultSchema.parse(
    await session.client.callTool({
      name: "update_connection",
      // Deliberately unchecked: the point is to send what the declared type does not allow.
      arguments: args as Record<string, unknown>
    })
  )

const textOf = (result: CallToolResult): string =>
  result.content.map((c) => (c.type === "text" ? c.text : "")).join(" ")

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value)

/**
 * What the server must do with these arguments, computed independently of it: the body to
 * send and the token to send it with, or nothing when the arguments are wrong.
 */
const oracle = (args: Record<string, unknown>) => {
  const allowed = ["customer_id", "webhooks_disabled", "connection", "dry_run"]
  const { customer_id, webhooks_disabled, connection, dry_run } = args
  const valid =
    Object.keys(args).every((k) => allowed.includes(k)) &&
    (customer_id === undefined || customer_id === null || typeof customer_id === "string") &&
    (webhooks_disabled === undefined || typeof webhooks_disabled === "boolean") &&
    (connection === undefined || connection === "default" || connection === "acme") &&
    (dry_run === undefined || typeof dry_run === "boolean") &&
    (customer_id !== undefined || webhooks_disabled !== undefined)
  if (!valid) return undefined
  return {
    body: {
      ...(customer_id === undefined ? {} : { customer_id }),
      ...(webhooks_disabled === undefined ? {} : { webhooks_disabled })
    },
    token: connection === "acme" ? TOKENS.acme : TOKENS.default,
    send: dry_run !== true
  }
}

// Keys: the real ones (with right and wrong values) and random ones. "__proto__" is left out:
// the SDK's schema parsing of `arguments` drops it before our code sees the object.
const key = fc.string({ maxLength: 20 }).filter((k) => k !== "__proto__")
const hugeString = fc.nat({ max: 200_000 }).map((n) => "x".repeat(n))
const anyString = fc.oneof(fc.string(), fc.string({ unit: "binary", maxLength: 50 }), hugeString)
const wrong = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.jsonValue(), { maxLength: 3 }),
  fc.dictionary(key, fc.jsonValue(), { maxKeys: 3 }),
  anyString
)
/** Arguments the tool accepts (when at least one of customer_id, webhooks_disabled is there). */
const validArguments = fc.record(
  {
    customer_id: fc.oneof(anyString, fc.constant(null)),
    webhooks_disabled: fc.boolean(),
    connection: fc.constantFrom("default", "acme"),
    dry_run: fc.boolean()
  },
  { requiredKeys: [] }
)
/** Valid arguments with one thing wrong: a value of the wrong type, or one key too many. */
const nearlyValidArguments = fc.oneof(
  fc
    .tuple(
      validArguments,
      fc.constantFrom("customer_id", "webhooks_disabled", "connection", "dry_run"),
      wrong
    )
    .map(([args, field, value]) => ({ ...args, [field]: value })),
  fc
    .tuple(validArguments, key, fc.jsonValue({ maxDepth: 2 }))
    .map(([args, extra, value]) => ({ [extra]: value, ...args }))
)
const chaoticArguments = fc
  .tuple(
    fc.record(
      {
        customer_id: fc.oneof(anyString, fc.constant(null), wrong),
        webhooks_disabled: fc.oneof(
          fc.boolean(),
          fc.constantFrom("true", "false", "yes", "", "0"),
          wrong
        ),
        connection: fc.oneof(fc.constantFrom("default", "acme", "globex", "", "ACME"), wrong),
        dry_run: fc.oneof(fc.boolean(), fc.constantFrom("true", "false"), wrong),
        clear_customer_id: fc.oneof(fc.boolean(), wrong)
      },
      { requiredKeys: [] }
    ),
    fc.oneof(
      { weight: 3, arbitrary: fc.constant({}) },
      { weight: 1, arbitrary: fc.dictionary(key, fc.jsonValue({ maxDepth: 3 }), { maxKeys: 4 }) }
    )
  )
  .map(([known, extra]) => ({ ...extra, ...known }))
const anyArguments = fc.oneof(
  { weight: 4, arbitrary: validArguments },
  { weight: 3, arbitrary: nearlyValidArguments },
  { weight: 2, arbitrary: chaoticArguments },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) }
)

describe("properties through the MCP path", () => {
  it(
    "random arguments: a result or a clear error, the server alive, only spec-valid requests sent",
    async () => {
      // Which path each run took, so a generator that stops reaching one is noticed.
      const seen = { refused: 0, invalid: 0, dryRun: 0, sent: 0 }
      await fc.assert(
        fc.asyncProperty(anyArguments, async (generated) => {
          emulator.clearRequests()
          // What actually travels: JSON, as the client serialises it.
          const args: unknown = JSON.parse(JSON.stringify(generated))
          let result: CallToolResult | undefined
          try {
            result = await callWith(args)
          } catch (error) {
            // Only arguments that are not an object may be refused at the protocol level, with
            // an error that says `arguments` must be an object (its code: see the known defect
            // below).
            expect(error).toBeInstanceOf(McpError)
            expect(isRecord(args)).toBe(false)
            expect(String(error)).toMatch(/arguments[\s\S]*expected record/)
          }
          expect(alive()).toBe(true)
          expect(session.transportErrors).toStrictEqual([])

          const requests = emulator.requests()
          for (const request of requests) {
            expect(request.method).toBe("PATCH")
            expect(request.path).toBe("/connections")
            const body: unknown = JSON.parse(request.body)
            expect(matchesSpec(body), JSON.stringify(matchesSpec.errors)).toBe(true)
            expect(Object.keys(isRecord(body) ? body : {}).length).toBeGreaterThan(0)
          }

          if (result === undefined) {
            expect(requests).toStrictEqual([])
            seen.refused++
            return
          }
          const text = textOf(result)
          expect(text.length).toBeGreaterThan(0)
          expect(text).not.toContain("internal error")
          // `null` arguments mean "none given"; anything else that is not an object is refused.
          const expected = isRecord(args) ? oracle(args) : undefined
          if (expected === undefined) {
            seen.invalid++
            expect(result.isError).toBe(true)
            expect(requests).toStrictEqual([])
          } else if (!expected.send) {
            seen.dryRun++
            expect(result.isError).toBeFalsy()
            expect(requests).toStrictEqual([])
          } else {
            seen.sent++
            expect(requests).toHaveLength(1)
            const [sent] = requests
            expect(sent?.headers["x-trackstar-access-token"]).toBe(expected.token)
            expect(JSON.parse(sent?.body ?? "")).toStrictEqual(expected.body)
            // The emulator may refuse a valid body (over 1 MiB); then the result says so.
            expect(result.isError === true).toBe(sent?.status !== 200)
          }
        }),
        PARAMETERS
      )
      expect(seen.sent).toBeGreaterThan(RUNS / 10)
      expect(seen.invalid).toBeGreaterThan(RUNS / 10)
      expect(seen.dryRun).toBeGreaterThan(0)
    },
    TIMEOUT
  )

  // The SDK's request schema would refuse these with an internal error before any handler
  // runs; the server moves them aside so the tool's decoder answers, as for any bad argument.
  it("answers arguments that are not an object with an isError result saying what it takes", async () => {
    for (const args of [0, "s", [1], true]) {
      const result = await callWith(args)
      expect(result.isError).toBe(true)
      expect(JSON.stringify(result.content)).toContain("must be a JSON object")
    }
  })

  // Header values a server could send, within what HTTP allows on the wire.
  const headerText = fc.string({
    unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
    maxLength: 40
  })
  // Small or unusable waits only: a retry-after the deadline cannot honour fails at once.
  const retryAfter = fc.oneof(
    fc.integer({ min: -5, max: 2 }).map(String),
    fc.constantFrom("0", "0.001", "-0", "1e309", "NaN", "Infinity", "abc", "99999999", ""),
    fc.date({ noInvalidDate: true }).map((d) => d.toUTCString()),
    headerText
  )
  const headers = fc.record(
    {
      "retry-after": retryAfter,
      "x-ratelimit-reset": fc.oneof(fc.integer().map(String), headerText),
      "x-ratelimit-remaining": fc.oneof(fc.integer().map(String), headerText),
      "x-request-id": headerText,
      "content-type": fc.constantFrom(
        "application/json",
        "application/json; charset=utf-8",
        "text/html",
        "text/plain",
        "application/problem+json",
        ""
      )
    },
    { requiredKeys: [] }
  )
  const body = fc.oneof(
    fc.string(),
    fc.constantFrom("", "{", "null", "[]", "<html><body>Bad gateway</body></html>", "{}"),
    fc.record(
      {
        id: fc.oneof(fc.string(), fc.integer(), fc.constant(null)),
        object: fc.oneof(fc.constant("connection"), fc.string()),
        updated: fc.oneof(fc.boolean(), fc.string())
      },
      { requiredKeys: [] }
    ),
    fc.record(
      {
        error: fc.oneof(fc.string(), fc.integer()),
        origin: fc.oneof(fc.constantFrom("trackstar", "integration"), fc.jsonValue()),
        id: fc.oneof(fc.string(), fc.integer()),
        detail: fc.oneof(
          fc.dictionary(key, fc.dictionary(key, fc.array(fc.string(), { maxLength: 2 }))),
          fc.jsonValue({ maxDepth: 2 })
        )
      },
      { requiredKeys: [] }
    ),
    fc.jsonValue({ maxDepth: 3 }).filter((v) => isRecord(v) || Array.isArray(v))
  )
  const status = fc.oneof(
    fc.constantFrom(200, 201, 202, 204, 301, 304, 400, 401, 403, 404, 409, 422, 429),
    fc.constantFrom(500, 501, 502, 503, 504),
    // The emulator answers 200-599 only: a 1xx is not a final response.
    fc.integer({ min: 200, max: 599 })
  )
  const fault: fc.Arbitrary<Fault> = fc.oneof(
    { weight: 8, arbitrary: fc.record({ kind: fc.constant("status"), status, headers, body }) },
    { weight: 1, arbitrary: fc.constant<Fault>({ kind: "drop" }) },
    {
      weight: 1,
      arbitrary: fc.record({
        kind: fc.constant("malformed"),
        body: fc.string(),
        status: fc.integer({ min: 200, max: 599 }),
        contentType: fc.constantFrom("application/json", "text/html", "")
      })
    }
  )

  it(
    "random emulator answers: a success or an isError result with a message, never a defect",
    async () => {
      await fc.assert(
        fc.asyncProperty(fault, fc.integer({ min: 1, max: 2 }), async (injected, times) => {
          emulator.clearFaults()
          emulator.clearRequests()
          emulator.inject({ fault: injected, accessToken: TOKENS.default, times })
          const result = await callWith({ customer_id: "prop-answer" })
          expect(alive()).toBe(true)
          expect(session.transportErrors).toStrictEqual([])
          const text = textOf(result)
          expect(text.length).toBeGreaterThan(0)
          expect(text).not.toContain("internal error")
          // Retries stay bounded by TRACKSTAR_MAX_ATTEMPTS.
          expect(emulator.requests().length).toBeLessThanOrEqual(2)
          if (result.isError !== true) {
            expect(result.structuredContent).toMatchObject({
              dry_run: false,
              connection: "default"
            })
          }
        }),
        PARAMETERS
      )
      expect(session.stderr()).not.toContain("failed unexpectedly")
    },
    TIMEOUT
  )
})
