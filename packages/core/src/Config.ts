/**
 * Client settings: credentials, where to send requests, and the time, retry
 * and pacing policy. `TrackstarConfig` reads them from the environment; a
 * service may also build `TrackstarClientOptions` by hand.
 */
import { Config, ConfigError, Duration, Either, Option, Redacted } from "effect"

/** Trackstar's production API. */
export const DEFAULT_BASE_URL = "https://production.trackstarhq.com"

/**
 * The defaults, chosen for a service updating many connections: an attempt
 * gets 10 s (a PATCH answers in well under a second; a slow integration
 * should not hold a caller much longer); a call gets 60 s with up to 5
 * attempts backing off from 250 ms to at most 10 s, enough to ride out a
 * deploy or a burst of 429s; and writes are paced at Trackstar's own limit.
 */
export const DEFAULTS = {
  attemptTimeout: Duration.seconds(10),
  deadline: Duration.seconds(60),
  maxAttempts: 5,
  retryBaseDelay: Duration.millis(250),
  retryMaxDelay: Duration.seconds(10),
  writesPerSecond: 50
} as const

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

/** Credentials travel as header values: visible ASCII only (a pasted quote, space or newline is a typo). */
export const isHeaderSafe = (value: string): boolean => /^[\x21-\x7e]+$/.test(value)

/** Why a credential was refused; says what to look for, never the value. */
export const HEADER_UNSAFE =
  "contains a character an HTTP header cannot carry (a space, newline, quote mark or non-ASCII letter); copy the value again"

const LOOPBACK = /^(localhost|127(?:\.\d{1,3}){3}|\[::1\])$/i

/**
 * A rejected setting's value, as a message may quote it: a short one as given;
 * a longer one may be a key or token pasted into the wrong variable, so only
 * its length is told.
 */
export const quoteRejected = (value: string): string =>
  value.length <= 16
    ? JSON.stringify(value)
    : `a value of ${value.length} characters (not shown, in case it is a secret)`

/**
 * Checks a base URL. The headers carry the API key and access token, so plain
 * http is refused unless the host is loopback (the local emulator).
 */
export const parseBaseUrl = (input: string): Either.Either<URL, string> => {
  let url: URL
  try {
    url = new URL(input)
  } catch {
    return Either.left(`${quoteRejected(input)} is not a URL; expected e.g. ${DEFAULT_BASE_URL}`)
  }
  if (url.username !== "" || url.password !== "" || url.search !== "" || url.hash !== "") {
    return Either.left(
      `${url.origin}: the base URL must be a plain origin (and optional path), without user info, query or fragment`
    )
  }
  if (url.protocol === "https:") return Either.right(url)
  if (url.protocol === "http:" && LOOPBACK.test(url.hostname)) return Either.right(url)
  return Either.left(
    `${url.origin} is not allowed: requests carry your API key and access token, so the base URL must use https (plain http only for a loopback host such as the local emulator)`
  )
}

const positive = (d: Duration.Duration): boolean => Duration.greaterThan(d, Duration.zero)

/** Fills in defaults and validates; fails with a `ConfigError` naming the bad setting. */
export const resolveOptions = (
  options: TrackstarClientOptions
): Either.Either<ResolvedOptions, ConfigError.ConfigError> => {
  const bad = (path: string, message: string) =>
    Either.left(ConfigError.InvalidData([path], message))
  const baseUrl = parseBaseUrl(options.baseUrl ?? DEFAULT_BASE_URL)
  if (Either.isLeft(baseUrl)) return bad("TRACKSTAR_BASE_URL", baseUrl.left)
  const maxAttempts = options.maxAttempts ?? DEFAULTS.maxAttempts
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1) {
    return bad("TRACKSTAR_MAX_ATTEMPTS", `must be a whole number of at least 1, got ${maxAttempts}`)
  }
  const writesPerSecond = options.writesPerSecond ?? DEFAULTS.writesPerSecond
  if (!Number.isFinite(writesPerSecond) || writesPerSecond < 0) {
    return bad(
      "TRACKSTAR_WRITES_PER_SECOND",
      `must be 0 (no pacing) or a positive number, got ${writesPerSecond}`
    )
  }
  if (!isHeaderSafe(Redacted.value(options.apiKey))) {
    return bad("TRACKSTAR_API_KEY", HEADER_UNSAFE)
  }
  if (options.accessToken !== undefined && !isHeaderSafe(Redacted.value(options.accessToken))) {
    return bad("TRACKSTAR_ACCESS_TOKEN", HEADER_UNSAFE)
  }
  const attemptTimeout = Duration.decode(options.attemptTimeout ?? DEFAULTS.attemptTimeout)
  if (!positive(attemptTimeout)) return bad("TRACKSTAR_TIMEOUT_MS", "must be more than 0 ms")
  const deadline = Duration.decode(options.deadline ?? DEFAULTS.deadline)
  if (!positive(deadline)) return bad("TRACKSTAR_DEADLINE_MS", "must be more than 0 ms")
  return Either.right({
    apiKey: options.apiKey,
    accessToken: Option.fromNullable(options.accessToken),
    baseUrl: baseUrl.right,
    attemptTimeout,
    deadline,
    maxAttempts,
    retryBaseDelay: Duration.decode(options.retryBaseDelay ?? DEFAULTS.retryBaseDelay),
    retryMaxDelay: Duration.decode(options.retryMaxDelay ?? DEFAULTS.retryMaxDelay),
    writesPerSecond
  })
}

/**
 * An optional setting read as text, so that an empty value counts as unset
 * (client configs often carry `""` placeholders) instead of parsing as 0.
 */
const setting = <A>(name: string, parse: (text: string) => A | undefined, expected: string) =>
  Config.option(Config.string(name)).pipe(
    Config.mapOrFail((text) => {
      const value = Option.getOrUndefined(text)?.trim() ?? ""
      if (value === "") return Either.right(undefined)
      const parsed = parse(value)
      return parsed === undefined
        ? Either.left(
            ConfigError.InvalidData([name], `Expected ${expected}, got ${quoteRejected(value)}`)
          )
        : Either.right(parsed)
    })
  )

const integer = (text: string): number | undefined =>
  /^-?\d+$/.test(text) ? Number.parseInt(text, 10) : undefined
const number = (text: string): number | undefined =>
  text !== "" && Number.isFinite(Number(text)) ? Number(text) : undefined
const MILLIS = "a whole number of milliseconds"
const millis = (text: string): Duration.Duration | undefined =>
  /^\d+$/.test(text) ? Duration.millis(Number.parseInt(text, 10)) : undefined

/**
 * Reads the client's settings from the environment:
 * `TRACKSTAR_API_KEY` (required), `TRACKSTAR_ACCESS_TOKEN`, `TRACKSTAR_BASE_URL`,
 * `TRACKSTAR_TIMEOUT_MS`, `TRACKSTAR_DEADLINE_MS`, `TRACKSTAR_MAX_ATTEMPTS`,
 * `TRACKSTAR_RETRY_BASE_DELAY_MS`, `TRACKSTAR_RETRY_MAX_DELAY_MS`, `TRACKSTAR_WRITES_PER_SECOND`.
 */
export const TrackstarConfig: Config.Config<TrackstarClientOptions> = Config.all({
  // Read as a string and wrapped at once: `Config.redacted` would also redact the
  // "is not set" message, leaving a user with `Missing data at TRACKSTAR_API_KEY: "<redacted>"`.
  apiKey: Config.option(Config.string("TRACKSTAR_API_KEY")).pipe(
    Config.mapOrFail((key) =>
      Option.isNone(key) || key.value.trim() === ""
        ? Either.left(
            ConfigError.MissingData(
              ["TRACKSTAR_API_KEY"],
              "TRACKSTAR_API_KEY is not set: set it to your organisation's Trackstar API key"
            )
          )
        : Either.right(Redacted.make(key.value))
    )
  ),
  accessToken: Config.option(Config.redacted("TRACKSTAR_ACCESS_TOKEN")).pipe(
    Config.map((token) =>
      Option.getOrUndefined(Option.filter(token, (t) => Redacted.value(t).trim() !== ""))
    )
  ),
  baseUrl: setting("TRACKSTAR_BASE_URL", (text) => text, "a URL"),
  attemptTimeout: setting("TRACKSTAR_TIMEOUT_MS", millis, MILLIS),
  deadline: setting("TRACKSTAR_DEADLINE_MS", millis, MILLIS),
  maxAttempts: setting("TRACKSTAR_MAX_ATTEMPTS", integer, "a whole number"),
  retryBaseDelay: setting("TRACKSTAR_RETRY_BASE_DELAY_MS", millis, MILLIS),
  retryMaxDelay: setting("TRACKSTAR_RETRY_MAX_DELAY_MS", millis, MILLIS),
  writesPerSecond: setting("TRACKSTAR_WRITES_PER_SECOND", number, "a number")
})
