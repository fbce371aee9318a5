/**
 * @trackstar-mcp/core: an Effect client for Trackstar's PATCH /connections.
 *
 * @example
 * import { TrackstarClient } from "@trackstar-mcp/core"
 * const program = TrackstarClient.updateConnection({ webhooks_disabled: true })
 *
 * Services without Effect: `import { createTrackstarClient } from "@trackstar-mcp/core/promise"`.
 */
export * as Config from "./Config.js"
export * as Errors from "./Errors.js"
export * as Input from "./Input.js"
export * as NodeHttpClient from "./NodeHttpClient.js"
export * as Retry from "./Retry.js"
export * as Schemas from "./Schemas.js"
export * as Telemetry from "./Telemetry.js"
export * as TrackstarClient from "./TrackstarClient.js"
