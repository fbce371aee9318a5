/**
 * Names what went wrong on the network, from a platform `HttpClientError`,
 * without keeping the error itself: its request holds the credential headers.
 */
import type { HttpClientError } from "@effect/platform"

/** Walks a platform error's causes for a Node/undici error code such as `ECONNREFUSED`. */
const networkCode = (cause: unknown): string | undefined => {
  for (let c = cause, depth = 0; typeof c === "object" && c !== null && depth < 5; depth++) {
    if ("code" in c && typeof c.code === "string") return c.code
    c = "cause" in c ? c.cause : undefined
  }
  return undefined
}

const DESCRIPTIONS: Readonly<Record<string, string>> = {
  ECONNREFUSED: "connection refused",
  ECONNRESET: "connection reset",
  EPIPE: "connection closed while sending",
  UND_ERR_SOCKET: "connection closed by the server before it answered",
  ENOTFOUND: "host name not found (DNS)",
  EAI_AGAIN: "DNS lookup failed temporarily",
  ETIMEDOUT: "connection timed out",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable"
}

/** A short, secret-free description such as `connection refused (ECONNREFUSED)`. */
export const transportReason = (error: HttpClientError.HttpClientError): string => {
  const code = networkCode(error.cause)
  const what =
    code === undefined ? "network error" : `${DESCRIPTIONS[code] ?? "network error"} (${code})`
  return error._tag === "ResponseError" ? `${what} while reading the answer` : what
}
