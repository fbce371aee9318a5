import { describe, expect, it } from "@effect/vitest"
import { ConfigProvider, Duration, Effect, Either, Option, Redacted } from "effect"
import {
  DEFAULTS,
  resolveOptions,
  type TrackstarClientOptions,
  TrackstarConfig
} from "../src/Config.js"

const read = (env: Record<string, string>) =>
  Effect.either(
    Effect.withConfigProvider(
      TrackstarConfig,
      ConfigProvider.fromMap(new Map(Object.entries({ TRACKSTAR_API_KEY: "sk_test", ...env })))
    )
  )

describe("TrackstarConfig (TRACKSTAR_* variables)", () => {
  it.effect("reads every setting", () =>
    Effect.gen(function* () {
      const options = Either.getOrThrow(
        yield* read({
          TRACKSTAR_ACCESS_TOKEN: "tok_test",
          TRACKSTAR_BASE_URL: "http://127.0.0.1:9",
          TRACKSTAR_TIMEOUT_MS: "1500",
          TRACKSTAR_DEADLINE_MS: "9000",
          TRACKSTAR_MAX_ATTEMPTS: "2",
          TRACKSTAR_RETRY_BASE_DELAY_MS: "100",
          TRACKSTAR_RETRY_MAX_DELAY_MS: "800",
          TRACKSTAR_WRITES_PER_SECOND: "12.5"
        })
      )
      expect(Redacted.value(options.apiKey)).toBe("sk_test")
      expect(options.accessToken && Redacted.value(options.accessToken)).toBe("tok_test")
      expect(options).toMatchObject({
        baseUrl: "http://127.0.0.1:9",
        attemptTimeout: Duration.millis(1500),
        deadline: Duration.millis(9000),
        maxAttempts: 2,
        retryBaseDelay: Duration.millis(100),
        retryMaxDelay: Duration.millis(800),
        writesPerSecond: 12.5
      })
    })
  )

  it.effect.each<readonly [string, string]>([
    ["TRACKSTAR_TIMEOUT_MS", "ten"],
    ["TRACKSTAR_TIMEOUT_MS", "1.5"],
    ["TRACKSTAR_DEADLINE_MS", "-5"],
    ["TRACKSTAR_MAX_ATTEMPTS", "3x"],
    ["TRACKSTAR_RETRY_BASE_DELAY_MS", "1e3"],
    ["TRACKSTAR_RETRY_MAX_DELAY_MS", "soon"],
    ["TRACKSTAR_WRITES_PER_SECOND", "fast"]
  ])("refuses %s=%s with a ConfigError naming the variable", ([name, value]) =>
    Effect.gen(function* () {
      const result = yield* read({ [name]: value })
      expect(Either.isLeft(result)).toBe(true)
      const message = String(Either.getLeft(result).pipe(Option.getOrThrow))
      expect(message).toContain(name)
      expect(message).toContain(`"${value}"`)
    })
  )

  it.effect("counts empty values as unset instead of parsing them as 0", () =>
    Effect.gen(function* () {
      const options = Either.getOrThrow(
        yield* read({
          TRACKSTAR_ACCESS_TOKEN: "",
          TRACKSTAR_BASE_URL: " ",
          TRACKSTAR_TIMEOUT_MS: "",
          TRACKSTAR_WRITES_PER_SECOND: ""
        })
      )
      expect(options.accessToken).toBeUndefined()
      expect(options.baseUrl).toBeUndefined()
      expect(options.attemptTimeout).toBeUndefined()
      expect(options.writesPerSecond).toBeUndefined()
    })
  )

  it.effect("requires a non-empty TRACKSTAR_API_KEY, and never prints a key", () =>
    Effect.gen(function* () {
      const missing = yield* Effect.either(
        Effect.withConfigProvider(TrackstarConfig, ConfigProvider.fromMap(new Map()))
      )
      expect(String(Either.getLeft(missing).pipe(Option.getOrThrow))).toContain("TRACKSTAR_API_KEY")
      const empty = yield* read({ TRACKSTAR_API_KEY: "  " })
      expect(String(Either.getLeft(empty).pipe(Option.getOrThrow))).toContain("TRACKSTAR_API_KEY")
      const set = yield* read({ TRACKSTAR_API_KEY: "sk_live_VERY_SECRET" })
      expect(String(Either.getOrThrow(set).apiKey)).not.toContain("VERY_SECRET")
    })
  )
})

describe("resolveOptions", () => {
  const apiKey = Redacted.make("sk_test")

  it("fills in the documented defaults", () => {
    const resolved = Either.getOrThrow(resolveOptions({ apiKey }))
    expect(resolved).toMatchObject({
      attemptTimeout: Duration.seconds(10),
      deadline: Duration.seconds(60),
      maxAttempts: 5,
      retryBaseDelay: Duration.millis(250),
      retryMaxDelay: Duration.seconds(10),
      writesPerSecond: 50
    })
    expect(resolved).toMatchObject(DEFAULTS)
    expect(resolved.baseUrl.href).toBe("https://production.trackstarhq.com/")
  })

  it.each<readonly [Partial<TrackstarClientOptions>, string]>([
    [{ maxAttempts: 0 }, "TRACKSTAR_MAX_ATTEMPTS"],
    [{ maxAttempts: 1.5 }, "TRACKSTAR_MAX_ATTEMPTS"],
    [{ writesPerSecond: -1 }, "TRACKSTAR_WRITES_PER_SECOND"],
    [{ attemptTimeout: 0 }, "TRACKSTAR_TIMEOUT_MS"],
    [{ deadline: "0 millis" }, "TRACKSTAR_DEADLINE_MS"],
    [{ baseUrl: "http://example.com" }, "TRACKSTAR_BASE_URL"]
  ])("refuses %j naming %s", (options, name) => {
    const result = resolveOptions({ apiKey, ...options })
    expect(String(Either.getLeft(result).pipe(Option.getOrThrow))).toContain(name)
  })
})
