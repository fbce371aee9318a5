import { validateHeaderName, validateHeaderValue } from "node:http"

/** A misbehaviour the emulator plays instead of (or before) answering a request normally. */
export type Fault =
  /** Respond with exactly this; an object body is sent as JSON; a header value "" omits that header. */
  | {
      readonly kind: "status"
      readonly status: number
      readonly headers?: Readonly<Record<string, string>>
      readonly body?: string | object
    }
  /** Wait, then handle the request normally. */
  | { readonly kind: "delay"; readonly ms: number }
  /** Never answer (until `stop()`, which destroys the socket). */
  | { readonly kind: "hang" }
  /** Reset the connection without any response. */
  | { readonly kind: "drop" }
  /** Answer with a body that is not what the content type promises: an HTML page, truncated JSON, nothing. */
  | {
      readonly kind: "malformed"
      readonly body: string
      readonly status?: number
      readonly contentType?: string
    }

/** A fault, optionally limited to one raw access-token header value and to a number of requests. */
export interface FaultRule {
  readonly fault: Fault
  readonly accessToken?: string
  /** How many matching requests the rule applies to; forever when omitted. */
  readonly times?: number
}

interface ActiveRule {
  readonly rule: FaultRule
  remaining: number | undefined
}

/** The injected rules, matched in order; a rule with `times` is used up by matching requests. */
export class FaultRules {
  #rules: Array<ActiveRule> = []

  /** Appends a rule. */
  add(rule: FaultRule): void {
    this.#rules.push({ rule, remaining: rule.times })
  }

  /** Removes every rule. */
  clear(): void {
    this.#rules = []
  }

  /** The fault for a request carrying this raw access-token header, consuming one use of its rule. */
  take(accessToken: string | undefined): Fault | undefined {
    const index = this.#rules.findIndex(
      ({ rule }) => rule.accessToken === undefined || rule.accessToken === accessToken
    )
    const active = this.#rules[index]
    if (active === undefined) return undefined
    if (active.remaining !== undefined) {
      active.remaining -= 1
      if (active.remaining <= 0) this.#rules.splice(index, 1)
    }
    return active.rule.fault
  }
}

type Decoded<A> =
  | { readonly ok: true; readonly value: A }
  | { readonly ok: false; readonly error: string }

const ok = <A>(value: A): Decoded<A> => ({ ok: true, value })
const bad = <A>(error: string): Decoded<A> => ({ ok: false, error })

const isRecord = (value: unknown): value is Readonly<Record<string, unknown>> =>
  typeof value === "object" && value !== null && !Array.isArray(value)

// 1xx are not final responses, so a fault cannot answer with one.
const isStatus = (value: unknown): value is number =>
  typeof value === "number" && Number.isInteger(value) && value >= 200 && value <= 599

function unknownKey(value: Readonly<Record<string, unknown>>, allowed: ReadonlyArray<string>) {
  return Object.keys(value).find((key) => !allowed.includes(key))
}

function decodeHeaders(value: unknown): Decoded<Readonly<Record<string, string>>> {
  if (!isRecord(value)) return bad("fault.headers must be an object of strings")
  const headers: Record<string, string> = {}
  for (const [name, item] of Object.entries(value)) {
    if (typeof item !== "string") return bad(`fault.headers["${name}"] must be a string`)
    try {
      validateHeaderName(name)
      if (item !== "") validateHeaderValue(name, item)
    } catch {
      return bad(`fault.headers["${name}"] is not a valid HTTP header`)
    }
    headers[name] = item
  }
  return ok(headers)
}

function decodeFault(value: unknown): Decoded<Fault> {
  if (!isRecord(value)) return bad("fault must be an object")
  const { kind } = value
  const allowed: Record<string, ReadonlyArray<string>> = {
    status: ["kind", "status", "headers", "body"],
    delay: ["kind", "ms"],
    hang: ["kind"],
    drop: ["kind"],
    malformed: ["kind", "body", "status", "contentType"]
  }
  const keys = typeof kind === "string" ? allowed[kind] : undefined
  if (keys === undefined) return bad(`fault.kind must be one of ${Object.keys(allowed).join(", ")}`)
  const extra = unknownKey(value, keys)
  if (extra !== undefined) return bad(`fault.${extra} is not a field of a "${kind}" fault`)
  switch (kind) {
    case "status": {
      const { status, headers, body } = value
      if (!isStatus(status)) return bad("fault.status must be an integer from 200 to 599")
      const fault: {
        kind: "status"
        status: number
        headers?: Record<string, string>
        body?: string | object
      } = { kind, status }
      if (headers !== undefined) {
        const decoded = decodeHeaders(headers)
        if (!decoded.ok) return decoded
        fault.headers = decoded.value
      }
      if (typeof body === "string" || (typeof body === "object" && body !== null)) fault.body = body
      else if (body !== undefined) return bad("fault.body must be a string or an object")
      return ok(fault)
    }
    case "delay": {
      const { ms } = value
      if (typeof ms !== "number" || !(ms >= 0 && ms <= 2_147_483_647)) {
        return bad("fault.ms must be a number of milliseconds from 0 to 2147483647")
      }
      return ok({ kind, ms })
    }
    case "hang":
    case "drop":
      return ok({ kind })
    default: {
      const { body, status, contentType } = value
      if (typeof body !== "string") return bad("fault.body must be a string")
      const fault: { kind: "malformed"; body: string; status?: number; contentType?: string } = {
        kind: "malformed",
        body
      }
      if (status !== undefined) {
        if (!isStatus(status)) return bad("fault.status must be an integer from 200 to 599")
        fault.status = status
      }
      if (contentType !== undefined) {
        if (typeof contentType !== "string") return bad("fault.contentType must be a string")
        fault.contentType = contentType
      }
      return ok(fault)
    }
  }
}

/** Checks that a value (from the wire or a caller) is a well-formed fault rule. */
export function decodeFaultRule(value: unknown): Decoded<FaultRule> {
  if (!isRecord(value)) return bad("a fault rule must be an object")
  const extra = unknownKey(value, ["fault", "accessToken", "times"])
  if (extra !== undefined) return bad(`${extra} is not a field of a fault rule`)
  const fault = decodeFault(value.fault)
  if (!fault.ok) return fault
  const rule: { fault: Fault; accessToken?: string; times?: number } = { fault: fault.value }
  const { accessToken, times } = value
  if (accessToken !== undefined) {
    if (typeof accessToken !== "string") return bad("accessToken must be a string")
    rule.accessToken = accessToken
  }
  if (times !== undefined) {
    if (typeof times !== "number" || !Number.isInteger(times) || times < 1) {
      return bad("times must be a positive integer")
    }
    rule.times = times
  }
  return ok(rule)
}
