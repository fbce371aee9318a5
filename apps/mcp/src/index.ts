/** Building blocks of the trackstar-mcp server, for embedding it in another process. */
export * as Config from "./Config.js"
export { makeServer } from "./Server.js"
export { defineTool, type Tool, ToolFailure, type ToolSpec, toolJsonSchema } from "./Tool.js"
export { updateConnection } from "./tools/UpdateConnection.js"
export { VERSION } from "./version.js"
