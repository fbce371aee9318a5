/**
 * The Trackstar client service: `updateConnection` over an `HttpClient`,
 * with input decoding, per-token pacing, attempt timeouts, retries, a
 * deadline, spans and typed failures.
 */
import {
  FetchHttpClient,
  HttpClient,
  type HttpClientError,
  HttpClientRequest
} from "@effect/platform"
import {
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
  HEADER_UNSAFE,
  isHeaderSafe,
  type ResolvedOptions,
  resolveOptions,
  type TrackstarClientOptions,
  TrackstarConfig
} from "./Config.js"
import {
  InvalidRequest,
  Timeout,
  type TrackstarError,
  TransportError,
  UnexpectedResponse
} from "./Errors.js"
import { decoder } from "./Input.js"
import { BodyTooLarge } from "./NodeHttpClient.js"
import { makePacer } from "./Pacing.js"
import { currentRequestTimeout, enforcesRequestTimeout, RequestTimedOut } from "./RequestTimeout.js"
import { readAnswer } from "./Response.js"
import { isTransient, jitter, retryDelay } from "./Retry.js"
import { UpdateConnectionRequest } from "./Schemas.js"
import {
  ATTEMPT_SPAN,
  attemptAttributes,
  CALL_SPAN,
  failureAttributes,
  isTracing,
  LOG_ANNOTATIONS,
  redactSecretHeaders,
  requestAttributes,
  SECRET_HEADERS,
  successAttributes,
  withoutPlatformSpan
} from "./Telemetry.js"
import { timeoutFail } from "./Timing.js"
import { transportReason } from "./Transport.js"

/** Header names that carry secrets; registered so HTTP spans record them redacted. */
export { SECRET_HEADERS } from "./Telemetry.js"

/** A retry about to happen: which attempt failed, how, and how long the wait is. */
export interface RetryEvent {
  readonly attempt: number
  readonly error: TrackstarError
  readonly delayMillis: number
}

/** Per-call options of `updateConnection`. */
export interface UpdateConnectionOptions {
  /** The connection's access token; defaults to the client's configured one. */
  readonly accessToken?: Redacted.Redacted<string> | undefined
  /** Runs before each retry's wait, e.g. to report progress to a waiting user. */
  readonly onRetry?: ((event: RetryEvent) => Effect.Effect<void>) | undefined
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
    const origin = settings.baseUrl.origin
    const pacer = makePacer(settings.writesPerSecond)
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

    const timesItself = enforcesRequestTimeout(http)
    const apiKey = Redacted.value(settings.apiKey)
    const baseRequest = HttpClientRequest.patch(endpoint).pipe(
      HttpClientRequest.acceptJson,
      HttpClientRequest.setHeader(SECRET_HEADERS[0], apiKey)
    )
    const transportError = (e: HttpClientError.HttpClientError) =>
      Effect.fail(new TransportError({ baseUrl: origin, reason: transportReason(e) }))
    const deadlineReached = () => new Timeout({ scope: "deadline", millis: deadlineMillis })
    const attemptTimedOut = () => new Timeout({ scope: "attempt", millis: attemptMillis })

    const logFailure = (error: TrackstarError, number: number) =>
      Effect.logDebug(`Trackstar attempt ${number} failed: ${error.message}`).pipe(
        Effect.annotateLogs({
          ...failureAttributes(error),
          "trackstar.attempt": number,
          "trackstar.retryable": isTransient(error) && number < settings.maxAttempts
        })
      )

    // Never follow a redirect: fetch would carry both credentials to wherever it points,
    // even from https to plain http. A 3xx is an answer the contract does not allow.
    // (The Node client in NodeHttpClient.ts never follows one.)
    const noRedirects = <A, E>(call: Effect.Effect<A, E>) =>
      Effect.flatMap(Effect.serviceOption(FetchHttpClient.RequestInit), (init) =>
        Effect.provideService(call, FetchHttpClient.RequestInit, {
          ...Option.getOrElse(init, () => ({})),
          redirect: "manual"
        })
      )

    /** One request and its answer, within the attempt timeout and what is left of the deadline. */
    const attempt = (
      body: UpdateConnectionRequest,
      token: Redacted.Redacted<string>,
      number: number,
      deadlineAt: number,
      traced: boolean
    ) =>
      Effect.clockWith((clock) => {
        const secrets = [apiKey, Redacted.value(token)]
        const request = baseRequest.pipe(
          HttpClientRequest.setHeader(SECRET_HEADERS[1], Redacted.value(token)),
          HttpClientRequest.bodyUnsafeJson(body)
        )
        // The deadline's limit when it is nearer than the attempt's; none left, nothing is sent.
        const left = deadlineAt - clock.unsafeCurrentTimeMillis()
        if (left <= 0)
          return Effect.tapError(Effect.fail(deadlineReached()), (e) => logFailure(e, number))
        const [limit, onTimeout] =
          left < attemptMillis
            ? [Math.max(0, left), deadlineReached]
            : [attemptMillis, attemptTimedOut]
        const exchange = noRedirects(withoutPlatformSpan(http.execute(request))).pipe(
          Effect.flatMap((response) =>
            Effect.clockWith((clock) =>
              readAnswer(response, clock.unsafeCurrentTimeMillis(), secrets)
            )
          ),
          Effect.catchTags({
            RequestError: (e) =>
              e.cause instanceof RequestTimedOut ? Effect.fail(onTimeout()) : transportError(e),
            ResponseError: (e) =>
              e.cause instanceof BodyTooLarge
                ? Effect.fail(
                    new UnexpectedResponse({
                      status: e.response.status,
                      problem: e.cause.message,
                      excerpt: ""
                    })
                  )
                : transportError(e)
          })
        )
        // Timing out aborts the request and closes its socket: the client does it itself when
        // it can, else the timer interrupts the request's fiber.
        const timed = Effect.tapError(
          timesItself
            ? Effect.locally(exchange, currentRequestTimeout, limit)
            : timeoutFail(exchange, limit, onTimeout),
          (e) => logFailure(e, number)
        )
        if (!traced) return timed
        return timed.pipe(
          Effect.tapBoth({
            onFailure: (e) => Effect.annotateCurrentSpan(failureAttributes(e)),
            onSuccess: (answer) => Effect.annotateCurrentSpan(successAttributes(answer.requestId))
          }),
          Effect.withSpan(ATTEMPT_SPAN, {
            kind: "client",
            captureStackTrace: false,
            attributes: attemptAttributes(endpoint, number)
          })
        )
      })

    /** Paced attempts and retries until success, a final failure or the deadline. */
    const send = (
      body: UpdateConnectionRequest,
      token: Redacted.Redacted<string>,
      onRetry: UpdateConnectionOptions["onRetry"],
      traced: boolean
    ): Effect.Effect<UpdateConnectionResult, TrackstarError> =>
      Effect.clockWith((clock) => {
        const deadline = {
          at: clock.unsafeCurrentTimeMillis() + deadlineMillis,
          onDeadline: deadlineReached
        }
        const key = Redacted.value(token)
        let attempts = 0
        const loop = (): Effect.Effect<UpdateConnectionResult, TrackstarError> => {
          attempts += 1
          const number = attempts
          return pacer.pace(key, attempt(body, token, number, deadline.at, traced), deadline).pipe(
            Effect.map(({ body, requestId }) => ({ ...body, requestId, attempts: number })),
            Effect.catchAll((error) =>
              Effect.flatMap(jitter, (factor) => {
                const now = clock.unsafeCurrentTimeMillis()
                const delay = retryDelay(settings, number, error, now, deadline.at, factor)
                if (delay === undefined) return Effect.fail(error)
                const notify =
                  onRetry === undefined
                    ? Effect.void
                    : timeoutFail(
                        onRetry({ attempt: number, error, delayMillis: delay }),
                        deadline.at - now - delay,
                        deadlineReached
                      )
                return Effect.zipRight(notify, Effect.zipRight(Effect.sleep(delay), loop()))
              })
            )
          )
        }
        const calls = Effect.suspend(loop)
        return traced
          ? Effect.ensuring(
              calls,
              Effect.suspend(() => Effect.annotateCurrentSpan("trackstar.attempts", attempts))
            )
          : calls
      })

    const updateConnection = (input: UpdateConnectionRequest, options?: UpdateConnectionOptions) =>
      Effect.flatMap(isTracing, (traced) => {
        const call = Effect.annotateLogs(
          Either.match(prepare(input, options), {
            onLeft: (invalid) => Effect.fail<TrackstarError>(invalid),
            onRight: ({ body, token }) => send(body, token, options?.onRetry, traced)
          }),
          LOG_ANNOTATIONS
        )
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
