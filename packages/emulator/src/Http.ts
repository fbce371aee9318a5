import { randomBytes } from "node:crypto"
import type { IncomingMessage, ServerResponse } from "node:http"

const MAX_BODY_BYTES = 1024 * 1024

/** A fresh request id in Trackstar's style: `req_` and 24 hex characters. */
export const newRequestId = (): string => `req_${randomBytes(12).toString("hex")}`

/** The value of a single-valued request header, or undefined when absent or empty. */
export function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name]
  return typeof value === "string" && value !== "" ? value : undefined
}

/** Every request header, lower-cased, with repeated values joined. */
export function headersOf(req: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {}
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(", ") : value
  }
  return headers
}

/** Reads the request body as UTF-8 text; `tooLarge` when it passes 1 MiB (the rest is discarded). */
export function readBody(req: IncomingMessage): Promise<{ text: string; tooLarge: boolean }> {
  return new Promise((resolve, reject) => {
    const chunks: Array<Buffer> = []
    let size = 0
    req.on("data", (chunk: Buffer) => {
      size += chunk.length
      if (size <= MAX_BODY_BYTES) chunks.push(chunk)
    })
    req.on("end", () =>
      resolve({ text: Buffer.concat(chunks).toString("utf8"), tooLarge: size > MAX_BODY_BYTES })
    )
    req.on("error", reject)
  })
}

/** Sends a JSON response. */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body)
  res.writeHead(status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(text)
  })
  res.end(text)
}

/** Sends a Trackstar error body, `{"error", "origin": "trackstar", ...extra}`. */
export function sendError(
  res: ServerResponse,
  status: number,
  error: string,
  extra: Readonly<Record<string, unknown>> = {}
): void {
  sendJson(res, status, { error, origin: "trackstar", ...extra })
}

/** Sends a 405 with the `Allow` header. */
export function sendMethodNotAllowed(res: ServerResponse, method: string, allow: string): void {
  res.setHeader("allow", allow)
  sendError(res, 405, `Method ${method} is not allowed here; allowed: ${allow}`)
}

/** Sends an empty 204. */
export function sendNoContent(res: ServerResponse): void {
  res.writeHead(204)
  res.end()
}
