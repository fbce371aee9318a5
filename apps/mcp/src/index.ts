/** Building blocks of the trackstar-mcp server, for embedding it in another process. */
export * as Config from "./Config.js"
export { type HttpEndpoint, type HttpOptions, serveHttp } from "./Http.js"
export { createServer, InFlight, type ServerContext } from "./Server.js"
export {
  defineTool,
  Progress,
  type Tool,
  ToolFailure,
  type ToolSpec,
  toolJsonSchema
} from "./Tool.js"
export { makeUpdateConnection, type UpdateConnectionToolOptions } from "./tools/UpdateConnection.js"
export { VERSION } from "./version.js"
