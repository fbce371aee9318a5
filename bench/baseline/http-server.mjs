// The baseline over Streamable HTTP: the same smallest server as server.mjs (low-level Server,
// one tool, one fetch) behind the SDK's StreamableHTTPServerTransport, one session per client,
// on 127.0.0.1 and a free port. It measures what the SDK's HTTP transport costs by itself.
import { randomUUID } from "node:crypto"
import { createServer } from "node:http"
import { Server } from "@modelcontextprotocol/sdk/server/index.js"
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js"
import {
  CallToolRequestSchema,
  isInitializeRequest,
  ListToolsRequestSchema
} from "@modelcontextprotocol/sdk/types.js"

const makeServer = () => {
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
  return server
}

const sessions = new Map()
const http = createServer(async (req, res) => {
  const chunks = []
  for await (const chunk of req) chunks.push(chunk)
  const body = chunks.length > 0 ? JSON.parse(Buffer.concat(chunks).toString("utf8")) : undefined
  let transport = sessions.get(req.headers["mcp-session-id"])
  if (transport === undefined) {
    if (!isInitializeRequest(body)) return void res.writeHead(400).end()
    const created = new StreamableHTTPServerTransport({
      sessionIdGenerator: randomUUID,
      onsessioninitialized: (id) => sessions.set(id, created)
    })
    created.onclose = () => sessions.delete(created.sessionId)
    await makeServer().connect(created)
    transport = created
  }
  await transport.handleRequest(req, res, body)
})
http.listen(0, "127.0.0.1", () => {
  process.stderr.write(`listening on http://127.0.0.1:${http.address().port}/mcp\n`)
})
process.on("SIGTERM", () => {
  http.closeAllConnections()
  http.close(() => process.exit(0))
})
