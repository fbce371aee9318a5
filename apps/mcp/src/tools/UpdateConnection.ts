/**
 * The `update_connection` tool: its handler (arguments to request, result or
 * failure to text) and its definition; what it advertises is in
 * UpdateConnectionSchemas.ts.
 */
import type { Errors, Schemas, TrackstarClient } from "@trackstar-mcp/core"
import { Effect, Either, type Schema } from "effect"
import { type Target, Trackstar } from "../Config.js"
import { defineTool, Progress, ToolFailure, type ToolSuccess } from "../Tool.js"
import {
  type Args,
  argsSchemas,
  description,
  outputSchema,
  type UpdateConnectionToolOptions
} from "./UpdateConnectionSchemas.js"

export type { UpdateConnectionToolOptions } from "./UpdateConnectionSchemas.js"

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

/** A failure of a call on `connection`; a refused credential says where its token is set. */
const callFailure =
  (connection: Context["connections"][number]) => (error: Errors.TrackstarError) =>
    error._tag === "Unauthorized" && connection.source !== "emulator"
      ? new ToolFailure({
          message: `${renderFailure(error)} The access token of connection "${connection.name}" is set by ${connection.source}.`
        })
      : toolFailure(error)

/** One call, resolved: the client, the connection it addresses, where it goes, what it sets. */
interface Call {
  readonly client: TrackstarClient.TrackstarClientService
  readonly connection: Context["connections"][number]
  readonly target: Target
  readonly body: Schemas.UpdateConnectionRequest
}

/** A dry run: the exact request, described, and nothing sent. */
const preview = ({ client, connection, target, body }: Call) =>
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
const update = ({ client, connection, target, body }: Call) =>
  Effect.flatMap(Progress, (progress) =>
    client.updateConnection(body, {
      accessToken: connection.accessToken,
      onRetry: ({ attempt, error, delayMillis }) =>
        progress.report(retryMessage(attempt, error, delayMillis))
    })
  ).pipe(
    Effect.mapError(callFailure(connection)),
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
    return (args.dry_run === true ? preview : update)({
      client: setup.client.right,
      connection: connection.right,
      target: setup.target,
      body: body.right
    })
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
