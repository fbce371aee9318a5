/** Spawns the built server over stdio with the SDK's real client, recording all it writes. */
import { fileURLToPath } from "node:url"
import { Client } from "@modelcontextprotocol/sdk/client/index.js"
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js"
import {
  type CallToolResult,
  CallToolResultSchema,
  type JSONRPCMessage
} from "@modelcontextprotocol/sdk/types.js"

/** The built entry point, as a user runs it. */
export const MAIN = fileURLToPath(new URL("../dist/main.js", import.meta.url))

/** Secrets no output may contain. */
export const API_KEY = "sk_live_MCPKEY_9f86d081884c7d659a2feaa0c55ad015"
export const TOKEN = "tok_MCP_CONNECTION_60303ae22b998861bce3b28f33eec1be"

/** A connected client plus everything the server wrote. */
export interface Session {
  readonly client: Client
  readonly transport: StdioClientTransport
  /** Every JSON-RPC message the server sent, serialised. */
  readonly received: Array<string>
  /** Everything the server wrote to stderr. */
  readonly stderr: () => string
  /** Transport errors, e.g. a stdout line that is not JSON-RPC. */
  readonly transportErrors: Array<Error>
  readonly call: (args: Record<string, unknown>) => Promise<CallToolResult>
}

/** Spawns `node dist/main.js` with exactly the given environment (plus PATH). */
export const connect = async (
  env: Record<string, string>,
  args: Array<string> = []
): Promise<Session> => {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [MAIN, ...args],
    env: { PATH: process.env.PATH ?? "", ...env },
    stderr: "pipe"
  })
  let stderr = ""
  transport.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString()
  })
  const received: Array<string> = []
  const transportErrors: Array<Error> = []
  // Record what the server sends before the client handles it (the client sets onmessage on connect).
  let onmessage: StdioClientTransport["onmessage"]
  Object.defineProperty(transport, "onmessage", {
    configurable: true,
    get: () => onmessage,
    set: (fn: StdioClientTransport["onmessage"]) => {
      onmessage =
        fn &&
        ((message: JSONRPCMessage) => {
          received.push(JSON.stringify(message))
          fn(message)
        })
    }
  })
  const client = new Client({ name: "e2e", version: "0.0.0" })
  client.onerror = (error) => transportErrors.push(error)
  await client.connect(transport)
  // callTool also checks structuredContent against the advertised output schema, as clients do.
  const call = async (args: Record<string, unknown>): Promise<CallToolResult> =>
    CallToolResultSchema.parse(
      await client.callTool({ name: "update_connection", arguments: args })
    )
  return { client, transport, received, stderr: () => stderr, transportErrors, call }
}
