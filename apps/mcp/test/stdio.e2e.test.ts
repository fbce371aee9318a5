import { spawnSync } from "node:child_process"
import { readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { type Emulator, start } from "@trackstar-mcp/emulator"
import { Ajv2020 } from "ajv/dist/2020.js"
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest"
import { VERSION } from "../src/version.js"
import { API_KEY, connect, MAIN, type Session, TOKEN } from "./support.js"
import { until } from "./wait.js"

let emulator: Emulator
const sessions: Array<Session> = []
const written: Array<string> = []

beforeAll(async () => {
  emulator = await start({
    apiKey: API_KEY,
    connections: [{ name: "main", accessToken: TOKEN, id: "conn_e2e" }]
  })
})
afterEach(async () => {
  for (const s of sessions.splice(0)) {
    await s.client.close()
    written.push(s.stderr(), ...s.received)
    expect(s.transportErrors).toStrictEqual([])
  }
})
afterAll(async () => {
  await emulator.stop()
  // Everything every server wrote, stdout (JSON-RPC) and stderr alike, is free of secrets.
  const all = written.join("\n")
  expect(all.length).toBeGreaterThan(0)
  for (const secret of [API_KEY, TOKEN, "sk_live_WRONG_KEY_8d969eef6ecad3c29a3a629280e686cf"]) {
    expect(all).not.toContain(secret)
  }
})

const open = async (env: Record<string, string> = {}, args: Array<string> = []) => {
  const session = await connect(
    {
      TRACKSTAR_BASE_URL: emulator.url,
      TRACKSTAR_API_KEY: API_KEY,
      TRACKSTAR_ACCESS_TOKEN: TOKEN,
      ...env
    },
    args
  )
  sessions.push(session)
  return session
}
const textOf = (result: { content: Array<{ type: string; text?: string }> }) =>
  result.content.map((c) => c.text ?? "").join("\n")

describe("stdio server, spawned by the SDK client", () => {
  it("lists update_connection with schemas clients accept", async () => {
    const { client } = await open()
    const { tools } = await client.listTools()
    expect(tools.map((t) => t.name)).toStrictEqual(["update_connection"])
    const [tool] = tools
    if (tool === undefined) throw new Error("no tool")
    expect(tool.annotations).toMatchObject({
      readOnlyHint: false,
      idempotentHint: true,
      destructiveHint: true
    })
    expect(tool.description).toContain("connection.deleted")
    expect(tool.description).toContain("null clears it")

    const input = tool.inputSchema
    expect(Object.keys(input.properties ?? {})).toStrictEqual([
      "customer_id",
      "webhooks_disabled",
      "connection",
      "dry_run"
    ])
    expect(input.properties?.connection).toMatchObject({ enum: ["default"] })
    expect(input.additionalProperties).toBe(false)
    const text = JSON.stringify([input, tool.outputSchema])
    expect(text).not.toMatch(/"\$ref"|"\$defs"|"type":\[/)
    for (const property of Object.values(input.properties ?? {}))
      expect(property).toHaveProperty("description")

    // An independent JSON Schema 2020-12 validator agrees with our decoding.
    const ajv = new Ajv2020({ strict: true, strictRequired: false })
    const validate = ajv.compile(input)
    expect(validate({ customer_id: "a", webhooks_disabled: true })).toBe(true)
    expect(validate({ customer_id: null })).toBe(true)
    expect(validate({})).toBe(true)
    expect(validate({ webhooks_disabled: "true" })).toBe(false)
    expect(validate({ other: 1 })).toBe(false)
    expect(() => ajv.compile(tool.outputSchema ?? {})).not.toThrow()
  })

  it("sets a customer id and disables webhooks on the emulator", async () => {
    const { client, call } = await open()
    const [tool] = (await client.listTools()).tools
    // Results match the advertised output schema, checked by an independent 2020-12 validator.
    const matchesOutput = new Ajv2020({ strict: true }).compile(tool?.outputSchema ?? {})
    const first = await call({ customer_id: "acme-42" })
    expect(matchesOutput(first.structuredContent)).toBe(true)
    expect(first.isError).toBeFalsy()
    // A real call reports what happened; only a dry run echoes the request.
    expect(first.structuredContent).toStrictEqual({
      dry_run: false,
      connection: "default",
      connection_id: "conn_e2e",
      updated: true,
      request_id: expect.stringMatching(/^req_/),
      target: "custom",
      attempts: 1
    })
    const requestId = first.structuredContent?.request_id
    expect(requestId).toMatch(/^req_/)
    expect(textOf(first)).toContain(String(requestId))
    expect(emulator.connection(TOKEN)).toMatchObject({
      customer_id: "acme-42",
      webhooks_disabled: false
    })

    const second = await call({ webhooks_disabled: true })
    expect(second.structuredContent).toMatchObject({
      updated: true
    })
    expect(textOf(second)).toContain("connection.deleted")
    expect(emulator.connection(TOKEN)).toMatchObject({
      customer_id: "acme-42",
      webhooks_disabled: true
    })

    const clear = await call({ customer_id: null, webhooks_disabled: false })
    expect(clear.isError).toBeFalsy()
    expect(emulator.connection(TOKEN)).toMatchObject({
      customer_id: null,
      webhooks_disabled: false
    })
  })

  it("answers bad arguments with isError and sends nothing", async () => {
    const { call } = await open()
    const before = emulator.requests().length
    const result = await call({ webhooks_disabled: "yes", customer_id: 7, colour: "red" })
    expect(result.isError).toBe(true)
    const text = textOf(result)
    expect(text).toContain("nothing was sent")
    expect(text).toContain(
      'webhooks_disabled must be true or false (a JSON boolean, not a string), got "yes"'
    )
    expect(text).toContain("customer_id must be a string, or null to clear it, got 7")
    expect(text).toContain("colour is not a field that can be set")
    expect(emulator.requests().length).toBe(before)
  })

  it("turns a Trackstar failure into an actionable isError result", async () => {
    const { call } = await open({
      TRACKSTAR_API_KEY: "sk_live_WRONG_KEY_8d969eef6ecad3c29a3a629280e686cf"
    })
    const result = await call({ customer_id: "x" })
    expect(result.isError).toBe(true)
    const text = textOf(result)
    expect(text).toContain("HTTP 401")
    expect(text).toMatch(/request id req_/)
    expect(text).toContain("Retrying will not help")
  })

  it("starts without credentials, lists the tool, and explains what to set", async () => {
    const { client, call } = await open({ TRACKSTAR_API_KEY: "", TRACKSTAR_ACCESS_TOKEN: "" })
    expect((await client.listTools()).tools).toHaveLength(1)
    const result = await call({ customer_id: "x" })
    expect(result.isError).toBe(true)
    expect(textOf(result)).toContain("TRACKSTAR_API_KEY is not set")
  })

  it("runs against its own emulator with --emulator", async () => {
    const { call } = await open({ TRACKSTAR_API_KEY: "", TRACKSTAR_BASE_URL: "" }, ["--emulator"])
    const result = await call({ webhooks_disabled: true })
    expect(result.structuredContent).toMatchObject({ target: "emulator", updated: true })
    expect(textOf(result)).toContain("no real Trackstar connection was changed")
  })

  it("names the settings --emulator overrides, never their values", async () => {
    const session = await open({ TRACKSTAR_ACCESS_TOKEN_ACME: TOKEN }, ["--emulator"])
    const result = await session.call({ webhooks_disabled: false })
    expect(result.structuredContent).toMatchObject({ target: "emulator" })
    const stderr = session.stderr()
    expect(stderr).toContain(
      "TRACKSTAR_BASE_URL, TRACKSTAR_API_KEY, TRACKSTAR_ACCESS_TOKEN, TRACKSTAR_ACCESS_TOKEN_ACME are ignored: --emulator"
    )
    expect(stderr).toContain("calls go to the local emulator at http://127.0.0.1:")
    expect(stderr).not.toContain(TOKEN)
    expect(stderr).not.toContain(API_KEY)
  })

  it("exits cleanly when the client closes stdin", async () => {
    const session = await connect({ TRACKSTAR_API_KEY: "" })
    const pid = session.pid
    expect(pid).toBeTypeOf("number")
    const exited = new Promise<number | null>((resolve) => {
      const poll = setInterval(() => {
        try {
          process.kill(pid ?? 0, 0)
        } catch {
          clearInterval(poll)
          resolve(0)
        }
      }, 20)
    })
    await session.client.close()
    await expect(exited).resolves.toBe(0)
  })
})

describe("shutdown", () => {
  it("lets a call in flight finish on SIGTERM, then exits 0", async () => {
    emulator.inject({ fault: { kind: "delay", ms: 800 }, accessToken: TOKEN, times: 1 })
    const session = await open()
    const before = emulator.requests().length
    const pending = session.call({ customer_id: "in-flight" })
    await until(() => emulator.requests().length > before, 5_000, "the call to reach the emulator")
    process.kill(session.pid ?? 0, "SIGTERM")
    const result = await pending
    expect(result.structuredContent).toMatchObject({ updated: true })
    expect(emulator.connection(TOKEN)?.customer_id).toBe("in-flight")
  })
})

describe("command line", () => {
  const run = (args: Array<string>, env: Record<string, string> = {}) =>
    spawnSync(process.execPath, [MAIN, ...args], {
      env: { PATH: process.env.PATH ?? "", ...env },
      encoding: "utf8",
      input: ""
    })

  it("prints --version and --help", () => {
    expect(run(["--version"]).stdout.trim()).toBe(VERSION)
    const help = run(["--help"])
    expect(help.status).toBe(0)
    expect(help.stdout).toContain("TRACKSTAR_API_KEY")
    expect(help.stdout).toContain("--emulator")
  })

  it("runs as the package bin, which loads the bundle", () => {
    const bin = fileURLToPath(new URL("../bin/trackstar-mcp.js", import.meta.url))
    const result = spawnSync(process.execPath, [bin, "--version"], { encoding: "utf8" })
    expect(result.stdout.trim()).toBe(VERSION)
  })

  it("keeps VERSION equal to package.json's", () => {
    const pkg: unknown = JSON.parse(
      readFileSync(new URL("../package.json", import.meta.url), "utf8")
    )
    expect(pkg).toMatchObject({ version: VERSION })
  })

  it("refuses an unknown flag with exit code 2", () => {
    const result = run(["--bogus"])
    expect(result.status).toBe(2)
    expect(result.stderr).toContain("--bogus")
    expect(result.stdout).toBe("")
  })

  it("refuses HTTP-only flags without --http, saying what to do", () => {
    const result = run(["--port", "9000", "--auth-token", "t0ken-value"])
    expect(result.status).toBe(2)
    expect(result.stderr).toContain(
      "--port, --auth-token apply only with --http (the server is on stdio without it): add --http, or remove them"
    )
    expect(result.stderr).not.toContain("t0ken-value")
    expect(result.stdout).toBe("")
  })

  it("checks the other settings even without an API key, so that the key is the last fix", () => {
    const result = run([], { TRACKSTAR_TIMEOUT_MS: "10s", TRACKSTAR_MAX_ATTEMPTS: "many" })
    expect(result.status).toBe(2)
    expect(result.stderr).toContain(
      'invalid configuration: TRACKSTAR_TIMEOUT_MS: Expected a whole number of milliseconds, got "10s"; TRACKSTAR_MAX_ATTEMPTS: Expected a whole number, got "many"'
    )
    expect(result.stdout).toBe("")
  })

  it("never echoes a key or token pasted into the wrong variable", () => {
    for (const name of ["TRACKSTAR_TIMEOUT_MS", "TRACKSTAR_BASE_URL", "TRACKSTAR_LOG_LEVEL"]) {
      const result = run([], { [name]: API_KEY })
      expect(result.status).toBe(2)
      expect(result.stderr).toContain(name)
      expect(result.stderr).toContain(`a value of ${API_KEY.length} characters (not shown`)
      expect(result.stderr).not.toContain(API_KEY)
    }
    const yes = run([], { TRACKSTAR_MCP_COMPATIBLE_SCHEMA: TOKEN })
    expect(yes.stderr).toContain("TRACKSTAR_MCP_COMPATIBLE_SCHEMA must be")
    expect(yes.stderr).not.toContain(TOKEN)
  })

  it("refuses a log level or a yes/no variable it does not understand, saying what it takes", () => {
    const level = run([], { TRACKSTAR_LOG_LEVEL: "verbose" })
    expect(level.status).toBe(2)
    expect(level.stderr).toMatch(
      /TRACKSTAR_LOG_LEVEL must be one of debug, info, warning, error, none, got "verbose"/
    )
    const yes = run([], { TRACKSTAR_MCP_COMPATIBLE_SCHEMA: "perhaps" })
    expect(yes.status).toBe(2)
    expect(yes.stderr).toMatch(/TRACKSTAR_MCP_COMPATIBLE_SCHEMA must be 1, true, yes or on/)
  })

  it("refuses an insecure base URL at start-up, naming the variable and hiding the key", () => {
    const result = run([], { TRACKSTAR_API_KEY: API_KEY, TRACKSTAR_BASE_URL: "http://example.com" })
    expect(result.status).toBe(2)
    expect(result.stderr).toContain("TRACKSTAR_BASE_URL")
    expect(result.stderr).toContain("https")
    expect(result.stdout).toBe("")
    expect(result.stderr).not.toContain(API_KEY)
  })
})
