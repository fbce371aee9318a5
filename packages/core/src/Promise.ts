/**
 * A Promise facade over the Effect client, for TypeScript services that do
 * not use Effect. Calls reject with the same tagged error instances as the
 * Effect API (`error instanceof Errors.RateLimited`, `error._tag`), and an
 * `AbortSignal` cancels a call, aborting its request in flight.
 *
 * @example
 * import { createTrackstarClient } from "@trackstar-mcp/core/promise"
 * const trackstar = createTrackstarClient("env")
 * const result = await trackstar.updateConnection({ webhooks_disabled: true }, { accessToken })
 */

import { Cause, Data, Effect, Either, Exit, Layer, ManagedRuntime, Redacted } from "effect"
import { resolveOptions, type TrackstarClientOptions, TrackstarConfig } from "./Config.js"
import type { TrackstarError } from "./Errors.js"
import * as NodeHttpClient from "./NodeHttpClient.js"
import type { UpdateConnectionRequest } from "./Schemas.js"
import * as TrackstarClient from "./TrackstarClient.js"

/** A secret given as plain text or as an Effect `Redacted`. */
export type Secret = string | Redacted.Redacted<string>

/** Client settings as `TrackstarClientOptions`, with secrets also accepted as plain strings. */
export interface PromiseClientOptions
  extends Omit<TrackstarClientOptions, "apiKey" | "accessToken"> {
  readonly apiKey: Secret
  readonly accessToken?: Secret | undefined
}

/** Per-call options: the connection's access token, and a signal to cancel the call. */
export interface CallOptions {
  readonly accessToken?: Secret | undefined
  readonly signal?: AbortSignal | undefined
}

/** One item of a bulk update. */
export interface BulkItem {
  readonly accessToken: Secret
  readonly body: UpdateConnectionRequest
}

/** How one bulk item ended, shaped like a `Promise.allSettled` result, in input order. */
export type SettledUpdate =
  | {
      readonly index: number
      readonly status: "fulfilled"
      readonly value: TrackstarClient.UpdateConnectionResult
    }
  | { readonly index: number; readonly status: "rejected"; readonly reason: TrackstarError }

/** The client: each method returns a Promise; `close` releases it. */
export interface TrackstarPromiseClient {
  /** Sends PATCH /connections; rejects with a `TrackstarError` (see `Errors`). */
  readonly updateConnection: (
    body: UpdateConnectionRequest,
    options?: CallOptions
  ) => Promise<TrackstarClient.UpdateConnectionResult>
  /** Updates many connections at bounded concurrency (default 10); never rejects for one item. */
  readonly updateConnections: (
    items: Iterable<BulkItem>,
    options?: {
      readonly concurrency?: number | "unbounded"
      readonly signal?: AbortSignal | undefined
    }
  ) => Promise<ReadonlyArray<SettledUpdate>>
  /** Stops the client: calls still running are cancelled (they reject), later calls reject. */
  readonly close: () => Promise<void>
}

/** The settings are invalid; the message names the setting (never a secret value). */
export class ConfigurationError extends Data.TaggedError("ConfigurationError")<{
  readonly message: string
}> {}

const redact = (secret: Secret): Redacted.Redacted<string> =>
  typeof secret === "string" ? Redacted.make(secret) : secret

const settingsFrom = (options: PromiseClientOptions | "env"): TrackstarClientOptions => {
  // The facade is an edge, like a program's main: running the config effect here is its job.
  const read =
    options === "env"
      ? Effect.runSync(Effect.either(TrackstarConfig))
      : Either.right({
          ...options,
          apiKey: redact(options.apiKey),
          accessToken: options.accessToken === undefined ? undefined : redact(options.accessToken)
        })
  const checked = Either.flatMap(read, (settings) =>
    Either.map(resolveOptions(settings), () => settings)
  )
  if (Either.isLeft(checked)) {
    throw new ConfigurationError({
      message: `Invalid Trackstar client settings: ${String(checked.left)}`
    })
  }
  return checked.right
}

const rejection = (cause: Cause.Cause<TrackstarError>, signal: AbortSignal | undefined) => {
  const failure = Cause.failureOption(cause)
  if (failure._tag === "Some") return failure.value
  if (signal?.aborted === true) return signal.reason
  return Cause.squash(cause)
}

/**
 * Creates a client from options, or from the `TRACKSTAR_*` environment
 * variables with `"env"`. Throws a `ConfigurationError` at once if a setting
 * is invalid, rather than on the first call.
 */
export const createTrackstarClient = (
  options: PromiseClientOptions | "env"
): TrackstarPromiseClient => {
  // Settings were checked above, so building the layer cannot fail on them.
  const runtime = ManagedRuntime.make(
    TrackstarClient.layer(settingsFrom(options)).pipe(
      Layer.provide(NodeHttpClient.layer()),
      Layer.orDie
    )
  )

  // Each call runs under its own controller, so that `close` can cancel what is still running.
  const running = new Set<AbortController>()
  let closed = false

  const run = <A>(
    effect: Effect.Effect<A, TrackstarError, TrackstarClient.TrackstarClient>,
    signal: AbortSignal | undefined
  ): Promise<A> => {
    if (closed) return Promise.reject(new Error("This Trackstar client is closed"))
    const controller = new AbortController()
    const forward = () => controller.abort(signal?.reason)
    if (signal?.aborted === true) forward()
    else signal?.addEventListener("abort", forward, { once: true })
    running.add(controller)
    return runtime
      .runPromiseExit(effect, { signal: controller.signal })
      .then((exit) =>
        Exit.isSuccess(exit) ? exit.value : Promise.reject(rejection(exit.cause, controller.signal))
      )
      .finally(() => {
        running.delete(controller)
        signal?.removeEventListener("abort", forward)
      })
  }

  return {
    updateConnection: (body, options = {}) =>
      run(
        TrackstarClient.updateConnection(
          body,
          options.accessToken === undefined ? {} : { accessToken: redact(options.accessToken) }
        ),
        options.signal
      ),
    updateConnections: (items, options = {}) =>
      run(
        Effect.flatMap(TrackstarClient.TrackstarClient, (client) =>
          client.updateConnections(
            Array.from(items, (item) => ({
              accessToken: redact(item.accessToken),
              body: item.body
            })),
            options.concurrency === undefined ? {} : { concurrency: options.concurrency }
          )
        ).pipe(
          Effect.map((outcomes) =>
            outcomes.map(
              ({ index, result }): SettledUpdate =>
                Either.match(result, {
                  onLeft: (reason) => ({ index, status: "rejected", reason }),
                  onRight: (value) => ({ index, status: "fulfilled", value })
                })
            )
          )
        ),
        options.signal
      ),
    close: () => {
      closed = true
      const reason = new Error("The Trackstar client was closed while this call was running")
      for (const controller of running) controller.abort(reason)
      return runtime.dispose()
    }
  }
}
