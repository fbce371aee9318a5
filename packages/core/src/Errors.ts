/**
 * Every way an update can fail, one tagged class per thing a caller does
 * differently. None holds a secret: credentials never enter these values, and
 * body excerpts are scrubbed before they get here.
 */
import { Schema } from "effect"
import { FieldError, InputIssue, Origin } from "./Schemas.js"

/** What Trackstar told us about a failed response, shared by the HTTP errors. */
const ResponseFacts = {
  /** HTTP status of the answer. */
  status: Schema.Number,
  /** Trackstar's `X-Request-Id`: quote it to Trackstar support. */
  requestId: Schema.optionalWith(Schema.String, { exact: true }),
  /** Whether Trackstar or the customer's own system produced the error. */
  origin: Schema.optionalWith(Origin, { exact: true }),
  /** The `error` text of the body, when the body had one. */
  detail: Schema.optionalWith(Schema.String, { exact: true })
}

type Facts = {
  readonly status?: number
  readonly requestId?: string
  readonly origin?: Origin
  readonly detail?: string
}

/** Renders the facts every message ends with, e.g. `(HTTP 422, request id req_1)`. */
const facts = (self: Facts): string => {
  const parts: Array<string> = []
  if (self.status !== undefined) parts.push(`HTTP ${self.status}`)
  if (self.origin !== undefined) parts.push(`origin ${self.origin}`)
  if (self.requestId !== undefined) parts.push(`request id ${self.requestId}`)
  return parts.length === 0 ? "" : ` (${parts.join(", ")})`
}

const said = (self: Facts): string =>
  self.detail === undefined ? "" : ` Trackstar said: "${self.detail}".`

/** The caller's input does not match the request schema; nothing was sent. */
export class InvalidRequest extends Schema.TaggedError<InvalidRequest>()("InvalidRequest", {
  issues: Schema.Array(InputIssue)
}) {
  /** Every problem as one sentence, e.g. `customer_id must be a string, or null to clear it, got 5`. */
  get problems(): string {
    return this.issues.map((i) => (i.path === "" ? i.message : `${i.path} ${i.message}`)).join("; ")
  }

  override get message(): string {
    return `Invalid input; nothing was sent: ${this.problems}.`
  }
}

/** 401 or 403: the credentials are wrong, or may not do this. Never retried. */
export class Unauthorized extends Schema.TaggedError<Unauthorized>()(
  "Unauthorized",
  ResponseFacts
) {
  override get message(): string {
    const why =
      this.status === 403
        ? "Trackstar refused the update: this API key may not update connections (read-only key, or the endpoint is disabled for this connection)."
        : "Trackstar rejected the credentials: the API key or the access token is wrong, revoked or unknown. Check TRACKSTAR_API_KEY and the access token."
    return `${why}${said(this)}${facts(this)}`
  }
}

/** 404: Trackstar does not know the resource (for example a deleted connection). */
export class NotFound extends Schema.TaggedError<NotFound>()("NotFound", {
  ...ResponseFacts,
  /** The id Trackstar could not find, when it said. */
  id: Schema.optionalWith(Schema.String, { exact: true })
}) {
  override get message(): string {
    const what = this.id === undefined ? "the resource" : `"${this.id}"`
    return `Trackstar could not find ${what}; the connection may have been deleted.${said(this)}${facts(this)}`
  }
}

/** 422: Trackstar rejected the body; `fields` says which field and why. */
export class ValidationFailed extends Schema.TaggedError<ValidationFailed>()("ValidationFailed", {
  ...ResponseFacts,
  fields: Schema.Array(FieldError)
}) {
  override get message(): string {
    const list = this.fields.map((f) => `${f.location}.${f.field}: ${f.messages.join(" ")}`)
    const body = list.length === 0 ? (this.detail ?? "no field details given") : list.join("; ")
    return `Trackstar rejected the update as invalid: ${body}.${facts(this)}`
  }
}

/** 429: over Trackstar's per-token limit (50 writes/s). Retried after the advised wait. */
export class RateLimited extends Schema.TaggedError<RateLimited>()("RateLimited", {
  ...ResponseFacts,
  /** How long Trackstar asked us to wait, from `retry-after` or `x-ratelimit-reset`. */
  retryAfterMillis: Schema.optionalWith(Schema.Number, { exact: true }),
  /** `x-ratelimit-limit`: requests allowed per second. */
  limit: Schema.optionalWith(Schema.Number, { exact: true }),
  /** `x-ratelimit-remaining`: requests left in the current second. */
  remaining: Schema.optionalWith(Schema.Number, { exact: true }),
  /** `x-ratelimit-reset`: epoch seconds when the window resets. */
  resetEpochSeconds: Schema.optionalWith(Schema.Number, { exact: true })
}) {
  override get message(): string {
    const wait =
      this.retryAfterMillis === undefined
        ? ""
        : ` Trackstar asked to wait ${Math.ceil(this.retryAfterMillis / 1000)} s.`
    const limit =
      this.limit === undefined
        ? ""
        : ` The limit is ${this.limit} requests per second per access token.`
    return `Trackstar rate-limited this access token.${wait}${limit}${facts(this)}`
  }
}

/** 5xx other than 501: Trackstar or the integration failed. 500, 502, 503 and 504 are retried. */
export class ServerError extends Schema.TaggedError<ServerError>()("ServerError", {
  ...ResponseFacts,
  /** The start of the body, when it was not a Trackstar error body. */
  excerpt: Schema.optionalWith(Schema.String, { exact: true }),
  /** How long the server asked us to wait (`retry-after`, typically on a 503). */
  retryAfterMillis: Schema.optionalWith(Schema.Number, { exact: true })
}) {
  override get message(): string {
    const who = this.origin === "integration" ? "The connected system (integration)" : "Trackstar"
    return `${who} failed with a server error; the update may be retried later.${said(this)}${facts(this)}`
  }
}

/** 501: the endpoint is not implemented for this connection's integration. */
export class NotImplemented extends Schema.TaggedError<NotImplemented>()(
  "NotImplemented",
  ResponseFacts
) {
  override get message(): string {
    return `Trackstar does not support this operation for this connection's integration.${said(this)}${facts(this)}`
  }
}

/** The request never got an answer: refused, reset, DNS failure. Retried. */
export class TransportError extends Schema.TaggedError<TransportError>()("TransportError", {
  /** Where we tried to go (origin only; no path, no credentials). */
  baseUrl: Schema.String,
  /** What the network layer reported, e.g. `ECONNREFUSED`. */
  reason: Schema.String
}) {
  override get message(): string {
    return `Could not reach Trackstar at ${this.baseUrl}: ${this.reason}. Check TRACKSTAR_BASE_URL and the network; the update may not have been applied.`
  }
}

/** An attempt or the whole call ran out of time. Attempt timeouts are retried. */
export class Timeout extends Schema.TaggedError<Timeout>()("Timeout", {
  /** `attempt`: one request took too long; `deadline`: the call with all retries did. */
  scope: Schema.Literal("attempt", "deadline"),
  millis: Schema.Number
}) {
  override get message(): string {
    return this.scope === "attempt"
      ? `Trackstar did not answer within ${this.millis} ms; the update may or may not have been applied (repeating it is safe).`
      : `The update did not complete within its ${this.millis} ms deadline, retries included; repeating it is safe.`
  }
}

/** An answer the contract does not allow: unknown status, non-JSON or wrong-shaped body. */
export class UnexpectedResponse extends Schema.TaggedError<UnexpectedResponse>()(
  "UnexpectedResponse",
  {
    ...ResponseFacts,
    /** What was wrong with it. */
    problem: Schema.String,
    /** The start of the body as received (scrubbed of credentials). */
    excerpt: Schema.String
  }
) {
  override get message(): string {
    const body =
      this.excerpt === "" ? "an empty body" : `body starting ${JSON.stringify(this.excerpt)}`
    return `Trackstar sent an answer this client does not understand: ${this.problem}; ${body}.${facts(this)}`
  }
}

/** Schema of every failure of `updateConnection`, for encoding errors across boundaries. */
export const TrackstarError = Schema.Union(
  InvalidRequest,
  Unauthorized,
  NotFound,
  ValidationFailed,
  RateLimited,
  ServerError,
  NotImplemented,
  TransportError,
  Timeout,
  UnexpectedResponse
)

/** Every failure of `updateConnection`. */
export type TrackstarError = typeof TrackstarError.Type
