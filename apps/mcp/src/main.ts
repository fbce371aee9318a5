#!/usr/bin/env node
/**
 * The `trackstar-mcp` command: parses flags, builds the runtime once, serves
 * the tools over stdio, and shuts down when stdin closes or on SIGINT/SIGTERM.
 */
import { parseArgs } from "node:util"
import { FetchHttpClient } from "@effect/platform"
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js"
import { type Emulator, start as startEmulator } from "@trackstar-mcp/emulator"
import { Layer, ManagedRuntime } from "effect"
import * as Config from "./Config.js"
import * as Logger from "./Logger.js"
import { makeServer } from "./Server.js"
import { updateConnection } from "./tools/UpdateConnection.js"
import { VERSION } from "./version.js"

const USAGE = `trackstar-mcp ${VERSION}: an MCP server with the tool update_connection for Trackstar connections.

Usage: trackstar-mcp [--emulator]

Speaks MCP over stdio (start it from an MCP client such as Claude Desktop or Cursor).

Options:
  --emulator   start a local Trackstar emulator in-process and use its demo
               credentials: try the tool with no Trackstar account
  --help       show this help
  --version    show the version

Environment:
  TRACKSTAR_API_KEY             your organisation's API key (required for real calls)
  TRACKSTAR_ACCESS_TOKEN        the connection's access token
  TRACKSTAR_BASE_URL            default https://production.trackstarhq.com (https only,
                                except loopback)
  TRACKSTAR_TIMEOUT_MS          per-request timeout, default 10000
  TRACKSTAR_DEADLINE_MS         whole-call deadline with retries, default 60000
  TRACKSTAR_MAX_ATTEMPTS        attempts per call, default 5 (1 = no retries)
  TRACKSTAR_RETRY_BASE_DELAY_MS first backoff delay, default 250
  TRACKSTAR_RETRY_MAX_DELAY_MS  longest computed backoff, default 10000
  TRACKSTAR_WRITES_PER_SECOND   client-side pacing per token, default 50 (0 = off)
  TRACKSTAR_LOG_LEVEL           debug | info | warning | error | none (stderr), default info
`

const fail = (message: string): never => {
  process.stderr.write(`trackstar-mcp: ${message}\n`)
  process.exit(2)
}

const parse = () => {
  try {
    return parseArgs({
      options: {
        emulator: { type: "boolean", default: false },
        help: { type: "boolean", default: false },
        version: { type: "boolean", default: false }
      },
      strict: true,
      allowPositionals: false
    }).values
  } catch (error) {
    return fail(
      `${error instanceof Error ? error.message : String(error)}\nRun trackstar-mcp --help for the options.`
    )
  }
}

const main = async () => {
  const flags = parse()
  if (flags.help) return void process.stdout.write(USAGE)
  if (flags.version) return void process.stdout.write(`${VERSION}\n`)

  let emulator: Emulator | undefined
  let target: Config.EmulatorTarget | undefined
  if (flags.emulator) {
    emulator = await startEmulator()
    const demo = emulator.connections()[0]
    if (demo === undefined) return fail("the emulator started with no demo connection")
    process.stderr.write(
      `trackstar-mcp: using the local Trackstar emulator at ${emulator.url} (demo data, no account needed)\n`
    )
    target = { url: emulator.url, apiKey: emulator.apiKey, accessToken: demo.accessToken }
  }

  const runtime = ManagedRuntime.make(
    Layer.mergeAll(
      Config.layer({ emulator: target }),
      Logger.layer(Logger.levelOf(process.env.TRACKSTAR_LOG_LEVEL))
    ).pipe(Layer.provide(FetchHttpClient.layer))
  )
  try {
    await runtime.runtime()
  } catch (error) {
    await emulator?.stop()
    return fail(`invalid configuration: ${error instanceof Error ? error.message : String(error)}`)
  }

  const server = makeServer([updateConnection], runtime)
  let closing = false
  const shutdown = async () => {
    if (closing) return
    closing = true
    await server.close().catch(() => undefined)
    await runtime.dispose().catch(() => undefined)
    await emulator?.stop()
    process.exit(0)
  }
  process.stdin.on("end", shutdown)
  process.stdin.on("close", shutdown)
  process.on("SIGINT", shutdown)
  process.on("SIGTERM", shutdown)
  await server.connect(new StdioServerTransport())
}

main().catch((error: unknown) =>
  fail(`could not start: ${error instanceof Error ? error.message : String(error)}`)
)
