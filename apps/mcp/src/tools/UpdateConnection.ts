/**
 * The `update_connection` tool: schema, annotations, description, handler.
 */
import { type Errors, Schemas } from "@trackstar-mcp/core"
import { Effect, Either, Schema } from "effect"
import { Trackstar } from "../Config.js"
import { defineTool, ToolFailure } from "../Tool.js"

/** The tool's arguments: exactly the PATCH /connections body. */
export const UpdateConnectionArgs = Schema.Struct(Schemas.UpdateConnectionRequest.fields)

/** The structured result of a successful call. */
export const UpdateConnectionOutput = Schema.Struct({
  connection_id: Schema.String.annotations({
    description: "Trackstar's id of the connection that was updated."
  }),
  updated: Schema.Boolean.annotations({
    description: "Whether Trackstar reports that the connection was updated."
  }),
  request_id: Schema.optionalWith(Schema.String, { exact: true }).annotations({
    description: "Trackstar's X-Request-Id for this update; quote it to Trackstar support."
  }),
  sent: Schema.Struct(Schemas.UpdateConnectionRequest.fields).annotations({
    description: "The fields that were sent to Trackstar."
  }),
  target: Schema.Literal("trackstar", "emulator").annotations({
    description:
      '"emulator" when the server runs against the local Trackstar emulator (no real connection changed).'
  }),
  attempts: Schema.Number.annotations({
    description: "Requests it took; more than 1 when a transient failure was retried."
  })
})

const DESCRIPTION = `Update a Trackstar connection: set or clear its customer_id, or turn its webhooks off or on.

A connection is one end customer's integrated warehouse (WMS), cart or carrier system in Trackstar; the access token configured for this server selects which one. Only the fields you pass change; omit a field to leave it as it is.

- customer_id: your own identifier for the end customer, stored on the connection. A string sets it; null clears it.
- webhooks_disabled: true stops Trackstar sending create and update webhooks for this connection's objects (for example order.created, inventory updates), so downstream systems stop hearing about changes until it is set back to false. Connection-level webhooks (for example connection.deleted) are still sent. false resumes the object webhooks.

Repeating the same update is safe: the result is the same. The result gives the connection id, whether Trackstar updated it, and Trackstar's request id (quote it to Trackstar support). Failures come back as errors that say what was wrong and whether retrying can help.`

const describeChanges = (sent: Schemas.UpdateConnectionRequest): string => {
  const parts: Array<string> = []
  if (sent.customer_id === null) parts.push("customer_id cleared")
  else if (sent.customer_id !== undefined)
    parts.push(`customer_id set to ${JSON.stringify(sent.customer_id)}`)
  if (sent.webhooks_disabled === true) {
    parts.push(
      "webhooks disabled: Trackstar stops sending create/update webhooks (such as order.created) for this connection; connection webhooks (such as connection.deleted) still arrive"
    )
  } else if (sent.webhooks_disabled === false)
    parts.push("webhooks enabled: create/update webhooks resume")
  return parts.length === 0 ? "no fields were given" : parts.join("; ")
}

const ADVICE: Readonly<Record<Errors.TrackstarError["_tag"], string>> = {
  InvalidRequest: "Fix the arguments and call again.",
  Unauthorized:
    "Retrying will not help: the user must correct the credentials (TRACKSTAR_API_KEY, TRACKSTAR_ACCESS_TOKEN) in this MCP server's configuration.",
  NotFound: "Retrying will not help; check that the connection still exists in Trackstar.",
  ValidationFailed: "Fix the listed fields and call again.",
  RateLimited: "Wait the advised time, then call again.",
  ServerError: "Retries were exhausted; try again in a few minutes.",
  NotImplemented: "Retrying will not help for this integration.",
  TransportError:
    "Retries were exhausted; check the network or TRACKSTAR_BASE_URL, then try again.",
  Timeout: "Calling again with the same arguments is safe.",
  UnexpectedResponse: "Retrying is unlikely to help; report the request id to Trackstar support."
}

/** The assistant-facing text of a Trackstar failure: what happened, then what to do. */
export const renderFailure = (error: Errors.TrackstarError): string =>
  `${error.message} ${ADVICE[error._tag]}`

/** The `update_connection` tool. */
export const updateConnection = defineTool({
  name: "update_connection",
  title: "Update Trackstar connection",
  description: DESCRIPTION,
  annotations: {
    readOnlyHint: false,
    destructiveHint: true,
    idempotentHint: true,
    openWorldHint: true
  },
  input: UpdateConnectionArgs,
  output: UpdateConnectionOutput,
  run: (args) =>
    Effect.gen(function* () {
      const { target, client } = yield* Trackstar
      if (Either.isLeft(client)) return yield* new ToolFailure({ message: client.left })
      const result = yield* client.right
        .updateConnection(args)
        .pipe(Effect.mapError((error) => new ToolFailure({ message: renderFailure(error) })))
      const emulated = target === "emulator"
      const head = result.updated
        ? `Updated connection ${result.id}: ${describeChanges(args)}.`
        : `Trackstar answered that connection ${result.id} was not updated; it may already have had these values (${describeChanges(args)}).`
      const text = [
        emulated ? `[emulator] ${head}` : head,
        result.requestId === undefined ? undefined : `Request id: ${result.requestId}.`,
        emulated
          ? "This ran against the local Trackstar emulator; no real Trackstar connection was changed."
          : undefined
      ]
        .filter((line) => line !== undefined)
        .join(" ")
      return {
        text,
        structured: {
          connection_id: result.id,
          updated: result.updated,
          ...(result.requestId === undefined ? {} : { request_id: result.requestId }),
          sent: args,
          target,
          attempts: result.attempts
        }
      }
    })
})
