/**
 * The Trackstar client service: `updateConnection` over an `HttpClient`,
 * with input decoding, per-token pacing, attempt timeouts, retries, a
 * deadline, spans and typed failures.
 */
import { Headers, HttpClient, type HttpClientError, HttpClientRequest } from "@effect/platform"
import {
  Clock,
  type Config,
  type ConfigError,
  Context,
  Duration,
  Effect,
  Either,
  Layer,
  Option,
  Redacted
} from "effect"
import {
  type ResolvedOptions,
  resolveOptions,
  type TrackstarClientOptions,
  TrackstarConfig
} from "./Config.js"
import { InvalidRequest, Timeout, type TrackstarError, TransportError } from "./Errors.js"
import { decoder } from "./Input.js"
import { makePacer } from "./Pacing.js"
import { readAnswer } from "./Response.js"
import { retrySchedule } from "./Retry.js"
import { UpdateConnectionRequest } from "./Schemas.js"

/** Header names that carry secrets; registered so HTTP spans record them redacted. */
export const SECRET_HEADERS = ["x-trackstar-api-key", "x-trackstar-access-token"] as const

/** Per-call options of `updateConnection`. */
export interface UpdateConnectionOptions {
  /** The connection's access token; defaults to the client's configured one. */
  readonly accessToken?: Redacted.Redacted<string> | undefined
}

/** A successful update: Trackstar's answer plus what support needs to trace it. */
export interface UpdateConnectionResult {
  /** The id of the connection the access token belongs to. */
  readonly id: string
  /** The kind of object updated, `"connection"`. */
  readonly object: string
  /** Whether Trackstar reports that the connection was updated. */
  readonly updated: boolean
  /** Trackstar's `X-Request-Id` of the answer. */
  readonly requestId: string | undefined
  /** How many requests it took, 1 when nothing was retried. */
  readonly attempts: number
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
  /** Updates many connections at bounded concurrency (default 10), one outcome per item. */
  readonly updateConnections: (
    items: Iterable<BulkItem>,
    options?: { readonly concurrency?: number }
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

/** Walks a platform error's causes for a Node/undici error code such as `ECONNREFUSED`. */
const networkCode = (cause: unknown): string | undefined => {
  for (let c = cause, depth = 0; typeof c === "object" && c !== null && depth < 5; depth++) {
    if ("code" in c && typeof c.code === "string") return c.code
    c = "cause" in c ? c.cause : undefined
  }
  return undefined
}

const DESCRIPTIONS: Readonly<Record<string, string>> = {
  ECONNREFUSED: "connection refused",
  ECONNRESET: "connection reset",
  UND_ERR_SOCKET: "connection closed by the server before it answered",
  ENOTFOUND: "host name not found (DNS)",
  EAI_AGAIN: "DNS lookup failed temporarily",
  ETIMEDOUT: "connection timed out",
  EHOSTUNREACH: "host unreachable"
}

const transportReason = (error: HttpClientError.HttpClientError): string => {
  const code = networkCode(error.cause)
  const what =
    code === undefined ? "network error" : `${DESCRIPTIONS[code] ?? "network error"} (${code})`
  return error._tag === "ResponseError" ? `${what} while reading the answer` : what
}

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
    const origin = settings.baseUrl.origin
    const pacer = makePacer(settings.writesPerSecond)
    const schedule = retrySchedule(settings)
    const attemptMillis = Duration.toMillis(settings.attemptTimeout)
    const deadlineMillis = Duration.toMillis(settings.deadline)

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
          onSome: (token) => Either.right({ body, token })
        })
      )

    const attempt = (
      body: UpdateConnectionRequest,
      token: Redacted.Redacted<string>,
      number: number
    ) => {
      const secrets = [Redacted.value(settings.apiKey), Redacted.value(token)]
      const request = HttpClientRequest.patch(endpoint).pipe(
        HttpClientRequest.acceptJson,
        HttpClientRequest.setHeader(SECRET_HEADERS[0], secrets[0] ?? ""),
        HttpClientRequest.setHeader(SECRET_HEADERS[1], secrets[1] ?? ""),
        HttpClientRequest.bodyUnsafeJson(body)
      )
      return http.execute(request).pipe(
        Effect.flatMap((response) =>
          Effect.flatMap(Clock.currentTimeMillis, (now) =>
            readAnswer(response, now, secrets).pipe(
              Effect.tapBoth({
                onFailure: (e) =>
                  annotateOutcome(response.status, response.headers["x-request-id"], e._tag),
                onSuccess: () =>
                  annotateOutcome(response.status, response.headers["x-request-id"], "success")
              })
            )
          )
        ),
        Effect.catchTags({
          RequestError: (e) =>
            Effect.fail(new TransportError({ baseUrl: origin, reason: transportReason(e) })),
          ResponseError: (e) =>
            Effect.fail(new TransportError({ baseUrl: origin, reason: transportReason(e) }))
        }),
        Effect.timeoutFail({
          duration: settings.attemptTimeout,
          onTimeout: () => new Timeout({ scope: "attempt", millis: attemptMillis })
        }),
        Effect.withSpan("TrackstarClient.attempt", { attributes: { "trackstar.attempt": number } })
      )
    }

    const send = (body: UpdateConnectionRequest, token: Redacted.Redacted<string>) =>
      Effect.suspend(() => {
        let attempts = 0
        const once = Effect.suspend(() => {
          attempts += 1
          return Effect.zipRight(
            pacer.acquire(Redacted.value(token)),
            attempt(body, token, attempts)
          )
        })
        return once.pipe(
          Effect.tapError((e) =>
            Effect.logDebug("Trackstar attempt failed").pipe(
              Effect.annotateLogs({ "trackstar.attempt": attempts, "trackstar.error": e._tag })
            )
          ),
          Effect.retry(schedule),
          Effect.timeoutFail({
            duration: settings.deadline,
            onTimeout: () => new Timeout({ scope: "deadline", millis: deadlineMillis })
          }),
          Effect.map(({ body, requestId }) => ({ ...body, requestId, attempts })),
          Effect.tap((r) =>
            Effect.annotateCurrentSpan({
              "trackstar.attempts": r.attempts,
              "trackstar.connection_id": r.id
            })
          )
        )
      })

    const updateConnection = (input: UpdateConnectionRequest, options?: UpdateConnectionOptions) =>
      Effect.flatMap(prepare(input, options), ({ body, token }) => send(body, token)).pipe(
        Effect.locallyWith(Headers.currentRedactedNames, (names) => [...names, ...SECRET_HEADERS]),
        Effect.withSpan("TrackstarClient.updateConnection", {
          kind: "client",
          attributes: { "http.request.method": "PATCH", "url.path": endpoint.pathname }
        })
      )

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
      options?: { readonly concurrency?: number }
    ) =>
      Effect.forEach(
        items,
        (item, index) =>
          Effect.map(
            Effect.either(updateConnection(item.body, { accessToken: item.accessToken })),
            (result) => ({
              index,
              result
            })
          ),
        { concurrency: options?.concurrency ?? 10 }
      )

    return TrackstarClient.of({
      baseUrl: settings.baseUrl,
      updateConnection,
      prepareUpdate,
      updateConnections
    })
  })

const annotateOutcome = (status: number, requestId: string | undefined, outcome: string) =>
  Effect.annotateCurrentSpan({
    "http.response.status_code": status,
    "trackstar.request_id": requestId ?? "",
    "trackstar.outcome": outcome
  })

/** A layer from explicit options. */
export const layer = (
  options: TrackstarClientOptions
): Layer.Layer<TrackstarClient, ConfigError.ConfigError, HttpClient.HttpClient> =>
  Layer.effect(TrackstarClient, make(options))

/** A layer reading its options from a `Config`, by default the `TRACKSTAR_*` environment variables. */
export const layerConfig = (
  config: Config.Config<TrackstarClientOptions> = TrackstarConfig
): Layer.Layer<TrackstarClient, ConfigError.ConfigError, HttpClient.HttpClient> =>
  Layer.effect(TrackstarClient, Effect.flatMap(config, make))

/** Accessor: `updateConnection` through the service in context. */
export const updateConnection = (
  body: UpdateConnectionRequest,
  options?: UpdateConnectionOptions
): Effect.Effect<UpdateConnectionResult, TrackstarError, TrackstarClient> =>
  Effect.flatMap(TrackstarClient, (client) => client.updateConnection(body, options))
