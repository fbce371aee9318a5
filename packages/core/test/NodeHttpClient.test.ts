// The Node HTTP client against a real loopback server whose answers each test chooses.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"
import { HttpClient, HttpClientRequest } from "@effect/platform"
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "@effect/vitest"
import { Chunk, Effect, Exit, Fiber, Stream } from "effect"
import * as NodeHttpClient from "../src/NodeHttpClient.js"
import { RequestTimedOut, timedSendOf } from "../src/TimedSend.js"
import { eventually, failureOf } from "./support.js"

/** A GET through the client's TimedSend, which it must have. */
const timedGet = (client: HttpClient.HttpClient, target: string, timeoutMillis: number) => {
  const send = timedSendOf(client)
  if (send === undefined) throw new Error("NodeHttpClient offers no TimedSend")
  return send(HttpClientRequest.get(target), timeoutMillis)
}

type Handler = (request: IncomingMessage, body: string, response: ServerResponse) => void

let server: Server
let url: string
let handler: Handler
let connections = 0
let closed = 0
beforeAll(async () => {
  server = createServer((request, response) => {
    const chunks: Array<Buffer> = []
    request.on("data", (c: Buffer) => chunks.push(c))
    request.on("end", () => handler(request, Buffer.concat(chunks).toString(), response))
  })
  server.on("connection", (socket) => {
    connections += 1
    socket.on("close", () => {
      closed += 1
    })
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())))
beforeEach(() => {
  connections = 0
  closed = 0
})

const json = (status: number, value: unknown, headers: Record<string, string | string[]> = {}) =>
  ((_, __, response) => {
    response.writeHead(status, { "content-type": "application/json", ...headers })
    response.end(JSON.stringify(value))
  }) satisfies Handler

/** Runs an effect with a fresh client layer, closed (agents destroyed) at the end. */
const withClient = <A, E>(
  f: (client: HttpClient.HttpClient) => Effect.Effect<A, E>,
  options?: NodeHttpClient.NodeHttpClientOptions
) => Effect.flatMap(HttpClient.HttpClient, f).pipe(Effect.provide(NodeHttpClient.layer(options)))

describe("NodeHttpClient", () => {
  it.live("sends the method, headers and body, and reads status, headers and JSON", () =>
    Effect.gen(function* () {
      let seen: { method?: string; headers?: IncomingMessage["headers"]; body?: string } = {}
      handler = (request, body, response) => {
        seen = { method: request.method ?? "", headers: request.headers, body }
        json(201, { ok: true }, { "x-request-id": "req_1", "set-cookie": ["a=1", "b=2"] })(
          request,
          body,
          response
        )
      }
      const response = yield* withClient((client) =>
        client.execute(
          HttpClientRequest.patch(`${url}/things`).pipe(
            HttpClientRequest.setHeader("x-custom", "yes"),
            HttpClientRequest.bodyUnsafeJson({ n: 1 })
          )
        )
      )
      expect(seen).toMatchObject({
        method: "PATCH",
        body: '{"n":1}',
        headers: { "x-custom": "yes", "content-type": "application/json", "content-length": "7" }
      })
      expect(response.status).toBe(201)
      expect(response.headers["x-request-id"]).toBe("req_1")
      expect(Object.keys(response.cookies.cookies).sort()).toStrictEqual(["a", "b"])
      expect(yield* response.json).toStrictEqual({ ok: true })
      expect(yield* response.text).toBe('{"ok":true}')
    })
  )

  it.live("sends query parameters and drops the fragment, on each of its paths", () =>
    Effect.gen(function* () {
      const seen: Array<string> = []
      handler = (request, body, response) => {
        seen.push(request.url ?? "")
        json(200, {})(request, body, response)
      }
      const request = HttpClientRequest.get(`${url}/search`).pipe(
        HttpClientRequest.setUrlParams({ q: "a b", page: "2" }),
        HttpClientRequest.setHash("top")
      )
      yield* withClient((client) => {
        const timed = timedSendOf(client)
        if (timed === undefined) throw new Error("NodeHttpClient offers no TimedSend")
        // Traced (the platform's span), untraced (sent directly), and through TimedSend.
        return Effect.all([
          client.execute(request),
          Effect.withTracerEnabled(client.execute(request), false),
          timed(request, 5_000)
        ])
      })
      expect(seen).toStrictEqual(Array(3).fill("/search?q=a+b&page=2"))
    })
  )

  it.live("keeps one socket alive across sequential requests, and closes it with the layer", () =>
    Effect.gen(function* () {
      handler = json(200, {})
      yield* withClient((client) =>
        Effect.forEach(Array.from({ length: 5 }), () =>
          Effect.flatMap(client.get(url), (r) => r.text)
        )
      )
      expect(connections).toBe(1)
      yield* eventually(() => closed === 1, "the idle socket closed once the layer closed")
    })
  )

  it.live("refuses a stream body before sending anything", () =>
    Effect.gen(function* () {
      handler = json(200, {})
      const exit = yield* Effect.exit(
        withClient((client) =>
          client.execute(
            HttpClientRequest.post(url).pipe(
              HttpClientRequest.bodyStream(Stream.make(new Uint8Array([1])))
            )
          )
        )
      )
      expect(failureOf(exit)).toMatchObject({ _tag: "RequestError", reason: "Encode" })
      expect(connections).toBe(0)
    })
  )

  it.live("fails an answer larger than maxBodyBytes instead of buffering it", () =>
    Effect.gen(function* () {
      handler = (_, __, response) => {
        response.writeHead(200, { "content-type": "text/plain" })
        response.end("x".repeat(10_000))
      }
      const exit = yield* Effect.exit(
        withClient((client) => client.get(url), { maxBodyBytes: 1_000 })
      )
      const error = failureOf(exit)
      expect(error).toMatchObject({ _tag: "ResponseError", reason: "Decode" })
      expect(error.cause).toBeInstanceOf(NodeHttpClient.BodyTooLarge)
      expect(String(error.cause)).toContain("larger than 1000 bytes")
    })
  )

  it.live("fails with a transport error when the answer is cut short", () =>
    Effect.gen(function* () {
      handler = (_, __, response) => {
        response.writeHead(200, { "content-type": "application/json", "content-length": "100" })
        response.write('{"partial":')
        setTimeout(() => response.socket?.destroy(), 10)
      }
      const exit = yield* Effect.exit(withClient((client) => client.get(url)))
      expect(failureOf(exit)).toMatchObject({ _tag: "RequestError", reason: "Transport" })
    })
  )

  it.live("aborts the request when the caller is interrupted", () =>
    Effect.gen(function* () {
      const hanging: Array<ServerResponse> = []
      handler = (_, __, response) => {
        hanging.push(response)
      }
      const fiber = yield* Effect.fork(withClient((client) => client.get(url)))
      yield* eventually(() => hanging.length === 1, "the request arrived")
      const exit = yield* Fiber.interrupt(fiber)
      expect(Exit.isInterrupted(exit)).toBe(true)
      yield* eventually(() => closed === 1, "the server saw the socket close")
      for (const response of hanging) response.destroy()
    })
  )

  it.live(
    "times a request sent through TimedSend itself: a RequestTimedOut, and the socket closed",
    () =>
      Effect.gen(function* () {
        const hanging: Array<ServerResponse> = []
        handler = (_, __, response) => {
          hanging.push(response)
        }
        const started = Date.now()
        const exit = yield* Effect.exit(withClient((client) => timedGet(client, url, 50)))
        const error = failureOf(exit)
        expect(error).toMatchObject({ _tag: "RequestError", reason: "Transport" })
        expect(error.cause).toBeInstanceOf(RequestTimedOut)
        expect(Date.now() - started).toBeGreaterThanOrEqual(45)
        yield* eventually(() => closed === 1, "the server saw the socket close")
        for (const response of hanging) response.destroy()
      })
  )

  it.live("answers a URL Node cannot send to with a RequestError, not a defect", () =>
    Effect.gen(function* () {
      const exit = yield* Effect.exit(withClient((client) => client.get("ftp://127.0.0.1/nothing")))
      expect(failureOf(exit)).toMatchObject({ _tag: "RequestError", reason: "InvalidUrl" })
    })
  )

  it.live("reads a 204 answer; its stream fails as the fetch client's does, with EmptyBody", () =>
    Effect.gen(function* () {
      handler = (_, __, response) => {
        response.writeHead(204)
        response.end()
      }
      const exit = yield* withClient((client) =>
        Effect.flatMap(client.get(url), (r) =>
          Effect.zipRight(
            Effect.map(r.text, (text) => expect(text).toBe("")),
            Effect.exit(Stream.runCollect(r.stream))
          )
        )
      )
      expect(failureOf(exit)).toMatchObject({ _tag: "ResponseError", reason: "EmptyBody" })
    })
  )

  it.live("treats a time limit too long for a timer as none", () =>
    Effect.gen(function* () {
      handler = json(200, { late: true })
      const response = yield* withClient((client) =>
        timedGet(client, url, Number.POSITIVE_INFINITY)
      )
      expect(yield* response.json).toStrictEqual({ late: true })
    })
  )

  it.live("streams a buffered body as one chunk", () =>
    Effect.gen(function* () {
      handler = json(200, { streamed: true })
      const chunks = yield* withClient((client) =>
        Effect.flatMap(client.get(url), (r) => Stream.runCollect(r.stream))
      )
      expect(Buffer.from(Chunk.toReadonlyArray(chunks)[0] ?? []).toString()).toBe(
        '{"streamed":true}'
      )
    })
  )
})
