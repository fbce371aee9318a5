/**
 * Decoding of caller input (library arguments, MCP tool arguments) into typed
 * values, with every problem reported at once as an `InvalidRequest`.
 */
import { Either, ParseResult, Schema, SchemaAST } from "effect"
import { InvalidRequest } from "./Errors.js"
import type { InputIssue } from "./Schemas.js"

const at = (value: unknown, key: PropertyKey): unknown =>
  typeof value === "object" && value !== null && key in value ? Reflect.get(value, key) : undefined

const describe = (value: unknown): string => {
  if (value === null) return "null"
  if (Array.isArray(value)) return "an array"
  if (typeof value === "string") return value.length > 40 ? "a string" : JSON.stringify(value)
  if (typeof value === "object") return "an object"
  return String(value)
}

/**
 * Makes a decoder for a struct schema: unknown keys are refused, every
 * offending field is listed, and messages name what was expected and what came.
 */
export const decoder = <A, I>(schema: Schema.Schema<A, I>) => {
  const decode = Schema.decodeUnknownEither(schema, { errors: "all", onExcessProperty: "error" })
  const allowed = SchemaAST.getPropertySignatures(schema.ast)
    .map((p) => String(p.name))
    .join(", ")
  return (input: unknown): Either.Either<A, InvalidRequest> =>
    Either.mapLeft(decode(input), (error) => {
      const seen = new Set<string>()
      const issues: Array<InputIssue> = []
      for (const issue of ParseResult.ArrayFormatter.formatErrorSync(error)) {
        const path = issue.path.map(String).join(".")
        const message =
          issue._tag === "Unexpected"
            ? `is not a field that can be set (allowed: ${allowed})`
            : issue.path.length === 0
              ? `must be a JSON object with the optional fields ${allowed}, got ${describe(input)}`
              : // Effect's own messages end with ", actual <value>": ours says the value once.
                `${issue.message.replace(/, actual [\s\S]*$/, "")}, got ${describe(issue.path.reduce(at, input))}`
        const key = `${path}\u0000${message}`
        if (seen.has(key)) continue
        seen.add(key)
        issues.push({ path, message })
      }
      return new InvalidRequest({ issues })
    })
}
