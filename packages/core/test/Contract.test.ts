// Contract test: what the client puts on the wire, and what the emulator answers, checked
// against Trackstar's OpenAPI document by Ajv, not by the client's own Effect schemas.
import { existsSync, readFileSync } from "node:fs"
import { FetchHttpClient, HttpClient } from "@effect/platform"
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import type { Emulator } from "@trackstar-mcp/emulator"
import { Effect, Either, Layer, Option, Redacted } from "effect"
import { decodeAnswer } from "../src/Response.js"
import type { UpdateConnectionRequest } from "../src/Schemas.js"
import * as TrackstarClient from "../src/TrackstarClient.js"
import { CONTRACT_URL, type Contract, loadContract, mediaType } from "./contract/openapi.js"
import { API_KEY, newConnection, requestsFor, startEmulator } from "./support.js"

/** The shared spec, beside the repository (`../shared/spec/`), where the project keeps it. */
const SHARED_URL = new URL(
  "../../../../shared/spec/update-connection.openapi.yaml",
  import.meta.url
)

describe("the vendored contract", () => {
  it.skipIf(!existsSync(SHARED_URL))(
    "is byte for byte ../shared/spec/update-connection.openapi.yaml (skipped where that file is absent)",
    () => {
      expect(readFileSync(CONTRACT_URL).equals(readFileSync(SHARED_URL))).toBe(true)
    }
  )

  it("is a real check: Ajv refuses what the contract forbids", () => {
    const contract = loadContract()
    const body = contract.requestBody.get("application/json")
    expect(body?.({ customer_id: null, webhooks_disabled: true })).toBe(true)
    expect(body?.({ customer_id: 5 })).toBe(false)
    expect(body?.({ webhooks_disabled: "true" })).toBe(false)
    expect(body?.({ connection_id: "c" })).toBe(false)
    const ok = contract.responses.get("200")?.get("application/json")
    expect(ok?.({ id: "c", object: "connection", updated: true })).toBe(true)
    expect(ok?.({ id: "c", object: "connection" })).toBe(false)
    expect(contract.validationErrorDetail({ error: "x", detail: { json: { a: ["m"] } } })).toBe(
      true
    )
    expect(contract.validationErrorDetail({ error: "x", detail: { json: { a: "m" } } })).toBe(false)
    expect(contract.headers.map((h) => h.name)).toStrictEqual([
      "x-trackstar-api-key",
      "x-trackstar-access-token"
    ])
  })
})

/** One answer as it came off the wire, recorded before the client decoded it. */
interface Answer {
  readonly status: number
  readonly headers: Readonly<Record<string, string>>
  readonly text: string
}

const problems = (validate: { errors?: unknown }) => JSON.stringify(validate.errors ?? null)

/** Checks one answer against the contract: a documented status, media type and body. */
const checkAnswer = (contract: Contract, answer: Answer) => {
  const media = contract.responses.get(String(answer.status))
  expect(media, `HTTP ${answer.status} is documented`).toBeDefined()
  const validate = media?.get(mediaType(answer.headers["content-type"]))
  expect(validate, `content-type ${answer.headers["content-type"]}`).toBeDefined()
  const body: unknown = JSON.parse(answer.text)
  if (validate !== undefined) expect(validate(body), problems(validate)).toBe(true)
  if (answer.status === 422) {
    expect(contract.validationErrorDetail(body), problems(contract.validationErrorDetail)).toBe(
      true
    )
  }
  // The facts file: every answer carries X-Request-Id.
  expect(answer.headers["x-request-id"]).toMatch(/^req_/)
}

describe("client requests and emulator answers against the contract", () => {
  let emulator: Emulator
  let contract: Contract
  beforeAll(async () => {
    emulator = await startEmulator()
    contract = loadContract()
  })
  afterAll(() => emulator.stop())

  const bodies: ReadonlyArray<UpdateConnectionRequest> = [
    { customer_id: "acme-42" },
    { customer_id: null },
    { webhooks_disabled: true },
    { webhooks_disabled: false, customer_id: "" },
    {}
  ]

  it.live("every request the client sends, and every answer, is what the contract allows", () =>
    Effect.gen(function* () {
      const answers: Array<Answer> = []
      const recording = Layer.effect(
        HttpClient.HttpClient,
        Effect.map(
          HttpClient.HttpClient,
          HttpClient.tap((response) =>
            Effect.map(response.text, (text) =>
              answers.push({ status: response.status, headers: response.headers, text })
            )
          )
        )
      ).pipe(Layer.provide(FetchHttpClient.layer))
      const { token, redacted } = newConnection(emulator)
      const client = yield* TrackstarClient.make({
        apiKey: Redacted.make(API_KEY),
        baseUrl: emulator.url
      }).pipe(Effect.provide(recording), Effect.orDie)

      for (const body of bodies) yield* client.updateConnection(body, { accessToken: redacted })

      const sent = requestsFor(emulator, token)
      expect(sent).toHaveLength(bodies.length)
      for (const request of sent) {
        expect([request.method, request.path]).toStrictEqual(["PATCH", "/connections"])
        for (const { name, validate } of contract.headers) {
          expect(request.headers[name], `header ${name}`).toBeDefined()
          expect(validate(request.headers[name]), problems(validate)).toBe(true)
        }
        const validate = contract.requestBody.get(mediaType(request.headers["content-type"]))
        expect(validate, `content-type ${request.headers["content-type"]}`).toBeDefined()
        if (validate !== undefined)
          expect(validate(JSON.parse(request.body)), problems(validate)).toBe(true)
      }
      expect(sent.map((r) => JSON.parse(r.body))).toStrictEqual(bodies)

      expect(answers.map((a) => a.status)).toStrictEqual(bodies.map(() => 200))
      for (const answer of answers) checkAnswer(contract, answer)
    })
  )

  // The client refuses these before sending, so they go out raw: this checks the emulator's 422s,
  // and that the client reads them into the fields the contract describes.
  it.live.each<readonly [string, string]>([
    ['{"customer_id": 5}', "customer_id"],
    ['{"webhooks_disabled": "yes"}', "webhooks_disabled"],
    ['{"connection_id": "c"}', "connection_id"]
  ])("the emulator's 422 for %s is a contract ValidationError", ([raw, field]) =>
    Effect.gen(function* () {
      const { token } = newConnection(emulator)
      const response = yield* Effect.promise(() =>
        fetch(`${emulator.url}/connections`, {
          method: "PATCH",
          headers: {
            "content-type": "application/json",
            "x-trackstar-api-key": API_KEY,
            "x-trackstar-access-token": token
          },
          body: raw
        })
      )
      const answer: Answer = {
        status: response.status,
        headers: Object.fromEntries(response.headers),
        text: yield* Effect.promise(() => response.text())
      }
      expect(answer.status).toBe(422)
      checkAnswer(contract, answer)
      const decoded = decodeAnswer(answer.status, answer.headers, answer.text, Date.now(), [])
      expect(Option.getOrThrow(Either.getLeft(decoded))).toMatchObject({
        _tag: "ValidationFailed",
        status: 422,
        fields: [expect.objectContaining({ location: "json", field })]
      })
    })
  )
})
