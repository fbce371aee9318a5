/** Shared test setup: an emulator on 127.0.0.1 with distinctive secrets, and clients for it. */
import { createServer } from "node:net"
import { FetchHttpClient, type HttpClient } from "@effect/platform"
import { type Emulator, type EmulatorOptions, start } from "@trackstar-mcp/emulator"
import { Cause, Effect, Exit, type Layer, Option, Redacted } from "effect"
import type { TrackstarClientOptions } from "../src/Config.js"
import * as NodeHttpClient from "../src/NodeHttpClient.js"
import * as TrackstarClient from "../src/TrackstarClient.js"

/** Secrets no output may contain; distinctive so a search cannot miss them. */
export const API_KEY = "sk_live_APIKEY_e3b0c44298fc1c149afbf4c8996fb924"
export const TOKEN_A = "tok_CONNECTION_A_27ae41e4649b934ca495991b7852b855"
export const TOKEN_B = "tok_CONNECTION_B_4be2e1f07dfc0c9a0d4bf5f8c2a0c7e1"

/** Starts an emulator seeded with two connections under the secrets above. */
export const startEmulator = (options: EmulatorOptions = {}): Promise<Emulator> =>
  start({
    apiKey: API_KEY,
    connections: [
      { name: "a", accessToken: TOKEN_A, id: "conn_a" },
      { name: "b", accessToken: TOKEN_B, id: "conn_b", customer_id: "cust-b" }
    ],
    ...options
  })

/** The HTTP clients the core is tested over: ours for Node (the default here) and fetch's. */
export const HTTP_CLIENTS = {
  NodeHttpClient: NodeHttpClient.layer(),
  FetchHttpClient: FetchHttpClient.layer
} as const satisfies Record<string, Layer.Layer<HttpClient.HttpClient>>

/** A client for the emulator, with fast retries so fault tests stay quick. */
export const clientFor = (
  emulator: Emulator,
  options: Partial<TrackstarClientOptions> = {},
  http: Layer.Layer<HttpClient.HttpClient> = HTTP_CLIENTS.NodeHttpClient
) =>
  TrackstarClient.make({
    apiKey: Redacted.make(API_KEY),
    accessToken: Redacted.make(TOKEN_A),
    baseUrl: emulator.url,
    retryBaseDelay: "5 millis",
    retryMaxDelay: "20 millis",
    ...options
  }).pipe(Effect.provide(http), Effect.orDie)

/** A fresh connection on the emulator, so a test's faults and requests are its own. */
export const newConnection = (emulator: Emulator) => {
  const { accessToken, id } = emulator.addConnection()
  return { token: accessToken, id, redacted: Redacted.make(accessToken) }
}

/** The requests that reached the emulator with this access token, oldest first. */
export const requestsFor = (emulator: Emulator, token: string) =>
  emulator.requests().filter((r) => r.headers["x-trackstar-access-token"] === token)

/** The typed failure of an exit; throws if it succeeded or died. */
export const failureOf = <A, E>(exit: Exit.Exit<A, E>): E => {
  if (Exit.isSuccess(exit)) throw new Error("expected a failure")
  const failure = Cause.failureOption(exit.cause)
  if (Option.isNone(failure)) throw new Error(`expected a typed failure, got ${exit.cause._tag}`)
  return failure.value
}

/** Polls until a condition holds (for the emulator's state, never for timing); fails after 5 s. */
export const eventually = (condition: () => boolean, what: string) =>
  Effect.gen(function* () {
    while (!condition()) yield* Effect.sleep("2 millis")
  }).pipe(
    Effect.timeoutFail({ duration: "5 seconds", onTimeout: () => new Error(`never: ${what}`) }),
    Effect.orDie
  )

/** A loopback URL where nothing listens: a port that was just bound and released. */
export const refusedUrl = (): Promise<string> =>
  new Promise((resolve, reject) => {
    const server = createServer()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      server.close(() =>
        typeof address === "object" && address !== null
          ? resolve(`http://127.0.0.1:${address.port}`)
          : reject(new Error("no port"))
      )
    })
  })
