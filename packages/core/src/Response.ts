/**
 * Turns one HTTP answer into a decoded success or a typed failure. The status
 * picks the failure; the body only enriches it, because error bodies are not
 * always JSON (proxies answer with HTML, some answers are empty).
 */
import { Effect, Either, Option, Schema } from "effect"
import {
  NotFound,
  NotImplemented,
  RateLimited,
  ServerError,
  type TrackstarError,
  Unauthorized,
  UnexpectedResponse,
  ValidationFailed
} from "./Errors.js"
import {
  ErrorBody,
  type FieldError,
  Origin,
  UpdateConnectionResponse,
  ValidationErrorBody
} from "./Schemas.js"

/** A 200 answer, decoded, with the request id Trackstar gave it. */
export interface DecodedSuccess {
  readonly body: UpdateConnectionResponse
  readonly requestId: string | undefined
  /** `x-ratelimit-reset`: when the rate-limit window this request was counted in ends, epoch seconds. */
  readonly windowReset: number | undefined
}

const EXCERPT_LENGTH = 200

/** A text with every credential value cut out: servers echo headers back more often than one hopes. */
export const scrub = (text: string, secrets: ReadonlyArray<string>): string => {
  let clean = text
  for (const secret of secrets)
    if (secret.length > 0 && clean.includes(secret)) clean = clean.split(secret).join("[redacted]")
  return clean
}

/** The start of a body, with every credential value cut out. */
export const excerptOf = (text: string, secrets: ReadonlyArray<string>): string => {
  const clean = scrub(text, secrets)
  return clean.length > EXCERPT_LENGTH ? `${clean.slice(0, EXCERPT_LENGTH)}…` : clean
}

const parseJson = (text: string): Option.Option<unknown> => {
  try {
    return Option.some(JSON.parse(text))
  } catch {
    return Option.none()
  }
}

const number = (value: string | undefined): number | undefined => {
  if (value === undefined || value.trim() === "") return undefined
  const n = Number(value)
  return Number.isFinite(n) ? n : undefined
}

/**
 * `x-ratelimit-reset` as the epoch second it should be, or undefined: some APIs
 * send the seconds left instead, which must not pass for a time in 1970.
 */
const epochSeconds = (value: string | undefined): number | undefined => {
  const n = number(value)
  return n !== undefined && n >= 1e9 && n < 1e11 ? n : undefined
}

/** Longest wait read from `x-ratelimit-reset`, whose windows last one second. */
const RESET_WAIT_CAP_MILLIS = 2_000

/** `retry-after` in milliseconds: delta seconds or an HTTP date. */
export const retryAfterMillis = (value: string | undefined, now: number): number | undefined => {
  const seconds = number(value)
  if (seconds !== undefined) return Math.max(0, seconds * 1000)
  if (value === undefined) return undefined
  const date = Date.parse(value)
  return Number.isNaN(date) ? undefined : Math.max(0, date - now)
}

const decodeErrorBody = Schema.decodeUnknownOption(ErrorBody)
const decodeValidationBody = Schema.decodeUnknownOption(ValidationErrorBody)
const decodeSuccessBody = Schema.decodeUnknownEither(UpdateConnectionResponse)
const isOrigin = Schema.is(Origin)

const fieldsOf = (
  detail: ValidationErrorBody["detail"],
  secrets: ReadonlyArray<string>
): Array<FieldError> =>
  Object.entries(detail ?? {}).flatMap(([location, fields]) =>
    Object.entries(fields).map(([field, messages]) => ({
      location: scrub(location, secrets),
      field: scrub(field, secrets),
      messages: messages.map((m) => scrub(m, secrets))
    }))
  )

/** Decodes one answer of PATCH /connections by its status. */
export const decodeAnswer = (
  status: number,
  headers: Readonly<Record<string, string | undefined>>,
  text: string,
  now: number,
  secrets: ReadonlyArray<string>
): Either.Either<DecodedSuccess, TrackstarError> => {
  const rawRequestId = headers["x-request-id"]
  const requestId = rawRequestId === undefined ? undefined : scrub(rawRequestId, secrets)
  const json = parseJson(text)
  // A success needs none of what describes a failure: build that only when it is used.
  if (status === 200 && Option.isSome(json)) {
    const body = decodeSuccessBody(json.value)
    if (Either.isRight(body))
      return Either.right({
        body: body.right,
        requestId,
        windowReset: epochSeconds(headers["x-ratelimit-reset"])
      })
  }
  const errorBody = Option.flatMap(json, decodeErrorBody)
  const origin = Option.flatMap(errorBody, (b) =>
    isOrigin(b.origin) ? Option.some(b.origin) : Option.none()
  )
  const facts = {
    status,
    ...(requestId === undefined ? {} : { requestId }),
    ...Option.match(origin, { onNone: () => ({}), onSome: (o) => ({ origin: o }) }),
    ...Option.match(errorBody, {
      onNone: () => ({}),
      onSome: (b) => ({ detail: excerptOf(b.error, secrets) })
    })
  }
  const excerpt = excerptOf(text, secrets)
  const unexpected = (problem: string) =>
    Either.left(new UnexpectedResponse({ ...facts, problem, excerpt }))

  if (status === 200) {
    if (Option.isNone(json))
      return unexpected(
        text === "" ? "HTTP 200 with an empty body" : "HTTP 200 with a body that is not JSON"
      )
    return unexpected("HTTP 200 with a body that is not {id, object, updated}")
  }
  if (status === 401 || status === 403) return Either.left(new Unauthorized(facts))
  if (status === 404) {
    const id = Option.flatMap(errorBody, (b) => Option.fromNullable(b.id)).pipe(
      Option.map((v) => scrub(v, secrets))
    )
    return Either.left(
      new NotFound({
        ...facts,
        ...Option.match(id, { onNone: () => ({}), onSome: (v) => ({ id: v }) })
      })
    )
  }
  if (status === 422) {
    const body = Option.flatMap(json, decodeValidationBody)
    return Either.left(
      new ValidationFailed({
        ...facts,
        fields: Option.match(body, { onNone: () => [], onSome: (b) => fieldsOf(b.detail, secrets) })
      })
    )
  }
  if (status === 429) {
    // Seconds left in place of an epoch second would read as a time in 1970: then no reset.
    const reset = epochSeconds(headers["x-ratelimit-reset"])
    const wait =
      retryAfterMillis(headers["retry-after"], now) ??
      // Windows are one second long: a reset further off only means our clock and theirs differ.
      (reset === undefined
        ? undefined
        : Math.min(RESET_WAIT_CAP_MILLIS, Math.max(0, reset * 1000 - now)))
    const limit = number(headers["x-ratelimit-limit"])
    const remaining = number(headers["x-ratelimit-remaining"])
    return Either.left(
      new RateLimited({
        ...facts,
        ...(wait === undefined ? {} : { retryAfterMillis: wait }),
        ...(limit === undefined ? {} : { limit }),
        ...(remaining === undefined ? {} : { remaining }),
        ...(reset === undefined ? {} : { resetEpochSeconds: reset })
      })
    )
  }
  if (status === 501) return Either.left(new NotImplemented(facts))
  if (status >= 500 && status <= 599) {
    const wait = retryAfterMillis(headers["retry-after"], now)
    return Either.left(
      new ServerError({
        ...facts,
        ...(Option.isSome(errorBody) ? {} : { excerpt }),
        ...(wait === undefined ? {} : { retryAfterMillis: wait })
      })
    )
  }
  return unexpected(`HTTP ${status} is not an answer PATCH /connections is documented to give`)
}

/** Reads the whole body (so the socket is freed) and decodes the answer. */
export const readAnswer = <E>(
  response: {
    readonly status: number
    readonly headers: Readonly<Record<string, string | undefined>>
    readonly text: Effect.Effect<string, E>
  },
  now: number,
  secrets: ReadonlyArray<string>
): Effect.Effect<DecodedSuccess, TrackstarError | E> =>
  Effect.flatMap(response.text, (text) =>
    decodeAnswer(response.status, response.headers, text, now, secrets)
  )
