// stdout of the stdio server carries JSON-RPC and nothing else, whatever the client sends,
// including argument forms the SDK client would not produce (null, none, a string).
import { spawn } from "node:child_process"
import { createInterface } from "node:readline"
import { type Emulator, start } from "@trackstar-mcp/emulator"
import { afterAll, beforeAll, expect, it } from "vitest"
import { API_KEY, INITIALIZE, MAIN, TOKEN } from "./support.js"

let emulator: Emulator
beforeAll(async () => {
  emulator = await start({
    apiKey: API_KEY,
    connections: [{ name: "main", accessToken: TOKEN, id: "conn_pure" }]
  })
})
afterAll(() => emulator.stop())

const requests = [
  INITIALIZE,
  { jsonrpc: "2.0", method: "notifications/initialized" },
  { jsonrpc: "2.0", id: 2, method: "tools/list" },
  {
    jsonrpc: "2.0",
    id: 3,
    method: "tools/call",
    params: { name: "update_connection", arguments: null }
  },
  { jsonrpc: "2.0", id: 4, method: "tools/call", params: { name: "update_connection" } },
  {
    jsonrpc: "2.0",
    id: 5,
    method: "tools/call",
    params: { name: "update_connection", arguments: "customer_id=x" }
  },
  {
    jsonrpc: "2.0",
    id: 6,
    method: "tools/call",
    params: { name: "update_connection", arguments: { customer_id: "pure" } }
  },
  { jsonrpc: "2.0", id: 7, method: "tools/call", params: { name: "no_such_tool", arguments: {} } },
  { jsonrpc: "2.0", id: 8, method: "logging/setLevel", params: { level: "debug" } },
  {
    jsonrpc: "2.0",
    id: 9,
    method: "tools/call",
    params: { name: "update_connection", arguments: { webhooks_disabled: true } }
  },
  { jsonrpc: "2.0", id: 10, method: "ping" }
]

it("writes only JSON-RPC lines to stdout and answers every request", async () => {
  const child = spawn(process.execPath, [MAIN], {
    env: {
      PATH: process.env.PATH ?? "",
      TRACKSTAR_BASE_URL: emulator.url,
      TRACKSTAR_API_KEY: API_KEY,
      TRACKSTAR_ACCESS_TOKEN: TOKEN,
      TRACKSTAR_LOG_LEVEL: "debug"
    },
    stdio: ["pipe", "pipe", "pipe"]
  })
  let stderr = ""
  child.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk.toString()
  })
  const lines: Array<string> = []
  const answered = new Map<number, unknown>()
  const done = new Promise<void>((resolve) => {
    createInterface({ input: child.stdout }).on("line", (line) => {
      lines.push(line)
      const message: unknown = JSON.parse(line)
      if (
        typeof message === "object" &&
        message !== null &&
        "id" in message &&
        typeof message.id === "number"
      ) {
        answered.set(message.id, message)
        if (answered.size === 10) resolve()
      }
    })
  })
  // One request at a time in order, as a client would, then close stdin.
  for (const request of requests) child.stdin.write(`${JSON.stringify(request)}\n`)
  await done
  const exited = new Promise<number | null>((resolve) => child.on("exit", resolve))
  child.stdin.end()
  expect(await exited).toBe(0)

  for (const line of lines) {
    expect(JSON.parse(line)).toMatchObject({ jsonrpc: "2.0" })
  }
  const result = (id: number) => answered.get(id)
  expect(result(3)).toMatchObject({
    result: { isError: true, content: [{ text: expect.stringContaining("Nothing to update") }] }
  })
  expect(result(4)).toMatchObject({
    result: { isError: true, content: [{ text: expect.stringContaining("Nothing to update") }] }
  })
  // A non-object is answered by the tool's own decoder, as an isError result that says why.
  expect(result(5)).toMatchObject({
    result: { isError: true, content: [{ text: expect.stringContaining("must be a JSON object") }] }
  })
  expect(result(6)).toMatchObject({ result: { structuredContent: { updated: true } } })
  expect(result(7)).toMatchObject({ error: { message: expect.stringContaining("Unknown tool") } })
  expect(result(9)).toMatchObject({ result: { structuredContent: { updated: true } } })
  expect(result(10)).toMatchObject({ result: {} })
  // Logs went to stderr, never stdout, and hold no secret.
  expect(stderr).toContain("trackstar-mcp")
  expect(stderr + lines.join("\n")).not.toContain(TOKEN)
  expect(stderr + lines.join("\n")).not.toContain(API_KEY)
})
