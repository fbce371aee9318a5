/**
 * The tool registry served as an MCP server: `tools/list` returns each tool's
 * definition, `tools/call` runs the tool's effect in the server's runtime with
 * the request's abort signal, so a cancelled call interrupts its effect.
 */
import { Server } from "@modelcontextprotocol/sdk/server/index.js"
import {
  CallToolRequestSchema,
  ErrorCode,
  ListToolsRequestSchema,
  McpError
} from "@modelcontextprotocol/sdk/types.js"
import type { ManagedRuntime } from "effect"
import type { Tool } from "./Tool.js"
import { VERSION } from "./version.js"

const INSTRUCTIONS =
  "Manages Trackstar connections (a customer's connected WMS, cart or carrier system). Use update_connection to set or clear a connection's customer_id or to turn its webhooks off or on."

/** Creates an MCP server for the given tools, running their effects in `runtime`. */
export const makeServer = <R>(
  tools: ReadonlyArray<Tool<R>>,
  runtime: ManagedRuntime.ManagedRuntime<R, unknown>
): Server => {
  const byName = new Map(tools.map((tool) => [tool.definition.name, tool]))
  const server = new Server(
    { name: "trackstar-mcp", title: "Trackstar connections", version: VERSION },
    { capabilities: { tools: { listChanged: false } }, instructions: INSTRUCTIONS }
  )
  server.setRequestHandler(ListToolsRequestSchema, () => ({
    tools: tools.map((tool) => tool.definition)
  }))
  server.setRequestHandler(CallToolRequestSchema, (request, extra) => {
    const tool = byName.get(request.params.name)
    if (tool === undefined) {
      throw new McpError(
        ErrorCode.InvalidParams,
        `Unknown tool "${request.params.name}"; this server has: ${[...byName.keys()].join(", ")}`
      )
    }
    return runtime.runPromise(tool.call(request.params.arguments ?? {}), { signal: extra.signal })
  })
  return server
}
