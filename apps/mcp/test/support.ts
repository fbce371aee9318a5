/** Spawns the built server with the SDK's real client (stdio or Streamable HTTP), recording all it writes. */
import { spawn } from "node:child_process"
import { fileURLToPath } from "node:url"
import { Client } from "@modelcontextprotocol/sdk/client/index.js"
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js"
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js"
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js"
import {
  type CallToolResult,
  CallToolResultSchema,
  type JSONRPCMessage
} from "@modelcontextprotocol/sdk/types.js"

/** The built entry point, as a user runs it. */
export const MAIN = fileURLToPath(new URL("../dist/main.js", import.meta.url))

/** A raw `initialize` request, for tests that speak JSON-RPC without the SDK client. */
export const INITIALIZE = {
  jsonrpc: "2.0",
  id: 1,
  method: "initialize",
  params: {
    protocolVersion: "2025-06-18",
    capabilities: {},
    clientInfo: { name: "raw", version: "0" }
  }
} as const

/** Secrets no output may contain. */
export const API_KEY = "sk_live_MCPKEY_9f86d081884c7d659a2feaa0c55ad015"
export const TOKEN = "tok_MCP_CONNECTION_60303ae22b998861bce3b28f33eec1be"

/** A connected client plus everything the server wrote. */
export interface Session {
  readonly client: Client
  /** The server's process id. */
  readonly pid: number | undefined
  /** Every JSON-RPC message the server sent, serialised. */
  readonly received: Array<string>
  /** Everything the server wrote to stderr. */
  readonly stderr: () => string
  /** Transport errors, e.g. a stdout line that is not JSON-RPC. */
  readonly transportErrors: Array<Error>
  readonly call: (args: Record<string, unknown>) => Promise<CallToolResult>
  /** Closes the client and ends the server. */
  readonly close: () => Promise<void>
}

/** Which transport a test talks over. */
export type TransportKind = "stdio" | "http"

/** Records what the server sends before the client handles it (the client sets onmessage on connect). */
const record = (transport: Transport, received: Array<string>) => {
  let onmessage: Transport["onmessage"]
  Object.defineProperty(transport, "onmessage", {
    configurable: true,
    get: () => onmessage,
    set: (fn: Transport["onmessage"]) => {
      onmessage =
        fn &&
        ((message: JSONRPCMessage) => {
          received.push(JSON.stringify(message))
          fn(message)
        })
    }
  })
}

const session = async (
  transport: Transport,
  pid: number | undefined,
  stderr: () => string,
  end: () => Promise<void>
): Promise<Session> => {
  const received: Array<string> = []
  const transportErrors: Array<Error> = []
  record(transport, received)
  const client = new Client({ name: "e2e", version: "0.0.0" })
  client.onerror = (error) => transportErrors.push(error)
  await client.connect(transport)
  // callTool also checks structuredContent against the advertised output schema, as clients do.
  const call = async (args: Record<string, unknown>): Promise<CallToolResult> =>
    CallToolResultSchema.parse(
      await client.callTool({ name: "update_connection", arguments: args })
    )
  const close = async () => {
    await client.close()
    await end()
  }
  return { client, pid, received, stderr, transportErrors, call, close }
}

/** Spawns `node dist/main.js` over stdio with exactly the given environment (plus PATH). */
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
  const result = await session(
    transport,
    undefined,
    () => stderr,
    async () => {}
  )
  return { ...result, pid: transport.pid ?? undefined }
}

/** Spawns `node dist/main.js --http --port 0` and connects to the URL it logs. */
export const connectHttp = async (
  env: Record<string, string>,
  args: Array<string> = []
): Promise<Session> => {
  const child = spawn(process.execPath, [MAIN, "--http", "--port", "0", ...args], {
    env: { PATH: process.env.PATH ?? "", ...env },
    stdio: ["ignore", "pipe", "pipe"]
  })
  let output = ""
  const url = await new Promise<string>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString()
      const found = /listening on (\S+)/.exec(output)?.[1]
      if (found !== undefined) resolve(found)
    }
    child.stderr.on("data", onData)
    child.stdout.on("data", onData)
    child.once("exit", (code) => reject(new Error(`server exited (${code}): ${output}`)))
  })
  const ended = new Promise<void>((resolve) => child.once("exit", () => resolve()))
  const end = async () => {
    if (child.exitCode === null) child.kill("SIGTERM")
    await ended
  }
  return session(new StreamableHTTPClientTransport(new URL(url)), child.pid, () => output, end)
}

/** Connects over the given transport. */
export const connectOver = (
  kind: TransportKind,
  env: Record<string, string>,
  args: Array<string> = []
) => (kind === "stdio" ? connect(env, args) : connectHttp(env, args))
