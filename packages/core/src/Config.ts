/**
 * Client settings: credentials, where to send requests, and the time, retry
 * and pacing policy. `TrackstarConfig` reads them from the environment; a
 * service may also build `TrackstarClientOptions` by hand.
 */
import { Config, ConfigError, Duration, Either, Option, type Redacted } from "effect"

/** Trackstar's production API. */
export const DEFAULT_BASE_URL = "https://production.trackstarhq.com"

/** Settings a caller gives; every field but `apiKey` has a default. */
export interface TrackstarClientOptions {
  /** Organisation-level API key (`x-trackstar-api-key`). */
  readonly apiKey: Redacted.Redacted<string>
  /** Access token used when a call names none (`x-trackstar-access-token`). */
  readonly accessToken?: Redacted.Redacted<string> | undefined
  /** Defaults to production. Must be https unless the host is loopback (the emulator). */
  readonly baseUrl?: string | undefined
  /** Longest one request may take before it is abandoned and retried. Default 10 s. */
  readonly attemptTimeout?: Duration.DurationInput | undefined
  /** Longest a whole call may take, retries and waits included. Default 60 s. */
  readonly deadline?: Duration.DurationInput | undefined
  /** Attempts per call, the first included; 1 turns retries off. Default 5. */
  readonly maxAttempts?: number | undefined
  /** First backoff delay, doubled per retry with jitter. Default 250 ms. */
  readonly retryBaseDelay?: Duration.DurationInput | undefined
  /** Longest computed backoff delay (a server's `retry-after` may ask for more). Default 10 s. */
  readonly retryMaxDelay?: Duration.DurationInput | undefined
  /** Writes sent per access token per second; 0 turns pacing off. Default 50, Trackstar's limit. */
  readonly writesPerSecond?: number | undefined
}

/** Options with every default filled in and the base URL checked. */
export interface ResolvedOptions {
  readonly apiKey: Redacted.Redacted<string>
  readonly accessToken: Option.Option<Redacted.Redacted<string>>
  readonly baseUrl: URL
  readonly attemptTimeout: Duration.Duration
  readonly deadline: Duration.Duration
  readonly maxAttempts: number
  readonly retryBaseDelay: Duration.Duration
  readonly retryMaxDelay: Duration.Duration
  readonly writesPerSecond: number
}

const LOOPBACK = /^(localhost|127(?:\.\d{1,3}){3}|\[::1\])$/i

/**
 * Checks a base URL. The headers carry the API key and access token, so plain
 * http is refused unless the host is loopback (the local emulator).
 */
export const parseBaseUrl = (input: string): Either.Either<URL, string> => {
  let url: URL
  try {
    url = new URL(input)
  } catch {
    return Either.left(`"${input}" is not a URL; expected e.g. ${DEFAULT_BASE_URL}`)
  }
  if (url.protocol === "https:") return Either.right(url)
  if (url.protocol === "http:" && LOOPBACK.test(url.hostname)) return Either.right(url)
  return Either.left(
    `${url.origin} is not allowed: requests carry your API key and access token, so the base URL must use https (plain http only for a loopback host such as the local emulator)`
  )
}

/** Fills in defaults and validates; fails with a `ConfigError` naming the bad setting. */
export const resolveOptions = (
  options: TrackstarClientOptions
): Either.Either<ResolvedOptions, ConfigError.ConfigError> => {
  const bad = (path: string, message: string) =>
    Either.left(ConfigError.InvalidData([path], message))
  const baseUrl = parseBaseUrl(options.baseUrl ?? DEFAULT_BASE_URL)
  if (Either.isLeft(baseUrl)) return bad("TRACKSTAR_BASE_URL", baseUrl.left)
  const maxAttempts = options.maxAttempts ?? 5
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1) {
    return bad("TRACKSTAR_MAX_ATTEMPTS", `must be a whole number of at least 1, got ${maxAttempts}`)
  }
  const writesPerSecond = options.writesPerSecond ?? 50
  if (!Number.isFinite(writesPerSecond) || writesPerSecond < 0) {
    return bad(
      "TRACKSTAR_WRITES_PER_SECOND",
      `must be 0 (no pacing) or a positive number, got ${writesPerSecond}`
    )
  }
  return Either.right({
    apiKey: options.apiKey,
    accessToken: Option.fromNullable(options.accessToken),
    baseUrl: baseUrl.right,
    attemptTimeout: Duration.decode(options.attemptTimeout ?? "10 seconds"),
    deadline: Duration.decode(options.deadline ?? "60 seconds"),
    maxAttempts,
    retryBaseDelay: Duration.decode(options.retryBaseDelay ?? "250 millis"),
    retryMaxDelay: Duration.decode(options.retryMaxDelay ?? "10 seconds"),
    writesPerSecond
  })
}

const millis = (name: string) =>
  Config.option(Config.integer(name).pipe(Config.map(Duration.millis)))
const optional = <A>(config: Config.Config<Option.Option<A>>) =>
  config.pipe(Config.map(Option.getOrUndefined))

/**
 * Reads the client's settings from the environment:
 * `TRACKSTAR_API_KEY` (required), `TRACKSTAR_ACCESS_TOKEN`, `TRACKSTAR_BASE_URL`,
 * `TRACKSTAR_TIMEOUT_MS`, `TRACKSTAR_DEADLINE_MS`, `TRACKSTAR_MAX_ATTEMPTS`,
 * `TRACKSTAR_RETRY_BASE_DELAY_MS`, `TRACKSTAR_RETRY_MAX_DELAY_MS`, `TRACKSTAR_WRITES_PER_SECOND`.
 */
export const TrackstarConfig: Config.Config<TrackstarClientOptions> = Config.all({
  apiKey: Config.redacted("TRACKSTAR_API_KEY"),
  accessToken: optional(Config.option(Config.redacted("TRACKSTAR_ACCESS_TOKEN"))),
  baseUrl: optional(Config.option(Config.string("TRACKSTAR_BASE_URL"))),
  attemptTimeout: optional(millis("TRACKSTAR_TIMEOUT_MS")),
  deadline: optional(millis("TRACKSTAR_DEADLINE_MS")),
  maxAttempts: optional(Config.option(Config.integer("TRACKSTAR_MAX_ATTEMPTS"))),
  retryBaseDelay: optional(millis("TRACKSTAR_RETRY_BASE_DELAY_MS")),
  retryMaxDelay: optional(millis("TRACKSTAR_RETRY_MAX_DELAY_MS")),
  writesPerSecond: optional(Config.option(Config.number("TRACKSTAR_WRITES_PER_SECOND")))
})
