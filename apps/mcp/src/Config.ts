/**
 * Where the server's credentials come from: the `TRACKSTAR_*` environment
 * variables, or the in-process emulator's demo credentials (`--emulator`).
 * Missing credentials do not stop the server: it starts, lists its tool, and
 * each call explains which variable to set. Invalid settings stop it at
 * start-up with a message naming the variable.
 */
import type { HttpClient } from "@effect/platform"
import { Config as CoreConfig, TrackstarClient } from "@trackstar-mcp/core"
import {
  Config,
  type ConfigError,
  ConfigProvider,
  Context,
  Effect,
  Either,
  Layer,
  Option
} from "effect"

/** Which Trackstar the server talks to. */
export type Target = "trackstar" | "emulator"

/** The configured client, or why there is none. */
export interface Setup {
  readonly target: Target
  readonly client: Either.Either<TrackstarClient.TrackstarClientService, string>
}

/** The server's Trackstar setup. */
export class Trackstar extends Context.Tag("trackstar-mcp/Trackstar")<Trackstar, Setup>() {}

/** Credentials and URL of an emulator to use instead of the environment's. */
export interface EmulatorTarget {
  readonly url: string
  readonly apiKey: string
  readonly accessToken: string
}

const MISSING_API_KEY =
  "TRACKSTAR_API_KEY is not set, so nothing can be sent to Trackstar. Add TRACKSTAR_API_KEY (your organisation's API key) and TRACKSTAR_ACCESS_TOKEN (the connection's access token) to this MCP server's environment in your client's configuration, then restart the server. To try the tool without an account, start the server with --emulator."

/**
 * The environment as a config provider, with empty values treated as unset:
 * desktop client configs often carry `"TRACKSTAR_ACCESS_TOKEN": ""` placeholders.
 */
export const environment = (env: NodeJS.ProcessEnv = process.env): ConfigProvider.ConfigProvider =>
  ConfigProvider.fromMap(
    new Map(
      Object.entries(env).flatMap(([k, v]) =>
        v === undefined || v.trim() === "" ? [] : [[k, v] as const]
      )
    )
  )

const emulatorProvider = (emulator: EmulatorTarget) =>
  ConfigProvider.fromMap(
    new Map([
      ["TRACKSTAR_BASE_URL", emulator.url],
      ["TRACKSTAR_API_KEY", emulator.apiKey],
      ["TRACKSTAR_ACCESS_TOKEN", emulator.accessToken]
    ])
  )

const setup = (
  target: Target
): Effect.Effect<Setup, ConfigError.ConfigError, HttpClient.HttpClient> =>
  Effect.gen(function* () {
    const apiKey = yield* Config.option(Config.string("TRACKSTAR_API_KEY"))
    if (Option.isNone(apiKey)) return { target, client: Either.left(MISSING_API_KEY) }
    const options = yield* CoreConfig.TrackstarConfig
    const client = yield* TrackstarClient.make(options)
    // Plain http is only accepted for loopback hosts, which is where the emulator runs.
    const local = client.baseUrl.protocol === "http:"
    return { target: local ? "emulator" : target, client: Either.right(client) }
  })

/** The setup from the environment, or from an emulator when one is given. */
export const layer = (options: {
  readonly env?: NodeJS.ProcessEnv
  readonly emulator?: EmulatorTarget | undefined
}): Layer.Layer<Trackstar, ConfigError.ConfigError, HttpClient.HttpClient> => {
  const env = environment(options.env)
  const provider =
    options.emulator === undefined
      ? env
      : emulatorProvider(options.emulator).pipe(ConfigProvider.orElse(() => env))
  return Layer.effect(
    Trackstar,
    setup(options.emulator === undefined ? "trackstar" : "emulator").pipe(
      Effect.withConfigProvider(provider)
    )
  )
}
