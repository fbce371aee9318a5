/**
 * The vendored OpenAPI contract of PATCH /connections, checked with Ajv (JSON Schema 2020-12, as
 * OpenAPI 3.1 uses): independent of the client's Effect schemas, so a drift between the two shows.
 */
import { readFileSync } from "node:fs"
import { Ajv2020, type ValidateFunction } from "ajv/dist/2020.js"
import { parse } from "yaml"

/** Where the vendored copy lives. */
export const CONTRACT_URL = new URL("./update-connection.openapi.yaml", import.meta.url)

type Json = Readonly<Record<string, unknown>>
const isObject = (value: unknown): value is Json =>
  typeof value === "object" && value !== null && !Array.isArray(value)

/** Follows keys into parsed YAML; throws if the contract lacks them, so a test cannot pass vacuously. */
const at = (value: unknown, ...path: ReadonlyArray<string>): Json => {
  let here = value
  for (const key of path) {
    if (!isObject(here) || !(key in here)) throw new Error(`contract has no ${path.join(".")}`)
    here = here[key]
  }
  if (!isObject(here)) throw new Error(`contract's ${path.join(".")} is not an object`)
  return here
}

/**
 * The ValidationError schema documents `detail` with placeholder property names (`<location>`,
 * `<field_name>`), which as JSON Schema constrain nothing: real keys never match them. The facts
 * file says what they mean: any location, any field. This reads a placeholder property as
 * `additionalProperties`, so the nested shape (location -> field -> list of strings) is enforced.
 */
export const placeholdersAsAny = (schema: unknown): unknown => {
  if (Array.isArray(schema)) return schema.map(placeholdersAsAny)
  if (!isObject(schema)) return schema
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(schema)) out[key] = placeholdersAsAny(value)
  const properties = out.properties
  if (isObject(properties)) {
    const placeholders = Object.keys(properties).filter((name) => /^<.+>$/.test(name))
    const [placeholder] = placeholders
    if (placeholder !== undefined && placeholders.length === Object.keys(properties).length) {
      delete out.properties
      out.additionalProperties = properties[placeholder]
    }
  }
  return out
}

/** The parts of the operation a test checks requests and responses against. */
export interface Contract {
  /** Required request headers and a validator for each value. */
  readonly headers: ReadonlyArray<{ readonly name: string; readonly validate: ValidateFunction }>
  /** Media types the request body may have, with the body's validator. */
  readonly requestBody: ReadonlyMap<string, ValidateFunction>
  /** Documented statuses, each with its media types and body validators. */
  readonly responses: ReadonlyMap<string, ReadonlyMap<string, ValidateFunction>>
  /** ValidationError with its placeholder `detail` read as "any location, any field". */
  readonly validationErrorDetail: ValidateFunction
}

const BASE = "https://contract.test/update-connection.openapi.json"

/** Loads the vendored contract and compiles validators for PATCH /connections. */
export const loadContract = (): Contract => {
  const spec: unknown = parse(readFileSync(CONTRACT_URL, "utf8"))
  const ajv = new Ajv2020({ strict: true, allErrors: true })
  // OpenAPI's annotation keyword, and the document root that holds the schemas $refs point into.
  ajv.addKeyword("example")
  ajv.addKeyword("components")
  ajv.addSchema({ $id: BASE, components: at(spec, "components") })
  // Local refs point into the document root; anchor them to its $id.
  const absolute = (schema: unknown): Json => {
    const json: unknown = JSON.parse(
      JSON.stringify(schema).replaceAll('"$ref":"#/', `"$ref":"${BASE}#/`)
    )
    return isObject(json) ? json : {}
  }
  let ids = 0
  const compile = (schema: unknown) => ajv.compile({ ...absolute(schema), $id: `${BASE}/${ids++}` })

  const operation = at(spec, "paths", "/connections", "patch")
  const parameters = operation.parameters
  if (!Array.isArray(parameters)) throw new Error("contract has no parameters")
  const headers = parameters
    .filter((p): p is Json => isObject(p) && p.in === "header" && p.required === true)
    .map((p) => ({ name: String(p.name).toLowerCase(), validate: compile(at(p, "schema")) }))

  const mediaTypes = (content: Json) =>
    new Map(
      Object.entries(content).map(([type, media]) => [type, compile(at(media, "schema"))] as const)
    )

  return {
    headers,
    requestBody: mediaTypes(at(operation, "requestBody", "content")),
    responses: new Map(
      Object.entries(at(operation, "responses")).map(([status, response]) => [
        status,
        mediaTypes(at(response, "content"))
      ])
    ),
    validationErrorDetail: compile(
      placeholdersAsAny(at(spec, "components", "schemas", "ValidationError"))
    )
  }
}

/** The media type of a content-type header, without parameters such as charset. */
export const mediaType = (contentType: string | undefined): string =>
  (contentType ?? "").split(";")[0]?.trim().toLowerCase() ?? ""
