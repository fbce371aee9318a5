/**
 * What `update_connection` advertises: its arguments (two variants, with and
 * without `anyOf`), its structured result, and the description an assistant
 * reads. All derived from the core's schemas.
 */
import { Schemas } from "@trackstar-mcp/core"
import { Schema } from "effect"

/** How the tool is shaped for this server's configuration. */
export interface UpdateConnectionToolOptions {
  /** Configured connection names: the allowed values of `connection`. */
  readonly connections: ReadonlyArray<string>
  readonly defaultConnection: string | undefined
  /** No `anyOf` in the input schema, for clients that refuse it: `clear_customer_id` replaces `customer_id: null`. */
  readonly compatibleSchema: boolean
}

const dryRunField = Schema.optionalWith(Schema.Boolean, { exact: true }).annotations({
  description:
    "true: send nothing; return exactly the request that would be sent (method, URL, body, header names with secret values redacted)."
})

const connectionField = (names: ReadonlyArray<string>, defaultConnection: string | undefined) => {
  const [first, ...rest] = names
  const description =
    names.length === 0
      ? "No connections are configured yet (TRACKSTAR_ACCESS_TOKEN is not set); a call explains what to set."
      : `Which configured connection to update: ${names.map((n) => JSON.stringify(n)).join(", ")}. ${
          defaultConnection === undefined
            ? "Required: there is no default."
            : `Default: "${defaultConnection}".`
        }`
  const literal: Schema.Schema<string> =
    first === undefined
      ? Schema.String.pipe(
          Schema.filter(() => false, {
            message: () => "cannot be used: no connections are configured"
          })
        )
      : Schema.Literal(first, ...rest).annotations({
          message: () => ({
            message: `must be one of the configured connections: ${names.join(", ")}`,
            override: true
          })
        })
  return Schema.optionalWith(literal, { exact: true }).annotations({ description })
}

const clearCustomerId = Schema.optionalWith(Schema.Boolean, { exact: true }).annotations({
  description: "true clears the stored customer_id. Do not combine with customer_id."
})

const compatibleCustomerId = Schema.optionalWith(
  Schema.String.annotations({
    message: () => ({
      message: "must be a string; to clear customer_id, pass clear_customer_id: true instead",
      override: true
    })
  }),
  { exact: true }
).annotations({
  description:
    "Your own identifier for the end customer behind this connection, stored on the connection. Omit to leave it unchanged; use clear_customer_id to clear it."
})

/** The tool's arguments, whichever schema variant advertised them. */
export interface Args {
  readonly customer_id?: string | null
  readonly clear_customer_id?: boolean
  readonly webhooks_disabled?: boolean
  readonly connection?: string
  readonly dry_run?: boolean
}

/** The arguments schemas: the API's own shape, and the variant without `anyOf`. */
export const argsSchemas = (options: UpdateConnectionToolOptions) => {
  const { customer_id, webhooks_disabled } = Schemas.UpdateConnectionRequest.fields
  const connection = connectionField(options.connections, options.defaultConnection)
  return {
    standard: Schema.Struct({ customer_id, webhooks_disabled, connection, dry_run: dryRunField }),
    compatible: Schema.Struct({
      customer_id: compatibleCustomerId,
      clear_customer_id: clearCustomerId,
      webhooks_disabled,
      connection,
      dry_run: dryRunField
    })
  }
}

/** The structured result: what was (or would be) sent, and Trackstar's answer when it was sent. */
export const outputSchema = (compatibleSchema: boolean) => {
  const body = Schema.Struct(Schemas.UpdateConnectionRequest.fields)
  // Same values either way; for clients that refuse anyOf, the body's JSON Schema names no field types.
  const bodySchema = compatibleSchema
    ? body.annotations({
        jsonSchema: {
          type: "object",
          description:
            "The JSON body: customer_id (a string, or null when cleared) and/or webhooks_disabled (a boolean)."
        }
      })
    : body.annotations({ description: "The JSON body." })
  return Schema.Struct({
    dry_run: Schema.Boolean.annotations({ description: "true when nothing was sent." }),
    connection: Schema.String.annotations({
      description: "The configured connection name that was used."
    }),
    target: Schema.Literal("trackstar", "emulator", "custom").annotations({
      description:
        '"trackstar": Trackstar\'s production API; "emulator": the in-process emulator (no real connection changes); "custom": the base URL set in TRACKSTAR_BASE_URL, not Trackstar\'s production API.'
    }),
    request: Schema.optionalWith(
      Schema.Struct({
        method: Schema.Literal("PATCH").annotations({ description: "The HTTP method." }),
        url: Schema.String.annotations({ description: "The full URL of the request." }),
        headers: Schema.Record({ key: Schema.String, value: Schema.String }).annotations({
          description: "Header names and values; secret values are shown as <redacted>."
        }),
        body: bodySchema
      }),
      { exact: true }
    ).annotations({
      description: "On a dry run only: the request that would be sent."
    }),
    connection_id: Schema.optionalWith(Schema.String, { exact: true }).annotations({
      description: "Trackstar's id of the updated connection (absent on a dry run)."
    }),
    updated: Schema.optionalWith(Schema.Boolean, { exact: true }).annotations({
      description:
        "Whether Trackstar reports that the connection was updated (absent on a dry run)."
    }),
    request_id: Schema.optionalWith(Schema.String, { exact: true }).annotations({
      description: "Trackstar's X-Request-Id for this update; quote it to Trackstar support."
    }),
    attempts: Schema.optionalWith(Schema.Number, { exact: true }).annotations({
      description: "Requests it took; more than 1 when a transient failure was retried."
    })
  })
}

export const description = (
  options: UpdateConnectionToolOptions
) => `Update a Trackstar connection: set or clear its customer_id, or turn its webhooks off or on.

A connection is one end customer's integrated warehouse (WMS), cart or carrier system in Trackstar. ${
  options.connections.length > 1
    ? "Choose it with `connection`; the allowed names are listed in the schema."
    : options.connections.length === 1
      ? "This server is configured for one connection, used by default."
      : "No connection is configured yet; a call explains what to set."
} Only the fields you pass change; omit a field to leave it as it is. At least one of customer_id${
  options.compatibleSchema ? ", clear_customer_id" : ""
} or webhooks_disabled is required.

- customer_id: your own identifier for the end customer, stored on the connection. ${
  options.compatibleSchema
    ? "To clear it, pass clear_customer_id: true."
    : "A string sets it; null clears it."
}
- webhooks_disabled: true stops Trackstar sending create and update webhooks for this connection's objects (for example order.created, inventory updates), so downstream systems stop hearing about changes until it is set back to false. Connection-level webhooks (for example connection.deleted) are still sent. false resumes the object webhooks.
- dry_run: true returns the exact request without sending it; use it to confirm with the user first.

Repeating the same update is safe: the result is the same. The result gives the connection id, whether Trackstar updated it, and Trackstar's request id (quote it to Trackstar support). Failures come back as errors that say what was wrong and whether retrying can help.`
