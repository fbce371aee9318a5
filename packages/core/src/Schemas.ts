/**
 * Wire shapes of PATCH /connections, snake_case as Trackstar sends them.
 * These schemas are the single source of truth: the TypeScript types, the
 * MCP tool's JSON Schema and every decode are derived from them.
 */
import { Schema } from "effect"

/** The caller's own identifier for its end customer; `null` clears it. */
export const CustomerId = Schema.NullOr(Schema.String).annotations({
  message: () => ({ message: "must be a string, or null to clear it", override: true })
})

/** Whether Trackstar's object webhooks are switched off for the connection. */
export const WebhooksDisabled = Schema.Boolean.annotations({
  message: () => "must be true or false (a JSON boolean, not a string)"
})

/** Body of PATCH /connections: both keys optional, no other key allowed. */
export const UpdateConnectionRequest = Schema.Struct({
  customer_id: Schema.optionalWith(CustomerId, { exact: true }).annotations({
    description:
      "Your own identifier for the end customer behind this connection, stored on the connection. " +
      "Send a string to set it, or null to clear it. Omit to leave it unchanged."
  }),
  webhooks_disabled: Schema.optionalWith(WebhooksDisabled, { exact: true }).annotations({
    description:
      "true stops Trackstar sending create and update webhooks for this connection's objects " +
      "(for example order.created); connection-level webhooks such as connection.deleted are still sent. " +
      "false resumes them. Omit to leave it unchanged."
  })
}).annotations({
  identifier: "UpdateConnectionRequest",
  title: "UpdateConnectionRequest",
  description: "Fields to change on the connection that the access token belongs to."
})

/** The decoded request body. */
export type UpdateConnectionRequest = typeof UpdateConnectionRequest.Type

/** Body of a 200 answer to PATCH /connections. */
export const UpdateConnectionResponse = Schema.Struct({
  id: Schema.String.annotations({ description: "The id of the updated connection." }),
  object: Schema.String.annotations({ description: 'The type of the object, "connection".' }),
  updated: Schema.Boolean.annotations({ description: "Whether the connection was updated." })
}).annotations({ identifier: "UpdateConnectionResponse" })

/** The decoded 200 body. */
export type UpdateConnectionResponse = typeof UpdateConnectionResponse.Type

/** Who produced an error: Trackstar itself, or the customer's underlying system. */
export const Origin = Schema.Literal("trackstar", "integration")

/** The `origin` value of an error body. */
export type Origin = typeof Origin.Type

/**
 * Trackstar's generic error body. `origin` is optional (older responses omit
 * it) and an unknown value is dropped rather than failing the whole decode.
 */
export const ErrorBody = Schema.Struct({
  error: Schema.String,
  origin: Schema.optionalWith(Schema.Unknown, { exact: true }),
  id: Schema.optionalWith(Schema.String, { exact: true })
})

/** The decoded generic error body. */
export type ErrorBody = typeof ErrorBody.Type

/** A 422 body: `detail` maps a location (`json`, `headers`) to field -> messages. */
export const ValidationErrorBody = Schema.Struct({
  ...ErrorBody.fields,
  detail: Schema.optionalWith(
    Schema.Record({
      key: Schema.String,
      value: Schema.Record({ key: Schema.String, value: Schema.Array(Schema.String) })
    }),
    { exact: true }
  )
})

/** The decoded 422 body. */
export type ValidationErrorBody = typeof ValidationErrorBody.Type

/** One field problem Trackstar reported in a 422 answer. */
export const FieldError = Schema.Struct({
  location: Schema.String,
  field: Schema.String,
  messages: Schema.Array(Schema.String)
})

/** A decoded field problem. */
export type FieldError = typeof FieldError.Type

/** One problem found in the caller's input before anything was sent. */
export const InputIssue = Schema.Struct({
  path: Schema.String,
  message: Schema.String
})

/** A decoded input problem. */
export type InputIssue = typeof InputIssue.Type
