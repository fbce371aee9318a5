/**
 * The demo: a Trackstar emulator on 127.0.0.1, the built stdio MCP server
 * spawned by the SDK's real client, and three tool calls, with the emulator's
 * state before and after. Exits non-zero if anything does not go as shown.
 */
import { createRequire } from "node:module"
import { Client } from "@modelcontextprotocol/sdk/client/index.js"
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js"
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js"
import { type Emulator, start } from "@trackstar-mcp/emulator"

const serverEntry = createRequire(import.meta.url)
  .resolve("trackstar-mcp/package.json")
  .replace(/package\.json$/, "dist/main.js")

const heading = (text: string) => process.stdout.write(`\n== ${text}\n`)
const line = (text = "") => process.stdout.write(`${text}\n`)

const showState = (emulator: Emulator) => {
  for (const c of emulator.connections()) {
    line(
      `  ${c.name.padEnd(16)} id=${c.id}  customer_id=${JSON.stringify(c.customer_id)}  webhooks_disabled=${c.webhooks_disabled}`
    )
  }
}

const showResult = (result: CallToolResult) => {
  for (const part of result.content)
    if (part.type === "text") line(`  ${result.isError ? "error" : "text"}: ${part.text}`)
  if (result.structuredContent !== undefined)
    line(`  structuredContent: ${JSON.stringify(result.structuredContent)}`)
}

const main = async () => {
  const emulator = await start()
  const token = emulator.connections()[0]?.accessToken
  if (token === undefined) throw new Error("the emulator has no demo connection")
  line(`Trackstar emulator listening on ${emulator.url} (loopback only, demo credentials)`)

  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [serverEntry],
    env: {
      PATH: process.env.PATH ?? "",
      TRACKSTAR_BASE_URL: emulator.url,
      TRACKSTAR_API_KEY: emulator.apiKey,
      TRACKSTAR_ACCESS_TOKEN: token
    },
    stderr: "pipe"
  })
  let serverLog = ""
  transport.stderr?.on("data", (chunk: Buffer) => {
    serverLog += chunk.toString()
  })
  const client = new Client({ name: "trackstar-demo", version: "0.1.0" })
  const failures: Array<string> = []
  try {
    await client.connect(transport)
    line(`Spawned ${serverEntry} over stdio; server ${JSON.stringify(client.getServerVersion())}`)
    line(
      'It reaches the emulator through TRACKSTAR_BASE_URL, so results say target "custom" and name that URL (started with --emulator instead, they would say "emulator").'
    )

    heading("tools/list")
    const { tools } = await client.listTools()
    for (const tool of tools) {
      line(`  ${tool.name}: ${tool.title ?? ""}`)
      line(`    arguments: ${Object.keys(tool.inputSchema.properties ?? {}).join(", ")}`)
      line(`    annotations: ${JSON.stringify(tool.annotations)}`)
    }

    heading("emulator state before")
    showState(emulator)

    const call = async (title: string, args: Record<string, unknown>, expectError: boolean) => {
      heading(`tools/call update_connection ${JSON.stringify(args)}  (${title})`)
      const before = emulator.requests().length
      const result = CallResult(
        await client.callTool({ name: "update_connection", arguments: args })
      )
      showResult(result)
      const sent = emulator.requests().length - before
      line(`  requests that reached the emulator: ${sent}`)
      if ((result.isError ?? false) !== expectError)
        failures.push(`${title}: unexpected ${result.isError ? "error" : "success"}`)
    }
    await call("set a customer id", { customer_id: "acme-42" }, false)
    await call("disable webhooks", { webhooks_disabled: true }, false)
    await call(
      "a bad argument: a string where a boolean belongs",
      { webhooks_disabled: "yes" },
      true
    )

    heading("emulator state after")
    showState(emulator)
  } finally {
    await client.close()
    await emulator.stop()
  }
  if (failures.length > 0) {
    process.stderr.write(
      `\nThe demo did not go as expected:\n  ${failures.join("\n  ")}\nServer log:\n${serverLog}`
    )
    process.exitCode = 1
  } else line("\nDemo complete: two updates applied, one bad argument refused before sending.")
}

/** Narrows the SDK's call result (which also admits the legacy `toolResult` form). */
const CallResult = (value: Awaited<ReturnType<Client["callTool"]>>): CallToolResult => {
  if (!("content" in value) || !Array.isArray(value.content))
    throw new Error("the server answered in the legacy toolResult form")
  return { ...value, content: value.content }
}

main().catch((error: unknown) => {
  process.stderr.write(`demo failed: ${error instanceof Error ? error.message : String(error)}\n`)
  process.exitCode = 1
})
