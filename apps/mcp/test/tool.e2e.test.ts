// update_connection as an assistant uses it: argument forms, dry run, named connections,
// cancellation, progress and log notifications, over stdio with the SDK's client.
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { LoggingMessageNotificationSchema } from "@modelcontextprotocol/sdk/types.js"
import { type Emulator, start } from "@trackstar-mcp/emulator"
import { Ajv2020 } from "ajv/dist/2020.js"
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest"
import { API_KEY, connectOver, type Session, type TransportKind } from "./support.js"
import { until } from "./wait.js"

const TOKENS = {
  default: "tok_TOOL_DEFAULT_3a7bd3e2360a3d29eea436fcfb7e44c7",
  acme: "tok_TOOL_ACME_2c624232cdd221771294dfbb310aca00",
  globex: "tok_TOOL_GLOBEX_fcde2b2edba56bf408601fb721fe9b5c"
}

let emulator: Emulator
const sessions: Array<Session> = []
const written: Array<string> = []
const dir = mkdtempSync(join(tmpdir(), "trackstar-mcp-"))
const configFile = join(dir, "connections.json")

beforeAll(async () => {
  emulator = await start({
    apiKey: API_KEY,
    connections: [
      { name: "default", accessToken: TOKENS.default, id: "conn_default" },
      { name: "acme", accessToken: TOKENS.acme, id: "conn_acme" },
      { name: "globex", accessToken: TOKENS.globex, id: "conn_globex" }
    ]
  })
  writeFileSync(
    configFile,
    JSON.stringify({ connections: { globex: { accessTokenEnv: "GLOBEX_TOKEN" } } })
  )
})
beforeEach(() => {
  emulator.clearFaults()
  emulator.clearRequests()
})
afterEach(async () => {
  for (const s of sessions.splice(0)) {
    await s.close()
    written.push(s.stderr(), ...s.received)
  }
})
afterAll(async () => {
  await emulator.stop()
  const all = written.join("\n")
  for (const secret of [API_KEY, ...Object.values(TOKENS)]) expect(all).not.toContain(secret)
})

const opener =
  (kind: TransportKind) =>
  async (env: Record<string, string> = {}, args: Array<string> = []) => {
    const session = await connectOver(
      kind,
      {
        TRACKSTAR_BASE_URL: emulator.url,
        TRACKSTAR_API_KEY: API_KEY,
        TRACKSTAR_ACCESS_TOKEN: TOKENS.default,
        TRACKSTAR_ACCESS_TOKEN_ACME: TOKENS.acme,
        GLOBEX_TOKEN: TOKENS.globex,
        TRACKSTAR_MCP_CONFIG: configFile,
        TRACKSTAR_RETRY_BASE_DELAY_MS: "10",
        ...env
      },
      args
    )
    sessions.push(session)
    return session
  }
const textOf = (result: { content: Array<{ type: string; text?: string }> }) =>
  result.content.map((c) => c.text ?? "").join("\n")

describe.each<TransportKind>(["stdio", "http"])("over %s", (kind) => {
  const open = opener(kind)

  describe("named connections", () => {
    it("offers the configured names (never tokens) and updates the one named", async () => {
      const { client, call } = await open()
      const [tool] = (await client.listTools()).tools
      expect(tool?.inputSchema.properties?.connection).toMatchObject({
        enum: ["default", "acme", "globex"]
      })
      expect(JSON.stringify(tool)).not.toContain("tok_")

      const untouched = emulator.connection(TOKENS.default)?.customer_id
      const result = await call({ connection: "acme", customer_id: "acme-7" })
      expect(result.structuredContent).toMatchObject({
        connection: "acme",
        connection_id: "conn_acme",
        updated: true
      })
      expect(emulator.connection(TOKENS.acme)?.customer_id).toBe("acme-7")
      expect(emulator.connection(TOKENS.default)?.customer_id).toBe(untouched)

      const fromFile = await call({ connection: "globex", webhooks_disabled: true })
      expect(fromFile.structuredContent).toMatchObject({
        connection: "globex",
        connection_id: "conn_globex"
      })
    })

    it("uses the default connection when none is named", async () => {
      const { call } = await open()
      const result = await call({ webhooks_disabled: true })
      expect(result.structuredContent).toMatchObject({
        connection: "default",
        connection_id: "conn_default"
      })
    })

    it("refuses an unknown connection name, listing the configured ones, and sends nothing", async () => {
      const { call } = await open()
      const result = await call({ connection: "initech", customer_id: "x" })
      expect(result.isError).toBe(true)
      expect(textOf(result)).toContain(
        "connection must be one of the configured connections: default, acme, globex"
      )
      expect(emulator.requests()).toHaveLength(0)
    })

    it("asks for a connection when there are several and no default", async () => {
      const { call } = await open({ TRACKSTAR_ACCESS_TOKEN: "" })
      const result = await call({ customer_id: "x" })
      expect(result.isError).toBe(true)
      expect(textOf(result)).toContain(
        "Name the connection to update with `connection`: one of acme, globex"
      )
    })
  })

  describe("argument forms", () => {
    it("refuses an empty update, saying what can be set", async () => {
      const { call } = await open()
      for (const args of [{}, { dry_run: true }, { connection: "acme" }]) {
        const result = await call(args)
        expect(result.isError).toBe(true)
        expect(textOf(result)).toContain("Nothing to update: pass customer_id")
      }
      expect(emulator.requests()).toHaveLength(0)
    })

    it.each([
      [
        { webhooks_disabled: "true" },
        'webhooks_disabled must be true or false (a JSON boolean, not a string), got "true"'
      ],
      [
        { webhooks_disabled: 1 },
        "webhooks_disabled must be true or false (a JSON boolean, not a string), got 1"
      ],
      [{ customer_id: 42 }, "customer_id must be a string, or null to clear it, got 42"],
      [{ customer_id: "x", dry_run: "yes" }, "dry_run"],
      [{ customer_id: "x", Customer_Id: "y" }, "Customer_Id is not a field that can be set"]
    ])("rejects %j rather than guessing", async (args, message) => {
      const { call } = await open()
      const result = await call(args)
      expect(result.isError).toBe(true)
      expect(textOf(result)).toContain(message)
      expect(emulator.requests()).toHaveLength(0)
    })
  })

  describe("dry run", () => {
    it("returns exactly what would be sent, secrets redacted, and sends nothing", async () => {
      const { client, call } = await open()
      const [tool] = (await client.listTools()).tools
      const result = await call({
        connection: "acme",
        customer_id: null,
        webhooks_disabled: false,
        dry_run: true
      })
      expect(result.isError).toBeFalsy()
      expect(result.structuredContent).toStrictEqual({
        dry_run: true,
        connection: "acme",
        target: "custom",
        request: {
          method: "PATCH",
          url: `${emulator.url}/connections`,
          headers: {
            accept: "application/json",
            "content-type": "application/json",
            "x-trackstar-api-key": "<redacted>",
            "x-trackstar-access-token": "<redacted>"
          },
          body: { customer_id: null, webhooks_disabled: false }
        }
      })
      expect(
        new Ajv2020({ strict: true }).compile(tool?.outputSchema ?? {})(result.structuredContent)
      ).toBe(true)
      expect(textOf(result)).toContain("Dry run: nothing was sent")
      expect(emulator.requests()).toHaveLength(0)

      // What the dry run showed is what a real call sends.
      await call({ connection: "acme", customer_id: null, webhooks_disabled: false })
      const [sent] = emulator.requests()
      expect(sent?.method).toBe("PATCH")
      expect(JSON.parse(sent?.body ?? "")).toStrictEqual({
        customer_id: null,
        webhooks_disabled: false
      })
    })
  })

  describe("refused credentials", () => {
    it("say where the named connection's access token is set, never the token", async () => {
      emulator.inject({
        fault: { kind: "status", status: 401 },
        accessToken: TOKENS.acme,
        times: 1
      })
      const { call } = await open()
      const refused = await call({ connection: "acme", customer_id: "x" })
      expect(refused.isError).toBe(true)
      expect(textOf(refused)).toContain(
        'The access token of connection "acme" is set by TRACKSTAR_ACCESS_TOKEN_ACME.'
      )
      expect(textOf(refused)).not.toContain(TOKENS.acme)
    })
  })

  describe("compatible schema", () => {
    it("advertises no anyOf and clears customer_id with clear_customer_id", async () => {
      const { client, call } = await open({}, ["--compatible-schema"])
      const [tool] = (await client.listTools()).tools
      const schema = JSON.stringify([tool?.inputSchema, tool?.outputSchema])
      expect(schema).not.toContain("anyOf")
      expect(schema).not.toContain("oneOf")
      expect(new Ajv2020({ strict: true }).validateSchema(tool?.inputSchema ?? {})).toBe(true)

      await call({ customer_id: "set-first" })
      const cleared = await call({ clear_customer_id: true })
      expect(cleared.isError).toBeFalsy()
      expect(JSON.parse(emulator.requests().at(-1)?.body ?? "")).toStrictEqual({
        customer_id: null
      })
      expect(emulator.connection(TOKENS.default)?.customer_id).toBeNull()

      const both = await call({ clear_customer_id: true, customer_id: "x" })
      expect(both.isError).toBe(true)
      expect(textOf(both)).toContain("not both")

      // A null from habit is refused with the way to clear, saying the value once.
      const nulled = await call({ customer_id: null })
      expect(nulled.isError).toBe(true)
      expect(textOf(nulled)).toContain(
        "customer_id must be a string; to clear customer_id, pass clear_customer_id: true instead, got null"
      )
      expect(textOf(nulled)).not.toContain("actual")
    })
  })

  describe("cancellation and progress", () => {
    it("interrupts the running call, aborting its HTTP request, when the client cancels", async () => {
      emulator.inject({ fault: { kind: "hang" }, accessToken: TOKENS.default, times: 1 })
      const { client, call } = await open()
      const controller = new AbortController()
      const pending = client.callTool(
        { name: "update_connection", arguments: { customer_id: "never" } },
        undefined,
        {
          signal: controller.signal
        }
      )
      await until(
        () => emulator.requests().length === 1,
        5_000,
        "the request to reach the emulator"
      )
      controller.abort("user changed their mind")
      await expect(pending).rejects.toThrow()
      await until(
        () => emulator.requests()[0]?.closedByClient === true,
        5_000,
        "the server to abort its HTTP request"
      )
      // The server is still healthy.
      expect((await call({ customer_id: "after" })).isError).toBeFalsy()
    })

    it("reports progress while it waits on retries, then succeeds", async () => {
      emulator.inject({
        fault: { kind: "status", status: 503 },
        accessToken: TOKENS.default,
        times: 2
      })
      const { client } = await open()
      const progress: Array<string> = []
      const result = await client.callTool(
        { name: "update_connection", arguments: { customer_id: "retried" } },
        undefined,
        {
          onprogress: (p) => progress.push(p.message ?? "")
        }
      )
      expect(result.structuredContent).toMatchObject({ attempts: 3, updated: true })
      expect(progress.length).toBeGreaterThanOrEqual(2)
      expect(progress[0]).toMatch(/503/)
    })

    it("sends log notifications at the level the client sets", async () => {
      emulator.inject({
        fault: { kind: "status", status: 503 },
        accessToken: TOKENS.default,
        times: 1
      })
      const { client, call } = await open()
      const logs: Array<unknown> = []
      client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => {
        logs.push(n.params)
      })
      await client.setLoggingLevel("debug")
      await call({ customer_id: "logged" })
      expect(logs).toContainEqual({
        level: "debug",
        logger: "trackstar",
        data: expect.objectContaining({
          message: expect.stringMatching(/^Trackstar attempt 1 failed: .*HTTP 503/),
          tool: "update_connection",
          "trackstar.operation": "PATCH /connections",
          "trackstar.attempt": 1,
          "trackstar.retryable": true
        })
      })
      await client.setLoggingLevel("error")
      const before = logs.length
      emulator.inject({
        fault: { kind: "status", status: 503 },
        accessToken: TOKENS.default,
        times: 1
      })
      await call({ customer_id: "quiet" })
      expect(logs.length).toBe(before)
    })
  })
})
