/**
 * The `update_connection` tool: schema, annotations, description, handler.
 */
import { type Errors, Schemas, type TrackstarClient } from "@trackstar-mcp/core"
import { Effect, Either, Schema } from "effect"
import { type Target, Trackstar } from "../Config.js"
import { defineTool, Progress, ToolFailure, type ToolSuccess } from "../Tool.js"

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

const compatibleCustomerId = Schema.optionalWith(Schema.String, { exact: true }).annotations({
  description:
    "Your own identifier for the end customer behind this connection, stored on the connection. Omit to leave it unchanged; use clear_customer_id to clear it."
})

/** The tool's arguments, whichever schema variant advertised them. */
interface Args {
  readonly customer_id?: string | null
  readonly clear_customer_id?: boolean
  readonly webhooks_disabled?: boolean
  readonly connection?: string
  readonly dry_run?: boolean
}

/** The arguments schemas: the API's own shape, and the variant without `anyOf`. */
const argsSchemas = (options: UpdateConnectionToolOptions) => {
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

const description = (
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

/** The changes in words; `would` for a dry run, where nothing happened yet. */
const describeChanges = (body: Schemas.UpdateConnectionRequest, would = false): string => {
  const verb = (done: string, pending: string) => (would ? pending : done)
  const parts: Array<string> = []
  if (body.customer_id === null) parts.push(verb("customer_id cleared", "would clear customer_id"))
  else if (body.customer_id !== undefined) {
    const value = JSON.stringify(body.customer_id)
    parts.push(verb(`customer_id set to ${value}`, `would set customer_id to ${value}`))
  }
  if (body.webhooks_disabled === true) {
    parts.push(
      `${verb("webhooks disabled", "would disable webhooks")}: Trackstar stops sending create/update webhooks (such as order.created) for this connection; connection webhooks (such as connection.deleted) still arrive`
    )
  } else if (body.webhooks_disabled === false) {
    parts.push(
      `${verb("webhooks enabled", "would enable webhooks")}: create/update webhooks resume`
    )
  }
  return parts.join("; ")
}

const ADVICE: Readonly<Record<Errors.TrackstarError["_tag"], string>> = {
  InvalidRequest: "Fix the arguments and call again.",
  Unauthorized:
    "Retrying will not help: the user must correct the credentials (TRACKSTAR_API_KEY and the connection's access token) in this MCP server's configuration.",
  NotFound: "Retrying will not help; check that the connection still exists in Trackstar.",
  ValidationFailed: "Fix the listed fields and call again.",
  RateLimited: "Wait the advised time, then call again.",
  ServerError:
    "Transient failures are retried automatically and this one persisted; try again in a few minutes.",
  NotImplemented: "Retrying will not help for this integration.",
  TransportError:
    "Transient failures are retried automatically and this one persisted; try again once the network or the base URL is fixed.",
  Timeout: "Calling again with the same arguments is safe.",
  UnexpectedResponse: "Retrying is unlikely to help; report the request id to Trackstar support."
}

/** What a waiting client is told before a retry, e.g. "Attempt 1 failed (HTTP 503); retrying in 0.3 s." */
const retryMessage = (
  attempt: number,
  error: Errors.TrackstarError,
  delayMillis: number
): string => {
  const why = "status" in error ? `HTTP ${error.status}` : error._tag
  return `Attempt ${attempt} failed (${why}); retrying in ${(delayMillis / 1000).toFixed(1)} s.`
}

/** The assistant-facing text of a Trackstar failure: what happened, then what to do. */
export const renderFailure = (error: Errors.TrackstarError): string =>
  `${error.message} ${ADVICE[error._tag]}`

const fail = (message: string) => Effect.fail(new ToolFailure({ message }))

/** The PATCH body the arguments ask for, or why they ask for nothing sendable. */
const bodyOf = (args: Args): Either.Either<Schemas.UpdateConnectionRequest, string> => {
  if (args.clear_customer_id === true && args.customer_id !== undefined) {
    return Either.left("Pass either customer_id or clear_customer_id: true, not both.")
  }
  const customerId = args.clear_customer_id === true ? null : args.customer_id
  const body = {
    ...(customerId === undefined ? {} : { customer_id: customerId }),
    ...(args.webhooks_disabled === undefined ? {} : { webhooks_disabled: args.webhooks_disabled })
  }
  return Object.keys(body).length === 0
    ? Either.left(
        "Nothing to update: pass customer_id (a string to set it, or null to clear it) and/or webhooks_disabled (true or false)."
      )
    : Either.right(body)
}

/** Picks the connection a call addresses, with a message that lists the choices when it cannot. */
const connectionFor = (
  setup: Context,
  name: string | undefined
): Either.Either<Context["connections"][number], string> => {
  const chosen = name ?? setup.defaultConnection
  if (setup.connections.length === 0) {
    return Either.left(
      "No access token is configured: set TRACKSTAR_ACCESS_TOKEN (or TRACKSTAR_ACCESS_TOKEN_<NAME> for named connections) in this MCP server's environment, then restart it."
    )
  }
  const found = setup.connections.find((c) => c.name === chosen)
  return found === undefined
    ? Either.left(
        `Name the connection to update with \`connection\`: one of ${setup.connections.map((c) => c.name).join(", ")}.`
      )
    : Either.right(found)
}

type Context = typeof Trackstar.Service

/** What a reader must know about where the request went, when it was not Trackstar's production API. */
const whereNote = (target: Target, origin: string): string | undefined =>
  target === "emulator"
    ? "This ran against the local Trackstar emulator; no real Trackstar connection was changed."
    : target === "custom"
      ? `This was sent to ${origin} (TRACKSTAR_BASE_URL), not to Trackstar's production API.`
      : undefined

const summary = (
  connection: string,
  body: Schemas.UpdateConnectionRequest,
  result: TrackstarClient.UpdateConnectionResult,
  note: string | undefined
) => {
  const head = result.updated
    ? `Updated connection "${connection}" (${result.id}): ${describeChanges(body)}.`
    : `Trackstar answered that connection "${connection}" (${result.id}) was not updated; it may already have had these values (${describeChanges(body)}).`
  return [
    head,
    result.requestId === undefined ? undefined : `Request id: ${result.requestId}.`,
    note
  ]
    .filter((line) => line !== undefined)
    .join(" ")
}

const toolFailure = (error: Errors.TrackstarError) =>
  new ToolFailure({ message: renderFailure(error) })

/** A dry run: the exact request, described, and nothing sent. */
const preview = (
  client: TrackstarClient.TrackstarClientService,
  connection: Context["connections"][number],
  target: Target,
  body: Schemas.UpdateConnectionRequest
) =>
  Effect.mapError(
    client.prepareUpdate(body, { accessToken: connection.accessToken }),
    toolFailure
  ).pipe(
    Effect.map((request) => {
      const note = whereNote(target, client.baseUrl.origin)
      return {
        structured: { dry_run: true, connection: connection.name, target, request },
        text: `Dry run: nothing was sent. For connection "${connection.name}" this would send ${request.method} ${request.url} with body ${JSON.stringify(
          body
        )} and headers ${Object.keys(request.headers).join(", ")} (secret values redacted): ${describeChanges(body, true)}.${
          note === undefined
            ? ""
            : ` ${note.replace(/^This was sent to/, "It would go to").replace(/^This ran against/, "It would run against")}`
        }`
      }
    })
  )

/** A real update, reporting retries to the client as progress. */
const update = (
  client: TrackstarClient.TrackstarClientService,
  connection: Context["connections"][number],
  target: Target,
  body: Schemas.UpdateConnectionRequest
) =>
  Effect.flatMap(Progress, (progress) =>
    client.updateConnection(body, {
      accessToken: connection.accessToken,
      onRetry: ({ attempt, error, delayMillis }) =>
        progress.report(retryMessage(attempt, error, delayMillis))
    })
  ).pipe(
    Effect.mapError(toolFailure),
    Effect.map((result) => ({
      structured: {
        dry_run: false,
        connection: connection.name,
        target,
        connection_id: result.id,
        updated: result.updated,
        ...(result.requestId === undefined ? {} : { request_id: result.requestId }),
        attempts: result.attempts
      },
      text: summary(connection.name, body, result, whereNote(target, client.baseUrl.origin))
    }))
  )

type Output = Schema.Schema.Type<ReturnType<typeof outputSchema>>

/** Runs one call: decoded arguments in, structured result or failure out. */
const run = (args: Args): Effect.Effect<ToolSuccess<Output>, ToolFailure, Trackstar | Progress> =>
  Effect.flatMap(Trackstar, (setup): Effect.Effect<ToolSuccess<Output>, ToolFailure, Progress> => {
    const body = bodyOf(args)
    if (Either.isLeft(body)) return fail(body.left)
    if (Either.isLeft(setup.client)) return fail(setup.client.left)
    const connection = connectionFor(setup, args.connection)
    if (Either.isLeft(connection)) return fail(connection.left)
    return (args.dry_run === true ? preview : update)(
      setup.client.right,
      connection.right,
      setup.target,
      body.right
    )
  })

/** The `update_connection` tool for a configuration. */
export const makeUpdateConnection = (options: UpdateConnectionToolOptions) => {
  const common = {
    name: "update_connection",
    title: "Update Trackstar connection",
    description: description(options),
    annotations: {
      readOnlyHint: false,
      destructiveHint: true,
      idempotentHint: true,
      openWorldHint: true
    },
    output: outputSchema(options.compatibleSchema),
    run
  }
  const schemas = argsSchemas(options)
  return options.compatibleSchema
    ? defineTool({ ...common, input: schemas.compatible })
    : defineTool({ ...common, input: schemas.standard })
}
