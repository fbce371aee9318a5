/**
 * Where the server's credentials and named connections come from:
 *
 * - `TRACKSTAR_API_KEY` and the other `TRACKSTAR_*` client settings (see core);
 * - `TRACKSTAR_ACCESS_TOKEN`: the connection named `default`;
 * - `TRACKSTAR_ACCESS_TOKEN_<NAME>`: a connection named `<name>` (lower case, `_` as `-`);
 * - a JSON config file (`--config` or `TRACKSTAR_MCP_CONFIG`) with more named connections;
 * - or, with `--emulator`, the in-process emulator's demo credentials.
 *
 * Missing credentials do not stop the server: it starts, lists its tool, and
 * each call explains what to set. Invalid settings stop it at start-up with a
 * message naming the variable or file. Secrets are never echoed.
 */
import { readFileSync } from "node:fs"
import type * as HttpClient from "@effect/platform/HttpClient"
import { Config as CoreConfig, TrackstarClient } from "@trackstar-mcp/core"
import {
  Config,
  type ConfigError,
  ConfigProvider,
  Context,
  Data,
  Effect,
  Either,
  Layer,
  Option,
  ParseResult,
  Redacted,
  Schema
} from "effect"

/** Where the server sends requests: Trackstar's production API, the in-process emulator, or another base URL. */
export type Target = "trackstar" | "emulator" | "custom"

/** A connection the tool can address by name; the token never leaves this module's consumers. */
export interface NamedConnection {
  readonly name: string
  readonly accessToken: Redacted.Redacted<string>
  /** Where it was configured, for messages: a variable or file name, never the value. */
  readonly source: string
}

/** The configured client and connections, or why calls cannot be made. */
export interface Setup {
  readonly target: Target
  readonly client: Either.Either<TrackstarClient.TrackstarClientService, string>
  readonly connections: ReadonlyArray<NamedConnection>
  /** The connection used when a call names none. */
  readonly defaultConnection: string | undefined
}

/** The server's Trackstar setup. */
export class Trackstar extends Context.Tag("trackstar-mcp/Trackstar")<Trackstar, Setup>() {}

/** A configuration problem found at start-up; the message names the variable or file. */
export class StartupError extends Data.TaggedError("StartupError")<{ readonly message: string }> {}

/** Credentials and URL of an emulator to use instead of the environment's. */
export interface EmulatorTarget {
  readonly url: string
  readonly apiKey: string
  readonly connections: ReadonlyArray<{ readonly name: string; readonly accessToken: string }>
}

/** What the setup is built from. */
export interface SetupOptions {
  readonly env?: NodeJS.ProcessEnv | undefined
  /** Path of a JSON config file; defaults to `TRACKSTAR_MCP_CONFIG`. */
  readonly configFile?: string | undefined
  readonly emulator?: EmulatorTarget | undefined
}

const MISSING_API_KEY =
  "TRACKSTAR_API_KEY is not set, so nothing can be sent to Trackstar. Add TRACKSTAR_API_KEY (your organisation's API key) and TRACKSTAR_ACCESS_TOKEN (the connection's access token) to this MCP server's environment in your client's configuration, then restart the server. To try the tool without an account, start the server with --emulator."

const NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/
const TOKEN_PREFIX = "TRACKSTAR_ACCESS_TOKEN_"

/** Connection names: lower case letters, digits, `.`, `_`, `-`; what an assistant passes as `connection`. */
export const ConnectionName = Schema.String.pipe(
  Schema.pattern(NAME, {
    message: () =>
      "must be 1-64 characters of lower-case letters, digits, '.', '_' or '-', starting with a letter or digit"
  })
)

/** The config file's shape. Tokens may be given inline or by the name of a variable holding them. */
export const ConfigFile = Schema.Struct({
  defaultConnection: Schema.optionalWith(ConnectionName, { exact: true }),
  connections: Schema.optionalWith(
    Schema.Record({
      key: ConnectionName,
      value: Schema.Union(
        Schema.Struct({ accessToken: Schema.NonEmptyTrimmedString }),
        Schema.Struct({ accessTokenEnv: Schema.NonEmptyTrimmedString })
      )
    }),
    { exact: true }
  )
})

/** Only non-empty values: desktop client configs often carry `"TRACKSTAR_ACCESS_TOKEN": ""` placeholders. */
const nonEmpty = (env: NodeJS.ProcessEnv): ReadonlyArray<readonly [string, string]> =>
  Object.entries(env).flatMap(([k, v]) =>
    v === undefined || v.trim() === "" ? [] : [[k, v] as const]
  )

const fromEnv = (
  env: NodeJS.ProcessEnv
): Either.Either<ReadonlyArray<NamedConnection>, StartupError> => {
  const found: Array<NamedConnection> = []
  for (const [key, value] of nonEmpty(env)) {
    if (key === "TRACKSTAR_ACCESS_TOKEN")
      found.push({ name: "default", accessToken: Redacted.make(value), source: key })
    else if (key.startsWith(TOKEN_PREFIX)) {
      const name = key.slice(TOKEN_PREFIX.length).toLowerCase().replaceAll("_", "-")
      if (!NAME.test(name)) {
        return Either.left(
          new StartupError({
            message: `${key}: "${name}" is not a usable connection name; use letters, digits and _ after ${TOKEN_PREFIX}`
          })
        )
      }
      found.push({ name, accessToken: Redacted.make(value), source: key })
    }
  }
  return Either.right(found)
}

const fromFile = (
  path: string,
  env: NodeJS.ProcessEnv
): Either.Either<
  {
    readonly connections: ReadonlyArray<NamedConnection>
    readonly defaultConnection: string | undefined
  },
  StartupError
> => {
  const problem = (what: string) =>
    Either.left(new StartupError({ message: `config file ${path}: ${what}` }))
  let text: string
  try {
    text = readFileSync(path, "utf8")
  } catch (error) {
    return problem(
      `cannot be read (${error instanceof Error && "code" in error ? String(error.code) : "unknown error"})`
    )
  }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    return problem("is not valid JSON")
  }
  const decoded = Schema.decodeUnknownEither(ConfigFile, {
    errors: "all",
    onExcessProperty: "error"
  })(json)
  if (Either.isLeft(decoded)) {
    // Only paths and fixed texts: a schema's own message may quote the rejected value (a token).
    const issues = ParseResult.ArrayFormatter.formatErrorSync(decoded.left).map((i) => {
      const what =
        i._tag === "Missing"
          ? "is missing"
          : i._tag === "Unexpected"
            ? "is not an allowed key or name"
            : "has the wrong type or format"
      return `${i.path.join(".") || "(top level)"}: ${what}`
    })
    return problem(
      `${[...new Set(issues)].join("; ")}. Expected {"defaultConnection"?: name, "connections": {name: {"accessToken": "..."} or {"accessTokenEnv": "VARIABLE"}}}`
    )
  }
  const connections: Array<NamedConnection> = []
  for (const [name, entry] of Object.entries(decoded.right.connections ?? {})) {
    if ("accessToken" in entry) {
      connections.push({ name, accessToken: Redacted.make(entry.accessToken), source: path })
      continue
    }
    const value = env[entry.accessTokenEnv]
    if (value === undefined || value.trim() === "") {
      return problem(
        `connections.${name}.accessTokenEnv names ${entry.accessTokenEnv}, which is not set`
      )
    }
    connections.push({
      name,
      accessToken: Redacted.make(value),
      source: `${path} via ${entry.accessTokenEnv}`
    })
  }
  return Either.right({ connections, defaultConnection: decoded.right.defaultConnection })
}

/** Merges the sources, refusing a name configured twice and a default that does not exist. */
export const resolveConnections = (
  options: SetupOptions
): Either.Either<
  {
    readonly connections: ReadonlyArray<NamedConnection>
    readonly defaultConnection: string | undefined
  },
  StartupError
> =>
  Either.gen(function* () {
    const env = options.env ?? process.env
    if (options.emulator !== undefined) {
      const connections = options.emulator.connections.map((c) => ({
        name: c.name,
        accessToken: Redacted.make(c.accessToken),
        source: "emulator"
      }))
      return { connections, defaultConnection: connections[0]?.name }
    }
    const file = options.configFile ?? env.TRACKSTAR_MCP_CONFIG
    const fromConfigFile =
      file === undefined || file.trim() === ""
        ? { connections: [], defaultConnection: undefined }
        : yield* fromFile(file, env)
    const all = [...(yield* fromEnv(env)), ...fromConfigFile.connections]
    const seen = new Map<string, string>()
    for (const c of all) {
      const other = seen.get(c.name)
      if (other !== undefined) {
        return yield* Either.left(
          new StartupError({
            message: `connection "${c.name}" is configured twice: by ${other} and by ${c.source}; remove one`
          })
        )
      }
      seen.set(c.name, c.source)
    }
    const envDefault = env.TRACKSTAR_DEFAULT_CONNECTION?.trim()
    const wanted =
      envDefault !== undefined && envDefault !== "" ? envDefault : fromConfigFile.defaultConnection
    if (wanted !== undefined && !seen.has(wanted)) {
      const where = envDefault
        ? "TRACKSTAR_DEFAULT_CONNECTION"
        : `config file ${file}: defaultConnection`
      return yield* Either.left(
        new StartupError({
          message: `${where} names "${wanted}", which is not configured; configured: ${[...seen.keys()].join(", ") || "none"}`
        })
      )
    }
    const defaultConnection =
      wanted ?? (seen.has("default") ? "default" : all.length === 1 ? all[0]?.name : undefined)
    return { connections: all, defaultConnection }
  })

const emulatorProvider = (emulator: EmulatorTarget) =>
  ConfigProvider.fromMap(
    new Map([
      ["TRACKSTAR_BASE_URL", emulator.url],
      ["TRACKSTAR_API_KEY", emulator.apiKey]
    ])
  )

/** Every leaf of a config error as `VARIABLE: what was wrong`. */
const configProblems = (error: ConfigError.ConfigError): ReadonlyArray<string> => {
  switch (error._op) {
    case "And":
    case "Or":
      return [...configProblems(error.left), ...configProblems(error.right)]
    case "Unsupported":
    case "SourceUnavailable":
    case "InvalidData":
    case "MissingData":
      return [`${error.path.join(".")}: ${error.message}`]
  }
}

/** One line naming each bad variable; long rejected values are not quoted (`quoteRejected`). */
const formatConfigError = (error: ConfigError.ConfigError): string =>
  `invalid configuration: ${[...new Set(configProblems(error))].join("; ")}`

/** Builds the setup; fails with a `StartupError` naming what to fix. */
export const make = (
  options: SetupOptions
): Effect.Effect<Setup, StartupError, HttpClient.HttpClient> =>
  Effect.gen(function* () {
    const env = options.env ?? process.env
    const envProvider = ConfigProvider.fromMap(new Map(nonEmpty(env)))
    const provider =
      options.emulator === undefined
        ? envProvider
        : emulatorProvider(options.emulator).pipe(ConfigProvider.orElse(() => envProvider))
    const { connections, defaultConnection } = yield* resolveConnections(options)
    const client = yield* Effect.gen(function* () {
      const apiKey = yield* Config.option(Config.string("TRACKSTAR_API_KEY"))
      if (Option.isNone(apiKey)) {
        // The other settings are checked all the same, so that the key is the last thing to fix.
        const settings = yield* Effect.withConfigProvider(
          CoreConfig.TrackstarConfig,
          provider.pipe(
            ConfigProvider.orElse(() =>
              ConfigProvider.fromMap(new Map([["TRACKSTAR_API_KEY", "not-set"]]))
            )
          )
        )
        yield* TrackstarClient.make({ ...settings, accessToken: undefined })
        return Either.left(MISSING_API_KEY)
      }
      const settings = yield* CoreConfig.TrackstarConfig
      // Calls always name their connection's token; the core's default token is not used.
      return Either.right(yield* TrackstarClient.make({ ...settings, accessToken: undefined }))
    }).pipe(
      Effect.withConfigProvider(provider),
      Effect.mapError((error) => new StartupError({ message: formatConfigError(error) }))
    )
    // Only --emulator is known to be the emulator: a loopback URL may be a proxy to production.
    const target: Target =
      options.emulator !== undefined
        ? "emulator"
        : Either.getRight(client).pipe(
              Option.exists((c) => c.baseUrl.origin !== new URL(CoreConfig.DEFAULT_BASE_URL).origin)
            )
          ? "custom"
          : "trackstar"
    return { target, client, connections, defaultConnection }
  })

/** The setup as a layer. */
export const layer = (
  options: SetupOptions
): Layer.Layer<Trackstar, StartupError, HttpClient.HttpClient> =>
  Layer.effect(Trackstar, make(options))
