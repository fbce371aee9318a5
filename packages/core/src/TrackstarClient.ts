/**
 * The Trackstar client service: `updateConnection` over an `HttpClient`,
 * with input decoding, per-token pacing, attempt timeouts, retries, a
 * deadline, spans and typed failures.
 */
import { HttpClient } from "@effect/platform"
import {
  type Config,
  type ConfigError,
  Context,
  Effect,
  Either,
  Layer,
  Option,
  Redacted
} from "effect"
import {
  HEADER_UNSAFE,
  isHeaderSafe,
  type ResolvedOptions,
  resolveOptions,
  type TrackstarClientOptions,
  TrackstarConfig
} from "./Config.js"
import { InvalidRequest, type TrackstarError } from "./Errors.js"
import { makeExchange, type RetryEvent, type UpdateConnectionResult } from "./Exchange.js"
import { decoder } from "./Input.js"
import { makePacer } from "./Pacing.js"
import { UpdateConnectionRequest } from "./Schemas.js"
import {
  CALL_SPAN,
  failureAttributes,
  isTracing,
  redactSecretHeaders,
  requestAttributes,
  SECRET_HEADERS,
  successAttributes
} from "./Telemetry.js"

export type { RetryEvent, UpdateConnectionResult } from "./Exchange.js"
/** Header names that carry secrets; registered so HTTP spans record them redacted. */
export { SECRET_HEADERS } from "./Telemetry.js"

/** Per-call options of `updateConnection`. */
export interface UpdateConnectionOptions {
  /** The connection's access token; defaults to the client's configured one. */
  readonly accessToken?: Redacted.Redacted<string> | undefined
  /** Runs before each retry's wait, e.g. to report progress to a waiting user. */
  readonly onRetry?: ((event: RetryEvent) => Effect.Effect<void>) | undefined
}

/** The request `updateConnection` would send, with secret header values redacted. */
export interface PreparedRequest {
  readonly method: "PATCH"
  readonly url: string
  readonly headers: Readonly<Record<string, string>>
  readonly body: UpdateConnectionRequest
}

/** One item of a bulk update. */
export interface BulkItem {
  readonly accessToken: Redacted.Redacted<string>
  readonly body: UpdateConnectionRequest
}

/** The outcome of one bulk item, in input order; nothing is dropped when others fail. */
export interface BulkOutcome {
  readonly index: number
  readonly result: Either.Either<UpdateConnectionResult, TrackstarError>
}

/** What the service offers. */
export interface TrackstarClientService {
  /** Where requests go. */
  readonly baseUrl: URL
  /**
   * Sends PATCH /connections for one connection. The body is decoded first
   * (every problem reported, unknown keys refused); transient failures are
   * retried (see `Retry.ts`); interrupting the effect aborts the request.
   */
  readonly updateConnection: (
    body: UpdateConnectionRequest,
    options?: UpdateConnectionOptions
  ) => Effect.Effect<UpdateConnectionResult, TrackstarError>
  /** Decodes the input and describes the request without sending anything. */
  readonly prepareUpdate: (
    body: UpdateConnectionRequest,
    options?: UpdateConnectionOptions
  ) => Effect.Effect<PreparedRequest, InvalidRequest>
  /**
   * Updates many connections at bounded concurrency (default 10), returning
   * one outcome per item in input order: a failure never hides the others.
   * Writes are still paced per access token, so a high concurrency is safe.
   */
  readonly updateConnections: (
    items: Iterable<BulkItem>,
    options?: { readonly concurrency?: number | "unbounded" }
  ) => Effect.Effect<ReadonlyArray<BulkOutcome>>
}

/** The Trackstar client service tag. */
export class TrackstarClient extends Context.Tag("@trackstar-mcp/core/TrackstarClient")<
  TrackstarClient,
  TrackstarClientService
>() {}

/** Decodes caller input into the request body, reporting every problem at once. */
export const decodeUpdate: (
  input: unknown
) => Either.Either<UpdateConnectionRequest, InvalidRequest> = decoder(UpdateConnectionRequest)

/** Builds the service from options; fails with a `ConfigError` naming a bad setting. */
export const make = (
  options: TrackstarClientOptions
): Effect.Effect<TrackstarClientService, ConfigError.ConfigError, HttpClient.HttpClient> =>
  Effect.gen(function* () {
    const settings: ResolvedOptions = yield* resolveOptions(options)
    const http = yield* HttpClient.HttpClient
    const endpoint = new URL(
      "connections",
      settings.baseUrl.href.endsWith("/") ? settings.baseUrl : `${settings.baseUrl.href}/`
    )
    const pacer = makePacer(settings.writesPerSecond)

    const tokenFor = (options: UpdateConnectionOptions | undefined) =>
      Option.orElse(Option.fromNullable(options?.accessToken), () => settings.accessToken)

    const noToken = new InvalidRequest({
      issues: [
        {
          path: "",
          message:
            "no access token: pass `accessToken` in the call options or set TRACKSTAR_ACCESS_TOKEN"
        }
      ]
    })

    const prepare = (input: unknown, options: UpdateConnectionOptions | undefined) =>
      Either.flatMap(decodeUpdate(input), (body) =>
        Option.match(tokenFor(options), {
          onNone: () => Either.left(noToken),
          onSome: (token) =>
            isHeaderSafe(Redacted.value(token))
              ? Either.right({ body, token })
              : Either.left(
                  new InvalidRequest({
                    issues: [
                      {
                        path: "accessToken",
                        message: Redacted.value(token) === "" ? "is empty" : HEADER_UNSAFE
                      }
                    ]
                  })
                )
        })
      )

    const { send } = makeExchange({ settings, http, endpoint, pacer })

    const updateConnection = (input: UpdateConnectionRequest, options?: UpdateConnectionOptions) =>
      Effect.flatMap(isTracing, (traced) => {
        const call = Either.match(prepare(input, options), {
          onLeft: (invalid): Effect.Effect<UpdateConnectionResult, TrackstarError> =>
            Effect.fail(invalid),
          onRight: ({ body, token }) => send(body, token, options?.onRetry, traced)
        })
        if (!traced) return call
        return call.pipe(
          Effect.tapBoth({
            onFailure: (e) => Effect.annotateCurrentSpan(failureAttributes(e)),
            onSuccess: (r) =>
              Effect.annotateCurrentSpan({
                ...successAttributes(r.requestId),
                "trackstar.connection_id": r.id
              })
          }),
          // No stack capture: it costs ~10% of a loopback call, and the span names say where.
          Effect.withSpan(CALL_SPAN, {
            captureStackTrace: false,
            attributes: requestAttributes(endpoint)
          })
        )
      })

    const prepareUpdate = (input: UpdateConnectionRequest, options?: UpdateConnectionOptions) =>
      Either.map(prepare(input, options), ({ body }) => ({
        method: "PATCH" as const,
        url: endpoint.href,
        headers: {
          accept: "application/json",
          "content-type": "application/json",
          [SECRET_HEADERS[0]]: "<redacted>",
          [SECRET_HEADERS[1]]: "<redacted>"
        },
        body
      }))

    const updateConnections = (
      items: Iterable<BulkItem>,
      options?: { readonly concurrency?: number | "unbounded" }
    ) => {
      const all = Array.from(items)
      return Effect.forEach(
        all,
        (item, index) =>
          Effect.map(
            Effect.either(updateConnection(item.body, { accessToken: item.accessToken })),
            (result) => ({ index, result })
          ),
        { concurrency: options?.concurrency ?? 10 }
      ).pipe(
        Effect.withSpan("TrackstarClient.updateConnections", {
          captureStackTrace: false,
          attributes: { "trackstar.items": all.length }
        })
      )
    }

    return TrackstarClient.of({
      baseUrl: settings.baseUrl,
      updateConnection,
      prepareUpdate,
      updateConnections
    })
  })

/** A layer from explicit options. */
export const layer = (
  options: TrackstarClientOptions
): Layer.Layer<TrackstarClient, ConfigError.ConfigError, HttpClient.HttpClient> =>
  Layer.merge(Layer.effect(TrackstarClient, make(options)), redactSecretHeaders)

/** A layer reading its options from a `Config`, by default the `TRACKSTAR_*` environment variables. */
export const layerConfig = (
  config: Config.Config<TrackstarClientOptions> = TrackstarConfig
): Layer.Layer<TrackstarClient, ConfigError.ConfigError, HttpClient.HttpClient> =>
  Layer.merge(Layer.effect(TrackstarClient, Effect.flatMap(config, make)), redactSecretHeaders)

/** Accessor: `updateConnection` through the service in context. */
export const updateConnection = (
  body: UpdateConnectionRequest,
  options?: UpdateConnectionOptions
): Effect.Effect<UpdateConnectionResult, TrackstarError, TrackstarClient> =>
  Effect.flatMap(TrackstarClient, (client) => client.updateConnection(body, options))
