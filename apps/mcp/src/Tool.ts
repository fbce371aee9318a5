/**
 * The adapter between an Effect-schema'd tool and MCP: one definition gives
 * the `tools/list` entry (JSON Schema derived from the schemas) and the
 * `tools/call` behaviour (decode once, run, render success or failure).
 */
import type {
  CallToolResult,
  Tool as McpTool,
  ToolAnnotations
} from "@modelcontextprotocol/sdk/types.js"
import { Input } from "@trackstar-mcp/core"
import { Cause, Context, Data, Effect, Either, JSONSchema, Schema, SchemaAST } from "effect"

type JsonObject = { readonly [key: string]: unknown }

/** A failure a tool reports to the assistant as an `isError` result. */
export class ToolFailure extends Data.TaggedError("ToolFailure")<{ readonly message: string }> {}

/** Reports progress of the running call to the client, when it asked for progress. */
export class Progress extends Context.Tag("trackstar-mcp/Progress")<
  Progress,
  { readonly report: (message: string) => Effect.Effect<void> }
>() {}

/** What a successful run returns: the structured result and a short summary. */
export interface ToolSuccess<O> {
  readonly structured: O
  readonly text: string
}

/** Everything that defines one tool. */
export interface ToolSpec<A, I, O, OI extends JsonObject, R> {
  readonly name: string
  readonly title: string
  readonly description: string
  readonly annotations: ToolAnnotations
  readonly input: Schema.Schema<A, I>
  readonly output: Schema.Schema<O, OI>
  readonly run: (args: A) => Effect.Effect<ToolSuccess<O>, ToolFailure, R>
}

/** A tool ready to serve: its listing and its call. */
export interface Tool<R> {
  readonly definition: McpTool
  readonly call: (args: unknown) => Effect.Effect<CallToolResult, never, R>
}

/**
 * The JSON Schema a client sees: inline, no `$schema` (a default Ajv instance,
 * built for draft-07, refuses to compile a schema naming the 2020-12 URI), and
 * no empty `required` list. The keywords used mean the same in both drafts.
 */
export const toolJsonSchema = (schema: Schema.Schema.Any): McpTool["inputSchema"] => {
  const { $schema: _, ...rest }: JsonObject = withoutEmptyRequired(
    JSONSchema.make(schema, { target: "jsonSchema2020-12" })
  )
  return { ...rest, type: "object" }
}

const withoutEmptyRequired = (node: unknown): JsonObject => {
  const clean = (value: unknown): unknown =>
    Array.isArray(value)
      ? value.map(clean)
      : typeof value === "object" && value !== null
        ? Object.fromEntries(
            Object.entries(value).flatMap(([k, v]) =>
              k === "required" && Array.isArray(v) && v.length === 0 ? [] : [[k, clean(v)]]
            )
          )
        : value
  const cleaned = clean(node)
  return typeof cleaned === "object" && cleaned !== null ? { ...cleaned } : {}
}

/** An `isError` result whose text tells the assistant what went wrong and what to do. */
export const errorResult = (message: string): CallToolResult => ({
  isError: true,
  content: [{ type: "text", text: message }]
})

/** Builds a servable tool from its spec. */
export const defineTool = <A, I, O, OI extends JsonObject, R>(
  spec: ToolSpec<A, I, O, OI, R>
): Tool<R> => {
  const decode = Input.decoder(spec.input)
  // An output schema without transformations encodes a value as itself: skip the work then.
  const encode: (value: O) => Effect.Effect<OI> =
    SchemaAST.encodedAST(spec.output.ast) === spec.output.ast
      ? (value) => Effect.succeed(value as unknown as OI)
      : (value) => Effect.orDie(Schema.encode(spec.output)(value))

  const render = ({ structured, text }: ToolSuccess<O>): Effect.Effect<CallToolResult> =>
    Effect.map(encode(structured), (encoded) => ({
      content: [{ type: "text", text }],
      structuredContent: { ...encoded }
    }))

  const run = (args: A): Effect.Effect<CallToolResult, never, R> =>
    spec.run(args).pipe(
      Effect.flatMap(render),
      Effect.catchTag("ToolFailure", (failure) => Effect.succeed(errorResult(failure.message))),
      Effect.catchAllCause((cause) =>
        Cause.isInterruptedOnly(cause)
          ? Effect.interrupt
          : // The trace goes to stderr only: log notifications would hand it to the client.
            Effect.sync(() =>
              process.stderr.write(
                `trackstar-mcp: ${spec.name} failed unexpectedly\n${Cause.pretty(cause)}\n`
              )
            ).pipe(
              Effect.as(
                errorResult(
                  `${spec.name} failed because of an internal error in this server; it was logged on the server's stderr. Nothing suggests the arguments were wrong.`
                )
              )
            )
      )
    )

  return {
    definition: {
      name: spec.name,
      title: spec.title,
      description: spec.description,
      inputSchema: toolJsonSchema(spec.input),
      outputSchema: toolJsonSchema(spec.output),
      annotations: { title: spec.title, ...spec.annotations }
    },
    call: (args) =>
      Either.match(decode(args), {
        onLeft: (invalid) =>
          Effect.succeed(
            errorResult(
              `Invalid arguments for ${spec.name}; nothing was sent: ${invalid.problems}.`
            )
          ),
        onRight: run
      })
  }
}
