import { type IncomingMessage, type ServerResponse, STATUS_CODES } from "node:http"
import type { Fault } from "./Faults.js"

/** Waits some milliseconds; the emulator cancels pending waits when it stops. */
export type Sleep = (ms: number) => Promise<void>

function send(res: ServerResponse, status: number, contentType: string, body: string): void {
  res.statusCode = status
  if (contentType !== "") res.setHeader("content-type", contentType)
  res.setHeader("content-length", Buffer.byteLength(body))
}

// A status fault without a body still answers as Trackstar would: an error body for errors.
const defaultBody = (status: number): string =>
  status >= 400
    ? JSON.stringify({ error: STATUS_CODES[status] ?? "Error", origin: "trackstar" })
    : ""

/**
 * Plays a fault on a request; resolves to true when the request is dealt with (answered, dropped
 * or left hanging), false when it should now be handled normally (after a delay).
 */
export async function playFault(
  fault: Fault,
  req: IncomingMessage,
  res: ServerResponse,
  sleep: Sleep
): Promise<boolean> {
  switch (fault.kind) {
    case "status": {
      const { body } = fault
      const text =
        body === undefined
          ? defaultBody(fault.status)
          : typeof body === "string"
            ? body
            : JSON.stringify(body)
      send(res, fault.status, "application/json", text)
      for (const [name, value] of Object.entries(fault.headers ?? {})) {
        if (value === "") res.removeHeader(name)
        else res.setHeader(name, value)
      }
      res.end(text)
      return true
    }
    case "malformed":
      send(res, fault.status ?? 200, fault.contentType ?? "application/json", fault.body)
      res.end(fault.body)
      return true
    case "delay":
      await sleep(fault.ms)
      return false
    case "drop":
      req.socket.resetAndDestroy()
      return true
    case "hang":
      return true
  }
}
