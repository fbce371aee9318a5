/**
 * One server definition for every transport: the tool registry served as an
 * MCP `Server`. `tools/call` runs the tool's effect in the shared runtime with
 * the request's abort signal (a cancelled call interrupts its effect), with
 * progress and log notifications routed to the calling client.
 */
import { randomUUID } from "node:crypto"
import { Server } from "@modelcontextprotocol/sdk/server/index.js"
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js"
import {
  CallToolRequestSchema,
  ErrorCode,
  type JSONRPCMessage,
  ListToolsRequestSchema,
  type LoggingLevel,
  McpError,
  SetLevelRequestSchema
} from "@modelcontextprotocol/sdk/types.js"
import type { jsonSchemaValidator } from "@modelcontextprotocol/sdk/validation/types.js"
import {
  Context,
  Effect,
  FiberId,
  FiberRef,
  FiberRefs,
  HashMap,
  HashSet,
  Logger,
  type LogLevel,
  type ManagedRuntime,
  Runtime
} from "effect"
import { Progress, type Tool } from "./Tool.js"
import { VERSION } from "./version.js"

const INSTRUCTIONS =
  "Manages Trackstar connections (a customer's connected WMS, cart or carrier system). Use update_connection to set or clear a connection's customer_id or to turn its webhooks off or on; use dry_run to show the user the exact request first."

/**
 * Where `connect` moves `tools/call` arguments the SDK's request schema would
 * refuse; random per process, so a client cannot smuggle arguments in through `_meta`.
 */
const RAW_ARGUMENTS = `trackstar-mcp/raw-arguments-${randomUUID()}`

const asRecord = (value: unknown): Record<string, unknown> | undefined =>
  typeof value === "object" && value !== null && !Array.isArray(value) ? { ...value } : undefined

/**
 * The SDK refuses a `tools/call` whose `arguments` is not an object before any
 * handler runs, with an internal error and a schema dump. Clients that send
 * `null` mean "no arguments", so that is dropped; any other non-object is moved
 * aside, so the tool's own decoder answers it with an `isError` result that
 * says what the tool takes (as MCP asks for invalid arguments).
 */
const normaliseArguments = (message: JSONRPCMessage): JSONRPCMessage => {
  if (!("method" in message) || message.method !== "tools/call" || message.params === undefined) {
    return message
  }
  const { arguments: args, ...params } = message.params
  if (args === undefined || asRecord(args) !== undefined) return message
  if (args === null) return { ...message, params }
  const meta = { ...asRecord(params._meta), [RAW_ARGUMENTS]: args }
  return { ...message, params: { ...params, _meta: meta } }
}

/** Connects a server to a transport, normalising what quirky clients send. */
export const connect = async (server: Server, transport: Transport): Promise<void> => {
  await server.connect(transport)
  const handle = transport.onmessage
  transport.onmessage = (message, extra) => handle?.(normaliseArguments(message), extra)
}

const SEVERITY: ReadonlyArray<LoggingLevel> = [
  "debug",
  "info",
  "notice",
  "warning",
  "error",
  "critical",
  "alert",
  "emergency"
]

const mcpLevel = (level: LogLevel.LogLevel): LoggingLevel =>
  level._tag === "Fatal"
    ? "critical"
    : level._tag === "Error"
      ? "error"
      : level._tag === "Warning"
        ? "warning"
        : level._tag === "Info"
          ? "info"
          : "debug"

/**
 * The SDK validates JSON Schema only for elicitation answers, which this server
 * never requests. Passing this instead of the default Ajv validator lets the
 * bundle leave Ajv out (see scripts/bundle.mjs), for a faster cold start.
 */
const noElicitationValidator: jsonSchemaValidator = {
  getValidator: () => {
    throw new Error(
      "trackstar-mcp does not use elicitation, so it validates no elicitation answers"
    )
  }
}

/** Counts tool calls in flight, so a shutdown can wait for them. */
export class InFlight {
  private active = 0
  private waiters: Array<() => void> = []

  /** Runs `task`, counted while it runs. */
  async track<A>(task: () => Promise<A>): Promise<A> {
    this.active += 1
    try {
      return await task()
    } finally {
      this.active -= 1
      if (this.active === 0) for (const wake of this.waiters.splice(0)) wake()
    }
  }

  /** Resolves when no call is in flight. */
  idle(): Promise<void> {
    return this.active === 0
      ? Promise.resolve()
      : new Promise((resolve) => this.waiters.push(resolve))
  }

  /** How many calls are in flight. */
  get count(): number {
    return this.active
  }
}

/** Where the logs of the call a fiber runs for go: its client, at the level that client chose. */
interface CallContext {
  readonly notify: (level: LoggingLevel, data: Record<string, unknown>) => void
  readonly minimum: () => number
}

const CurrentCall = FiberRef.unsafeMake<CallContext | undefined>(undefined)

/** Sends Effect logs of a tool call to the client that made it, at the level it asked for. */
const clientLogger = Logger.make(({ logLevel, message, annotations, context }) => {
  const call = FiberRefs.getOrDefault(context, CurrentCall)
  if (call === undefined) return
  const level = mcpLevel(logLevel)
  if (SEVERITY.indexOf(level) < call.minimum()) return
  call.notify(level, {
    message: Array.isArray(message) ? message.join(" ") : message,
    ...Object.fromEntries(annotations)
  })
})

/**
 * The runtime one call runs in: the server's, with the call's log routing, its
 * tool's log annotation and its progress reporter set from the start. Setting
 * them as the fiber starts costs a few allocations; wrapping the effect in
 * `Effect.locally` and friends instead cost about 25 µs per call.
 */
const callRuntime = <R>(
  base: Runtime.Runtime<R>,
  loggers: HashSet.HashSet<Logger.Logger<unknown, unknown>>,
  annotations: HashMap.HashMap<string, unknown>,
  call: CallContext,
  progress: Progress["Type"]
): Runtime.Runtime<R | Progress> =>
  Runtime.make({
    context: Context.add(base.context, Progress, progress),
    runtimeFlags: base.runtimeFlags,
    fiberRefs: FiberRefs.updateManyAs(base.fiberRefs, {
      forkAs: FiberId.none,
      entries: [
        [CurrentCall, [[FiberId.none, call]]],
        [FiberRef.currentLoggers, [[FiberId.none, loggers]]],
        [FiberRef.currentLogAnnotations, [[FiberId.none, annotations]]]
      ]
    })
  })

/** What the runtime of every call starts from. */
interface Shared<R> {
  readonly base: Runtime.Runtime<R>
  /** The runtime's loggers and `clientLogger`. */
  readonly loggers: HashSet.HashSet<Logger.Logger<unknown, unknown>>
  /** Each tool's log annotations, by tool name. */
  readonly annotations: ReadonlyMap<string, HashMap.HashMap<string, unknown>>
}

const sharedOf = <R>(base: Runtime.Runtime<R>, toolNames: ReadonlyArray<string>): Shared<R> => {
  const annotations = FiberRefs.getOrDefault(base.fiberRefs, FiberRef.currentLogAnnotations)
  return {
    base,
    loggers: HashSet.add(
      FiberRefs.getOrDefault(base.fiberRefs, FiberRef.currentLoggers),
      clientLogger
    ),
    annotations: new Map(toolNames.map((name) => [name, HashMap.set(annotations, "tool", name)]))
  }
}

/** What every server instance shares. */
export interface ServerContext<R> {
  /** Tools may also need `Progress`, which each call provides. */
  readonly tools: ReadonlyArray<Tool<R | Progress>>
  readonly runtime: ManagedRuntime.ManagedRuntime<R, unknown>
  readonly inFlight: InFlight
}

/** Creates an MCP server for the given tools; one per stdio process or HTTP session. */
export const createServer = <R>({ tools, runtime, inFlight }: ServerContext<R>): Server => {
  const byName = new Map(tools.map((tool) => [tool.definition.name, tool]))
  // Built at the first call, once the runtime is: what every call's runtime starts from.
  let shared: Promise<Shared<R>> | undefined
  const server = new Server(
    { name: "trackstar-mcp", title: "Trackstar connections", version: VERSION },
    {
      capabilities: { tools: { listChanged: false }, logging: {} },
      instructions: INSTRUCTIONS,
      jsonSchemaValidator: noElicitationValidator
    }
  )
  // The level the client asked for; until it asks, info and above are sent.
  let minimum = SEVERITY.indexOf("info")
  server.setRequestHandler(SetLevelRequestSchema, (request) => {
    minimum = SEVERITY.indexOf(request.params.level)
    return {}
  })
  server.setRequestHandler(ListToolsRequestSchema, () => ({
    tools: tools.map((tool) => tool.definition)
  }))
  server.setRequestHandler(CallToolRequestSchema, (request, extra) => {
    const tool = byName.get(request.params.name)
    if (tool === undefined) {
      throw new McpError(
        ErrorCode.InvalidParams,
        `Unknown tool "${request.params.name}"; this server has: ${[...byName.keys()].join(", ")}`
      )
    }
    const call: CallContext = {
      notify: (level, data) =>
        void extra
          .sendNotification({
            method: "notifications/message",
            params: { level, logger: "trackstar", data }
          })
          .catch(() => undefined),
      minimum: () => minimum
    }
    const token = extra._meta?.progressToken
    let step = 0
    const progress = Progress.of({
      report: (message) =>
        token === undefined
          ? Effect.void
          : Effect.promise(() =>
              extra
                .sendNotification({
                  method: "notifications/progress",
                  params: { progressToken: token, progress: ++step, message }
                })
                .catch(() => undefined)
            )
    })
    const args = request.params._meta?.[RAW_ARGUMENTS] ?? request.params.arguments ?? {}
    return inFlight.track(async () => {
      shared ??= runtime.runtime().then((base) => sharedOf(base, [...byName.keys()]))
      const { base, loggers, annotations } = await shared
      const name = tool.definition.name
      return Runtime.runPromise(
        callRuntime(base, loggers, annotations.get(name) ?? HashMap.empty(), call, progress)
      )(tool.call(args), { signal: extra.signal })
    })
  })
  return server
}
