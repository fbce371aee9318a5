#!/usr/bin/env node
import { readFileSync } from "node:fs"
import { parseArgs } from "node:util"
import { type Emulator, type EmulatorOptions, start } from "./Server.js"

const USAGE = `Usage: trackstar-emulator [--port N] [--host 127.0.0.1] [--no-rate-limit] [--help] [--version]

Serves a local emulator of Trackstar's PATCH /connections with obviously fake demo credentials.

  --port N         port to listen on (default 0: any free port)
  --host HOST      loopback address to listen on (default 127.0.0.1)
  --no-rate-limit  turn off the per-token limits (50 writes/s, 10 reads/s)
  --help           show this help
  --version        show the version
`

class UsageError extends Error {}

const describe = (error: unknown): string =>
  error instanceof Error ? error.message : String(error)

function readVersion(): string {
  const manifest: unknown = JSON.parse(
    readFileSync(new URL("../package.json", import.meta.url), "utf8")
  )
  const version =
    typeof manifest === "object" && manifest !== null && "version" in manifest
      ? manifest.version
      : undefined
  return typeof version === "string" ? version : "unknown"
}

type Command =
  | { readonly kind: "help" | "version" }
  | { readonly kind: "run"; readonly options: EmulatorOptions }

function parseCommand(argv: ReadonlyArray<string>): Command {
  let values: {
    port?: string
    host?: string
    "no-rate-limit"?: boolean
    help?: boolean
    version?: boolean
  }
  try {
    ;({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        port: { type: "string" },
        host: { type: "string" },
        "no-rate-limit": { type: "boolean" },
        help: { type: "boolean" },
        version: { type: "boolean" }
      }
    }))
  } catch (error) {
    throw new UsageError(describe(error))
  }
  if (values.help) return { kind: "help" }
  if (values.version) return { kind: "version" }
  const options: { port?: number; host?: string; rateLimit?: false } = {}
  if (values.port !== undefined) {
    const port = Number(values.port)
    if (!/^\d+$/.test(values.port) || port > 65_535) {
      throw new UsageError(`--port must be an integer from 0 to 65535, got "${values.port}"`)
    }
    options.port = port
  }
  if (values.host !== undefined) options.host = values.host
  if (values["no-rate-limit"]) options.rateLimit = false
  return { kind: "run", options }
}

function banner(emulator: Emulator, rateLimited: boolean): string {
  const [first] = emulator.connections()
  const lines = [
    `Trackstar emulator listening on ${emulator.url}`,
    "",
    `API key: ${emulator.apiKey}`,
    "Connections (demo values, not secrets):",
    ...emulator.connections().map((c) => `  ${c.name}  token ${c.accessToken}  id ${c.id}`),
    "",
    "Point a client at it:",
    `  TRACKSTAR_BASE_URL=${emulator.url} TRACKSTAR_API_KEY=${emulator.apiKey} TRACKSTAR_ACCESS_TOKEN=${first?.accessToken ?? ""}`,
    "",
    rateLimited
      ? "Rate limits: 50 writes/s and 10 reads/s per token (--no-rate-limit turns them off)."
      : "Rate limits: off.",
    "Press Ctrl+C to stop."
  ]
  return `${lines.join("\n")}\n`
}

async function main(argv: ReadonlyArray<string>): Promise<number> {
  let command: Command
  try {
    command = parseCommand(argv)
  } catch (error) {
    if (!(error instanceof UsageError)) throw error
    process.stderr.write(
      `trackstar-emulator: ${error.message}\nRun trackstar-emulator --help for usage.\n`
    )
    return 2
  }
  if (command.kind !== "run") {
    process.stdout.write(command.kind === "help" ? USAGE : `${readVersion()}\n`)
    return 0
  }
  let emulator: Emulator
  try {
    emulator = await start(command.options)
  } catch (error) {
    process.stderr.write(`trackstar-emulator: ${describe(error)}\n`)
    return 1
  }
  process.stdout.write(banner(emulator, command.options.rateLimit !== false))
  await new Promise<void>((resolve) => {
    process.once("SIGINT", resolve)
    process.once("SIGTERM", resolve)
  })
  await emulator.stop()
  return 0
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code
  },
  (error: unknown) => {
    process.stderr.write(`trackstar-emulator: ${describe(error)}\n`)
    process.exitCode = 1
  }
)
