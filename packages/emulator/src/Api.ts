import type { IncomingMessage, ServerResponse } from "node:http"
import { header, sendError, sendJson, sendMethodNotAllowed } from "./Http.js"
import type { FixedWindowLimiter } from "./RateLimiter.js"
import type { ConnectionStore } from "./State.js"
import { validateUpdateBody } from "./Validation.js"

/** What the emulated Trackstar routes work with. */
export interface ApiContext {
  readonly apiKey: string
  readonly store: ConnectionStore
  /** Undefined when rate limiting is off. */
  readonly limits:
    | { readonly writes: FixedWindowLimiter; readonly reads: FixedWindowLimiter }
    | undefined
}

const API_KEY = "x-trackstar-api-key"
const ACCESS_TOKEN = "x-trackstar-access-token"
const CONNECTION_PATH = /^\/connections\/([^/]+)$/

// Messages name the header, never its value.
function checkApiKey(ctx: ApiContext, req: IncomingMessage, res: ServerResponse): boolean {
  const apiKey = header(req, API_KEY)
  if (apiKey === undefined) sendError(res, 401, `Missing required header ${API_KEY}`)
  else if (apiKey !== ctx.apiKey) sendError(res, 401, `Invalid API key in header ${API_KEY}`)
  else return true
  return false
}

function checkAccessToken(ctx: ApiContext, req: IncomingMessage, res: ServerResponse) {
  const token = header(req, ACCESS_TOKEN)
  if (token === undefined) sendError(res, 401, `Missing required header ${ACCESS_TOKEN}`)
  else if (!ctx.store.hasToken(token))
    sendError(res, 401, `Invalid access token in header ${ACCESS_TOKEN}`)
  else return token
  return undefined
}

function withinLimit(limiter: FixedWindowLimiter | undefined, key: string, res: ServerResponse) {
  if (limiter === undefined) return true
  const decision = limiter.take(key, Date.now())
  res.setHeader("x-ratelimit-limit", decision.limit)
  res.setHeader("x-ratelimit-remaining", decision.remaining)
  res.setHeader("x-ratelimit-reset", decision.reset)
  if (decision.allowed) return true
  res.setHeader("retry-after", decision.retryAfter)
  sendError(res, 429, "Rate limit exceeded")
  return false
}

function updateConnection(
  ctx: ApiContext,
  req: IncomingMessage,
  res: ServerResponse,
  body: string
) {
  if (!checkApiKey(ctx, req, res)) return
  const token = checkAccessToken(ctx, req, res)
  if (token === undefined) return
  if (!withinLimit(ctx.limits?.writes, token, res)) return
  const result = validateUpdateBody(body)
  if (!result.ok) {
    sendError(res, 422, "Validation error", { detail: { json: result.errors } })
    return
  }
  const outcome = ctx.store.update(token, result.update)
  if (outcome === undefined) sendError(res, 401, `Invalid access token in header ${ACCESS_TOKEN}`)
  else sendJson(res, 200, { id: outcome.id, object: "connection", updated: outcome.updated })
}

function getConnection(ctx: ApiContext, req: IncomingMessage, res: ServerResponse, rawId: string) {
  if (!checkApiKey(ctx, req, res)) return
  // GET /connections/:id carries no access token, so reads are counted per API key.
  if (!withinLimit(ctx.limits?.reads, ctx.apiKey, res)) return
  let id = rawId
  try {
    id = decodeURIComponent(rawId)
  } catch {
    // A malformed escape cannot name a connection; look the raw text up, which fails.
  }
  const state = ctx.store.byId(id)
  if (state === undefined) sendError(res, 404, "Connection not found", { id })
  else sendJson(res, 200, { ...state, object: "connection" })
}

/** Answers a request to the emulated Trackstar API (everything outside `/_emulator/`). */
export function handleApi(
  ctx: ApiContext,
  req: IncomingMessage,
  res: ServerResponse,
  pathname: string,
  body: string
): void {
  const method = req.method ?? "GET"
  if (pathname === "/connections") {
    if (method === "PATCH") updateConnection(ctx, req, res, body)
    else sendMethodNotAllowed(res, method, "PATCH")
    return
  }
  const match = CONNECTION_PATH.exec(pathname)
  if (match?.[1] !== undefined) {
    if (method === "GET") getConnection(ctx, req, res, match[1])
    else sendMethodNotAllowed(res, method, "GET")
    return
  }
  sendError(res, 404, "Not found")
}
