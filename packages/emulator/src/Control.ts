import type { IncomingMessage, ServerResponse } from "node:http"
import { decodeFaultRule, type FaultRules } from "./Faults.js"
import { sendError, sendJson, sendMethodNotAllowed, sendNoContent } from "./Http.js"
import type { ConnectionStore } from "./State.js"

/** What the control API works with. */
export interface ControlContext {
  readonly store: ConnectionStore
  readonly faults: FaultRules
}

/** The path prefix of the control API, which needs no auth and is never rate limited or faulted. */
export const CONTROL_PREFIX = "/_emulator/"

function listConnections(ctx: ControlContext, res: ServerResponse): void {
  // Other processes may see names, ids and state, but never access tokens.
  const connections = ctx.store.list().map(({ name, id, customer_id, webhooks_disabled }) => ({
    name,
    id,
    customer_id,
    webhooks_disabled
  }))
  sendJson(res, 200, connections)
}

function injectFault(ctx: ControlContext, res: ServerResponse, body: string): void {
  let parsed: unknown
  try {
    parsed = JSON.parse(body)
  } catch {
    sendError(res, 400, "The body must be a fault rule as JSON")
    return
  }
  const rule = decodeFaultRule(parsed)
  if (!rule.ok) {
    sendError(res, 400, `Invalid fault rule: ${rule.error}`)
    return
  }
  ctx.faults.add(rule.value)
  sendNoContent(res)
}

/** Answers a control API request (`GET /_emulator/connections`, `POST|DELETE /_emulator/faults`). */
export function handleControl(
  ctx: ControlContext,
  req: IncomingMessage,
  res: ServerResponse,
  pathname: string,
  body: string
): void {
  const method = req.method ?? "GET"
  if (pathname === `${CONTROL_PREFIX}connections`) {
    if (method === "GET") listConnections(ctx, res)
    else sendMethodNotAllowed(res, method, "GET")
  } else if (pathname === `${CONTROL_PREFIX}faults`) {
    if (method === "POST") injectFault(ctx, res, body)
    else if (method === "DELETE") {
      ctx.faults.clear()
      sendNoContent(res)
    } else sendMethodNotAllowed(res, method, "POST, DELETE")
  } else {
    sendError(res, 404, "Not found")
  }
}
