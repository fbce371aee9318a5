#!/usr/bin/env node
/**
 * The `trackstar-mcp` command: parses flags, checks the configuration, builds
 * the runtime once, serves the tools over stdio (default) or Streamable HTTP,
 * and shuts down cleanly. Logs go to stderr only.
 */
import { parseArgs } from "node:util"
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js"
import { Config as CoreConfig, NodeHttpClient } from "@trackstar-mcp/core"
import { Cause, Exit, Layer, ManagedRuntime, Option, Redacted } from "effect"
import * as Config from "./Config.js"
import * as Logger from "./Logger.js"
import { connect, createServer, InFlight } from "./Server.js"
import { makeUpdateConnection } from "./tools/UpdateConnection.js"
import { VERSION } from "./version.js"

const USAGE = `trackstar-mcp ${VERSION}: an MCP server with the tool update_connection for Trackstar connections.

Usage:
  trackstar-mcp [options]                 serve MCP over stdio (what desktop clients start)
  trackstar-mcp --http [--port N] [...]   serve MCP over Streamable HTTP at /mcp

Options:
  --emulator              run against a local Trackstar emulator started in-process, with
                          demo connections: try the tool with no Trackstar account
  --config FILE           JSON file of named connections (or TRACKSTAR_MCP_CONFIG):
                          {"defaultConnection": "acme", "connections": {"acme": {"accessToken": "..."},
                           "globex": {"accessTokenEnv": "GLOBEX_TOKEN"}}}
  --compatible-schema     advertise an input schema without anyOf, for clients that refuse it
                          (clear_customer_id: true replaces customer_id: null), or
                          TRACKSTAR_MCP_COMPATIBLE_SCHEMA=1
  --http                  serve Streamable HTTP instead of stdio
  --host HOST             address to bind with --http (default 127.0.0.1)
  --port N                port for --http (default 8808; 0 picks a free one)
  --auth-token TOKEN      bearer token required on every HTTP request (prefer the variable
                          TRACKSTAR_MCP_AUTH_TOKEN); required to bind a non-loopback address
  --allowed-origins LIST  comma-separated Origin values to accept besides loopback ones
                          (or TRACKSTAR_MCP_ALLOWED_ORIGINS)
  --allowed-hosts LIST    comma-separated Host values to accept besides the bound address and
                          loopback names, e.g. behind a proxy (or TRACKSTAR_MCP_ALLOWED_HOSTS)
  --help                  show this help
  --version               show the version

Environment:
  TRACKSTAR_API_KEY              your organisation's API key (required for real calls)
  TRACKSTAR_ACCESS_TOKEN         the access token of the connection named "default"
  TRACKSTAR_ACCESS_TOKEN_<NAME>  the access token of the connection named <name>
                                 (lower-cased, _ read as -), e.g. TRACKSTAR_ACCESS_TOKEN_ACME
  TRACKSTAR_DEFAULT_CONNECTION   the connection used when a call names none
  TRACKSTAR_BASE_URL             default https://production.trackstarhq.com (https only,
                                 except loopback)
  TRACKSTAR_TIMEOUT_MS           per-request timeout, default 10000
  TRACKSTAR_DEADLINE_MS          whole-call deadline with retries, default 60000
  TRACKSTAR_MAX_ATTEMPTS         attempts per call, default 5 (1 = no retries)
  TRACKSTAR_RETRY_BASE_DELAY_MS  first backoff delay, default 250
  TRACKSTAR_RETRY_MAX_DELAY_MS   longest computed backoff, default 10000
  TRACKSTAR_WRITES_PER_SECOND    client-side pacing per access token, default 50 (0 = off)
  TRACKSTAR_LOG_LEVEL            debug | info | warning | error | none (stderr), default info
  TRACKSTAR_MCP_CONFIG           the file --config reads
  TRACKSTAR_MCP_COMPATIBLE_SCHEMA  1 = --compatible-schema
  TRACKSTAR_MCP_AUTH_TOKEN       the bearer token --auth-token sets (with --http)
  TRACKSTAR_MCP_ALLOWED_ORIGINS  the list --allowed-origins sets (with --http)
  TRACKSTAR_MCP_ALLOWED_HOSTS    the list --allowed-hosts sets (with --http)
`

const fail = (message: string): never => {
  process.stderr.write(`trackstar-mcp: ${message}\n`)
  process.exit(2)
}

const log = (message: string) => process.stderr.write(`trackstar-mcp: ${message}\n`)

const parse = () => {
  try {
    return parseArgs({
      options: {
        emulator: { type: "boolean", default: false },
        config: { type: "string" },
        "compatible-schema": { type: "boolean", default: false },
        http: { type: "boolean", default: false },
        host: { type: "string" },
        port: { type: "string" },
        "auth-token": { type: "string" },
        "allowed-origins": { type: "string" },
        "allowed-hosts": { type: "string" },
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

/** A flag or variable as given, or undefined when absent or blank (blank counts as unset). */
const given = (value: string | undefined): string | undefined =>
  value === undefined || value.trim() === "" ? undefined : value

const list = (value: string | undefined): Array<string> =>
  (value ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "")

/** A yes/no variable: unset or blank is `false`; anything but the usual words is refused. */
const switchOf = (name: string, value: string | undefined): boolean => {
  const word = given(value)?.trim().toLowerCase()
  if (word === undefined || ["0", "false", "no", "off"].includes(word)) return false
  if (["1", "true", "yes", "on"].includes(word)) return true
  return fail(
    `${name} must be 1, true, yes or on (or 0, false, no, off), got ${CoreConfig.quoteRejected(value ?? "")}`
  )
}

/** Flags that mean something only with --http: given without it, they are a mistake to report. */
const HTTP_ONLY = ["host", "port", "auth-token", "allowed-origins", "allowed-hosts"] as const

const portOf = (value: string): number => {
  const port = Number(value)
  return Number.isInteger(port) && port >= 0 && port <= 65535
    ? port
    : fail(`--port must be a whole number from 0 to 65535, got "${value}"`)
}

/** Why the HTTP server could not start, with what to do about the usual causes. */
const listenFailure = (error: unknown, host: string, port: number): string => {
  const code =
    typeof error === "object" && error !== null && "code" in error ? error.code : undefined
  if (code === "EADDRINUSE")
    return `port ${port} on ${host} is already in use: stop what uses it, or pick another with --port (0 picks a free one)`
  if (code === "EACCES")
    return `not allowed to listen on port ${port} on ${host}: pick a port above 1023 with --port`
  if (code === "EADDRNOTAVAIL")
    return `${host} is not an address of this machine: pass one of its addresses with --host, or 127.0.0.1`
  return error instanceof Error ? error.message : String(error)
}

/** Settings that --emulator replaces with its own URL, key and connections. */
const EMULATOR_REPLACES = [
  "TRACKSTAR_BASE_URL",
  "TRACKSTAR_API_KEY",
  "TRACKSTAR_ACCESS_TOKEN",
  "TRACKSTAR_DEFAULT_CONNECTION",
  "TRACKSTAR_MCP_CONFIG"
]

/** Where calls go, in words, for the start-up line. */
const describeTarget = (target: Config.Target, origin: string): string =>
  target === "emulator"
    ? `the local emulator at ${origin}`
    : target === "trackstar"
      ? `Trackstar at ${origin}`
      : `${origin} (TRACKSTAR_BASE_URL)`

/** How long a shutdown waits for calls in flight. */
const GRACE_MILLIS = 10_000

const main = async () => {
  const flags = parse()
  if (flags.help) return void process.stdout.write(USAGE)
  if (flags.version) return void process.stdout.write(`${VERSION}\n`)
  const env = process.env
  if (!flags.http) {
    const stray = HTTP_ONLY.filter((name) => flags[name] !== undefined).map((name) => `--${name}`)
    if (stray.length > 0)
      return fail(
        `${stray.join(", ")} ${stray.length === 1 ? "applies" : "apply"} only with --http (the server is on stdio without it): add --http, or remove ${stray.length === 1 ? "it" : "them"}`
      )
  }
  const host = flags.host ?? "127.0.0.1"
  const port = portOf(flags.port ?? "8808")
  const logLevel = Logger.levelOf(env.TRACKSTAR_LOG_LEVEL)
  if (typeof logLevel === "string") return fail(logLevel)
  const compatibleSchema =
    flags["compatible-schema"] ||
    switchOf("TRACKSTAR_MCP_COMPATIBLE_SCHEMA", env.TRACKSTAR_MCP_COMPATIBLE_SCHEMA)
  const authTokenValue = given(flags["auth-token"]) ?? given(env.TRACKSTAR_MCP_AUTH_TOKEN)
  const authToken = authTokenValue === undefined ? undefined : Redacted.make(authTokenValue)

  // Loaded only when asked for, so a plain stdio start loads less.
  const emulator = flags.emulator
    ? await (await import("@trackstar-mcp/emulator")).start()
    : undefined
  if (emulator !== undefined) {
    log(`using the local Trackstar emulator at ${emulator.url} (demo data, no account needed)`)
    const ignored = [
      ...(given(flags.config) === undefined ? [] : ["--config"]),
      ...EMULATOR_REPLACES,
      ...Object.keys(env)
        .filter((name) => name.startsWith("TRACKSTAR_ACCESS_TOKEN_"))
        .sort()
    ].filter((name) => name.startsWith("--") || given(env[name]) !== undefined)
    // Names only: the values are secrets.
    if (ignored.length > 0)
      log(
        `${ignored.join(", ")} ${ignored.length === 1 ? "is" : "are"} ignored: --emulator sends every call to the local emulator, with its own API key and demo connections`
      )
  }

  const runtime = ManagedRuntime.make(
    Layer.mergeAll(
      Config.layer({
        env,
        configFile: given(flags.config),
        emulator: emulator && {
          url: emulator.url,
          apiKey: emulator.apiKey,
          connections: emulator.connections()
        }
      }),
      Logger.layer(logLevel)
    ).pipe(Layer.provide(NodeHttpClient.layer()))
  )
  const setup = await runtime.runPromiseExit(Config.Trackstar)
  if (Exit.isFailure(setup)) {
    await emulator?.stop()
    return fail(
      Option.match(Cause.failureOption(setup.cause), {
        onNone: () => `could not start: ${Cause.pretty(setup.cause)}`,
        onSome: (error) => error.message
      })
    )
  }
  const { connections, defaultConnection, client, target } = setup.value
  log(
    `${VERSION} ready; ${client._tag === "Right" ? `calls go to ${describeTarget(target, client.right.baseUrl.origin)}` : "TRACKSTAR_API_KEY is not set, so each call will say what to set"}; connections: ${
      connections.map((c) => c.name).join(", ") || "none"
    }${defaultConnection === undefined ? "" : `; default connection: ${defaultConnection}`}`
  )

  const tool = makeUpdateConnection({
    connections: connections.map((c) => c.name),
    defaultConnection,
    compatibleSchema
  })
  const inFlight = new InFlight()
  const context = { tools: [tool], runtime, inFlight }

  let stop: () => Promise<void>
  if (flags.http) {
    const { serveHttp } = await import("./Http.js")
    const endpoint = await serveHttp({
      host,
      port,
      authToken,
      allowedOrigins: list(given(flags["allowed-origins"]) ?? env.TRACKSTAR_MCP_ALLOWED_ORIGINS),
      allowedHosts: list(given(flags["allowed-hosts"]) ?? env.TRACKSTAR_MCP_ALLOWED_HOSTS),
      createServer: () => createServer(context),
      inFlight,
      log
    }).catch((error: unknown) => fail(listenFailure(error, host, port)))
    log(
      `listening on ${endpoint.url} (health: ${endpoint.url.replace(/\/mcp$/, "/healthz")})${authToken ? ", bearer token required" : ""}`
    )
    stop = () => endpoint.close(GRACE_MILLIS)
  } else {
    const server = createServer(context)
    await connect(server, new StdioServerTransport())
    // stdin closing means the client is gone: nobody is left to answer.
    process.stdin.on("end", () => void shutdown(0))
    process.stdin.on("close", () => void shutdown(0))
    stop = async () => {
      await Promise.race([
        inFlight.idle(),
        new Promise((resolve) => setTimeout(resolve, GRACE_MILLIS).unref())
      ])
      // A finished call's response is sent in the callbacks after its effect ends;
      // closing the server first would drop it.
      await new Promise((resolve) => setImmediate(resolve))
      await server.close()
    }
  }

  let closing = false
  const shutdown = async (code: number) => {
    if (closing) return
    closing = true
    log(
      inFlight.count > 0
        ? `shutting down; waiting for ${inFlight.count} call(s) in flight`
        : "shutting down"
    )
    await stop().catch(() => undefined)
    await runtime.dispose().catch(() => undefined)
    await emulator?.stop().catch(() => undefined)
    // Pipes are written asynchronously: let the last responses reach the client before exiting.
    await new Promise((resolve) => process.stdout.write("", resolve))
    process.exit(code)
  }
  process.on("SIGINT", () => void shutdown(0))
  process.on("SIGTERM", () => void shutdown(0))
}

main().catch((error: unknown) =>
  fail(`could not start: ${error instanceof Error ? error.message : String(error)}`)
)
