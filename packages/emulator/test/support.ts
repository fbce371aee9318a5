import { afterEach, beforeEach } from "vitest"
import { DEMO, type Emulator, type EmulatorOptions, start } from "../src/index.js"

/** The demo connection every test talks to unless it says otherwise. */
export const TOKEN = "emulator-demo-access-token"
export const ACME_TOKEN = "emulator-demo-access-token-acme"

/** Starts an emulator on port 0 before each test and stops it after; returns a getter. */
export function useEmulator(options: EmulatorOptions = {}): () => Emulator {
  let emulator: Emulator | undefined
  beforeEach(async () => {
    emulator = await start(options)
  })
  afterEach(async () => {
    await emulator?.stop()
    emulator = undefined
  })
  return () => {
    if (emulator === undefined) throw new Error("The emulator is not running")
    return emulator
  }
}

/** A response read in full: status, headers and body text (parsed when it is JSON). */
export interface Reply {
  readonly status: number
  readonly headers: Headers
  readonly text: string
  readonly json: unknown
}

async function read(response: Response): Promise<Reply> {
  const text = await response.text()
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    json = undefined
  }
  return { status: response.status, headers: response.headers, text, json }
}

/** Sends a request to the emulator and reads the reply. */
export async function send(
  emulator: Emulator,
  method: string,
  path: string,
  init: { headers?: Record<string, string>; body?: string; signal?: AbortSignal } = {}
): Promise<Reply> {
  return read(await fetch(`${emulator.url}${path}`, { method, ...init }))
}

/** PATCH /connections with the demo API key and a token; a non-string body is sent as JSON. */
export function patch(
  emulator: Emulator,
  body: unknown,
  headers: Record<string, string> = { "x-trackstar-access-token": TOKEN }
): Promise<Reply> {
  return send(emulator, "PATCH", "/connections", {
    headers: { "x-trackstar-api-key": DEMO.apiKey, "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body)
  })
}
