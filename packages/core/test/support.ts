/** Shared test setup: an emulator on 127.0.0.1 with distinctive secrets, and clients for it. */
import { FetchHttpClient } from "@effect/platform"
import { type Emulator, type EmulatorOptions, start } from "@trackstar-mcp/emulator"
import { Effect, Redacted } from "effect"
import type { TrackstarClientOptions } from "../src/Config.js"
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

/** A client for the emulator, with fast retries so fault tests stay quick. */
export const clientFor = (emulator: Emulator, options: Partial<TrackstarClientOptions> = {}) =>
  TrackstarClient.make({
    apiKey: Redacted.make(API_KEY),
    accessToken: Redacted.make(TOKEN_A),
    baseUrl: emulator.url,
    retryBaseDelay: "5 millis",
    retryMaxDelay: "20 millis",
    ...options
  }).pipe(Effect.provide(FetchHttpClient.layer), Effect.orDie)
