import type { ConnectionUpdate } from "./State.js"

/** Field name to messages, the `detail.json` of a 422 body. */
export type FieldErrors = Readonly<Record<string, ReadonlyArray<string>>>

/** The outcome of validating a PATCH /connections body. */
export type ValidationResult =
  | { readonly ok: true; readonly update: ConnectionUpdate }
  | { readonly ok: false; readonly errors: FieldErrors }

const fail = (errors: Map<string, ReadonlyArray<string>>): ValidationResult => ({
  ok: false,
  // fromEntries defines own properties, so a key such as "__proto__" stays a plain field.
  errors: Object.fromEntries(errors)
})

/** Validates a raw PATCH /connections body as Trackstar does, reporting every offending field at once. */
export function validateUpdateBody(text: string): ValidationResult {
  let parsed: unknown = {}
  if (text.length > 0) {
    try {
      parsed = JSON.parse(text)
    } catch {
      return fail(new Map([["_schema", ["Invalid JSON body."]]]))
    }
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    return fail(new Map([["_schema", ["Invalid input type."]]]))
  }
  const entries: Array<[string, unknown]> = Object.entries(parsed)
  const errors = new Map<string, ReadonlyArray<string>>()
  const update: { customer_id?: string | null; webhooks_disabled?: boolean } = {}
  for (const [key, value] of entries) {
    if (key === "customer_id") {
      if (typeof value === "string" || value === null) update.customer_id = value
      else errors.set(key, ["Not a valid string."])
    } else if (key === "webhooks_disabled") {
      if (typeof value === "boolean") update.webhooks_disabled = value
      else errors.set(key, ["Not a valid boolean."])
    } else {
      errors.set(key, ["Unknown field."])
    }
  }
  return errors.size > 0 ? fail(errors) : { ok: true, update }
}
