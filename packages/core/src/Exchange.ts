/**
 * One call's exchanges with Trackstar: each attempt (a paced request, its
 * answer decoded, within the attempt's time limit and the call's deadline)
 * and the retries between attempts (see Retry.ts for the policy).
 */
import {
  FetchHttpClient,
  type HttpClient,
  type HttpClientError,
  HttpClientRequest,
  type HttpClientResponse
} from "@effect/platform"
import { Cause, Duration, Effect, Exit, Option, Redacted } from "effect"
import type { ResolvedOptions } from "./Config.js"
import { Timeout, type TrackstarError, TransportError, UnexpectedResponse } from "./Errors.js"
import { BodyTooLarge } from "./NodeHttpClient.js"
import { type Counted, type Pacer, tokenKey } from "./Pacing.js"
import { type DecodedSuccess, readAnswer } from "./Response.js"
import { isTransient, jitter, retryDelay } from "./Retry.js"
import type { UpdateConnectionRequest } from "./Schemas.js"
import {
  ATTEMPT_SPAN,
  attemptAttributes,
  failureAttributes,
  LOG_ANNOTATIONS,
  SECRET_HEADERS,
  successAttributes,
  withoutPlatformSpan
} from "./Telemetry.js"
import { RequestTimedOut, timedSendOf } from "./TimedSend.js"
import { monotonicMillis } from "./Timers.js"
import { timeoutFail } from "./Timing.js"
import { transportReason } from "./Transport.js"

/** A retry about to happen: which attempt failed, how, and how long the wait is. */
export interface RetryEvent {
  readonly attempt: number
  readonly error: TrackstarError
  readonly delayMillis: number
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

/** What the exchanges need from the client. */
export interface ExchangeContext {
  readonly settings: ResolvedOptions
  readonly http: HttpClient.HttpClient
  readonly endpoint: URL
  readonly pacer: Pacer
}

/** What an attempt's answer said of the rate-limit window: a 200's reset, or a 429. */
const countedIn = (exit: Exit.Exit<DecodedSuccess, TrackstarError>): Counted | undefined => {
  if (Exit.isSuccess(exit))
    return exit.value.windowReset === undefined
      ? undefined
      : { resetEpochSeconds: exit.value.windowReset, refused: false }
  const error = Option.getOrUndefined(Cause.failureOption(exit.cause))
  return error?._tag === "RateLimited"
    ? { resetEpochSeconds: error.resetEpochSeconds, refused: true }
    : undefined
}

/** Makes `send`: paced attempts and retries until success, a final failure or the deadline. */
export const makeExchange = ({ settings, http, endpoint, pacer }: ExchangeContext) => {
  const origin = settings.baseUrl.origin
  const attemptMillis = Duration.toMillis(settings.attemptTimeout)
  const deadlineMillis = Duration.toMillis(settings.deadline)
  const timedSend = timedSendOf(http)
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
        ...LOG_ANNOTATIONS,
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
      const left = deadlineAt - monotonicMillis(clock)
      if (left <= 0)
        return Effect.tapError(Effect.fail(deadlineReached()), (e) => logFailure(e, number))
      const [limit, onTimeout] =
        left < attemptMillis
          ? [Math.max(0, left), deadlineReached]
          : [attemptMillis, attemptTimedOut]
      // A client with a timed send (NodeHttpClient) times the request itself and never
      // follows a redirect; over any other, a timer interrupts the request's fiber.
      const answer = (response: HttpClientResponse.HttpClientResponse) =>
        Effect.clockWith((clock) => readAnswer(response, clock.unsafeCurrentTimeMillis(), secrets))
      const exchange =
        timedSend === undefined
          ? timeoutFail(
              Effect.flatMap(
                noRedirects(
                  withoutPlatformSpan(Effect.annotateLogs(http.execute(request), LOG_ANNOTATIONS))
                ),
                answer
              ),
              limit,
              onTimeout
            )
          : Effect.flatMap(timedSend(request, limit), answer)
      const timed = exchange.pipe(
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
        }),
        Effect.tapError((e) => logFailure(e, number))
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
    onRetry: ((event: RetryEvent) => Effect.Effect<void>) | undefined,
    traced: boolean
  ): Effect.Effect<UpdateConnectionResult, TrackstarError> =>
    Effect.clockWith((clock) => {
      const deadline = {
        at: monotonicMillis(clock) + deadlineMillis,
        onDeadline: deadlineReached
      }
      const key = tokenKey(token)
      let attempts = 0
      const loop = (): Effect.Effect<UpdateConnectionResult, TrackstarError> => {
        attempts += 1
        const number = attempts
        const paced = pacer.pace(
          key,
          attempt(body, token, number, deadline.at, traced),
          deadline,
          countedIn
        )
        return paced.pipe(
          Effect.map(({ body, requestId }) => ({ ...body, requestId, attempts: number })),
          Effect.catchAll((error) =>
            Effect.flatMap(jitter, (factor) => {
              const now = monotonicMillis(clock)
              const delay = retryDelay(settings, number, error, now, deadline.at, factor)
              if (delay === undefined) return Effect.fail(error)
              const notify =
                onRetry === undefined
                  ? Effect.void
                  : timeoutFail(
                      Effect.annotateLogs(
                        onRetry({ attempt: number, error, delayMillis: delay }),
                        LOG_ANNOTATIONS
                      ),
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

  return { send }
}
