// The smallest useful MCP server written with the same SDK: the low-level Server,
// one tool, one fetch. The baseline our server's cold start, memory and per-call
// overhead are measured against.
import { Server } from "@modelcontextprotocol/sdk/server/index.js"
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js"
import { CallToolRequestSchema, ListToolsRequestSchema } from "@modelcontextprotocol/sdk/types.js"

const server = new Server({ name: "baseline", version: "0.0.0" }, { capabilities: { tools: {} } })
server.setRequestHandler(ListToolsRequestSchema, () => ({
  tools: [
    {
      name: "update_connection",
      inputSchema: {
        type: "object",
        properties: {
          customer_id: { type: ["string", "null"] },
          webhooks_disabled: { type: "boolean" }
        },
        additionalProperties: false
      }
    }
  ]
}))
server.setRequestHandler(CallToolRequestSchema, async (request) => {
  const response = await fetch(`${process.env.TRACKSTAR_BASE_URL}/connections`, {
    method: "PATCH",
    headers: {
      "content-type": "application/json",
      "x-trackstar-api-key": process.env.TRACKSTAR_API_KEY ?? "",
      "x-trackstar-access-token": process.env.TRACKSTAR_ACCESS_TOKEN ?? ""
    },
    body: JSON.stringify(request.params.arguments ?? {})
  })
  const text = await response.text()
  return { content: [{ type: "text", text }], isError: !response.ok }
})
await server.connect(new StdioServerTransport())
