// The Streamable HTTP transport as remote agents use it: the built server spawned with --http,
// the SDK's StreamableHTTPClientTransport, and raw requests for the protections.
import { type ChildProcess, spawn } from "node:child_process"
import { request as httpRequest } from "node:http"
import { type AddressInfo, createServer as createNetServer } from "node:net"
import { Client } from "@modelcontextprotocol/sdk/client/index.js"
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js"
import { CallToolResultSchema } from "@modelcontextprotocol/sdk/types.js"
import { type Emulator, start } from "@trackstar-mcp/emulator"
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest"
import { API_KEY, INITIALIZE, MAIN, TOKEN } from "./support.js"
import { until } from "./wait.js"

const AUTH = "mcp_bearer_b94d27b9934d3e08a52e52d7da7dabfa"
let emulator: Emulator
const servers: Array<{ child: ChildProcess; stderr: () => string }> = []
const written: Array<string> = []

beforeAll(async () => {
  emulator = await start({
    apiKey: API_KEY,
    connections: [{ name: "main", accessToken: TOKEN, id: "conn_http" }]
  })
})
beforeEach(() => {
  emulator.clearFaults()
  emulator.clearRequests()
})
afterEach(async () => {
  for (const s of servers.splice(0)) {
    if (s.child.exitCode === null) {
      const exited = new Promise((resolve) => s.child.once("exit", resolve))
      s.child.kill("SIGTERM")
      await exited
    }
    written.push(s.stderr())
  }
})
afterAll(async () => {
  await emulator.stop()
  for (const secret of [API_KEY, TOKEN, AUTH]) expect(written.join("\n")).not.toContain(secret)
})

/** Spawns `main.js --http --port 0` and waits for the URL it logs. */
const serve = async (args: Array<string> = [], env: Record<string, string> = {}) => {
  const child = spawn(process.execPath, [MAIN, "--http", "--port", "0", ...args], {
    env: {
      PATH: process.env.PATH ?? "",
      TRACKSTAR_BASE_URL: emulator.url,
      TRACKSTAR_API_KEY: API_KEY,
      TRACKSTAR_ACCESS_TOKEN: TOKEN,
      ...env
    },
    stdio: ["ignore", "pipe", "pipe"]
  })
  let stderr = ""
  let stdout = ""
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString()
  })
  child.stdout?.on("data", (chunk: Buffer) => {
    stdout += chunk.toString()
  })
  servers.push({ child, stderr: () => stderr + stdout })
  await until(
    () => /listening on (\S+)/.test(stderr) || child.exitCode !== null,
    10_000,
    "the server to listen"
  )
  const url = /listening on (\S+)/.exec(stderr)?.[1]
  if (url === undefined) throw new Error(`server did not start: ${stderr}`)
  return { url, child, stderr: () => stderr }
}

/** Starts `main.js --http` with `args` and waits for it to exit, as it must when it cannot start. */
const startFailure = async (args: Array<string>) => {
  const child = spawn(process.execPath, [MAIN, "--http", ...args], {
    env: { PATH: process.env.PATH ?? "", TRACKSTAR_API_KEY: API_KEY },
    stdio: ["ignore", "pipe", "pipe"]
  })
  let stderr = ""
  child.stderr?.on("data", (c: Buffer) => {
    stderr += c.toString()
  })
  const code = await new Promise((resolve) => child.on("exit", resolve))
  return { code, stderr }
}

const connectHttp = async (url: string, headers: Record<string, string> = {}) => {
  const client = new Client({ name: "http-e2e", version: "0" })
  await client.connect(
    new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } })
  )
  return client
}

/** A raw request, for headers the SDK client would never send. */
const raw = (url: string, headers: Record<string, string>, body?: unknown) =>
  new Promise<{ status: number; body: string }>((resolve, reject) => {
    const target = new URL(url)
    const req = httpRequest(
      {
        host: target.hostname,
        port: target.port,
        path: target.pathname,
        method: body === undefined ? "GET" : "POST",
        headers: {
          "content-type": "application/json",
          accept: "application/json, text/event-stream",
          ...headers
        }
      },
      (res) => {
        let text = ""
        res.on("data", (c: Buffer) => {
          text += c.toString()
        })
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }))
      }
    )
    req.on("error", reject)
    req.end(body === undefined ? undefined : JSON.stringify(body))
  })

describe("Streamable HTTP", () => {
  it("serves tools/list and tools/call at /mcp on 127.0.0.1", async () => {
    const { url } = await serve()
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/mcp$/)
    const client = await connectHttp(url)
    expect((await client.listTools()).tools.map((t) => t.name)).toStrictEqual(["update_connection"])
    const result = CallToolResultSchema.parse(
      await client.callTool({ name: "update_connection", arguments: { customer_id: "over-http" } })
    )
    expect(result.structuredContent).toMatchObject({ connection_id: "conn_http", updated: true })
    expect(emulator.connection(TOKEN)?.customer_id).toBe("over-http")
    await client.close()
  })

  it("answers the health endpoint", async () => {
    const { url } = await serve()
    const health = await raw(url.replace(/\/mcp$/, "/healthz"), {})
    expect(health.status).toBe(200)
    expect(JSON.parse(health.body)).toMatchObject({ status: "ok", sessions: 0 })
  })

  it("requires the bearer token when one is set, and refuses a wrong one", async () => {
    const { url } = await serve([], { TRACKSTAR_MCP_AUTH_TOKEN: AUTH })
    expect((await raw(url, {}, INITIALIZE)).status).toBe(401)
    expect((await raw(url, { authorization: "Bearer not-the-token" }, INITIALIZE)).status).toBe(401)
    await expect(connectHttp(url)).rejects.toThrow()
    // The scheme is case-insensitive, as HTTP says.
    expect((await raw(url, { authorization: `bearer ${AUTH}` }, INITIALIZE)).status).toBe(200)
    const client = await connectHttp(url, { authorization: `Bearer ${AUTH}` })
    expect((await client.listTools()).tools).toHaveLength(1)
    await client.close()
  })

  it("keeps the variable's token when --auth-token is given empty", async () => {
    const { url } = await serve(["--auth-token", ""], { TRACKSTAR_MCP_AUTH_TOKEN: AUTH })
    expect((await raw(url, {}, INITIALIZE)).status).toBe(401)
  })

  it("refuses a foreign Origin and a foreign Host (DNS rebinding)", async () => {
    const { url } = await serve()
    const origin = await raw(url, { origin: "https://evil.example" }, INITIALIZE)
    expect(origin.status).toBe(403)
    expect(origin.body).toContain("Origin")
    const host = await raw(url, { host: "evil.example:80" }, INITIALIZE)
    expect(host.status).toBe(403)
    expect(host.body).toContain("Host")
    // A loopback origin, as from a local inspector, is fine.
    expect((await raw(url, { origin: "http://localhost:6274" }, INITIALIZE)).status).toBe(200)
  })

  it("says how to pick another port when its port is taken", async () => {
    const taken = createNetServer()
    await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve))
    const { port } = taken.address() as AddressInfo
    const { code, stderr } = await startFailure(["--port", String(port)])
    await new Promise((resolve) => taken.close(resolve))
    expect(code).toBe(2)
    expect(stderr).toContain(`port ${port} on 127.0.0.1 is already in use`)
    expect(stderr).toContain("--port")
  })

  it("refuses to bind beyond loopback without a token", async () => {
    const { code, stderr } = await startFailure(["--host", "0.0.0.0", "--port", "0"])
    expect(code).toBe(2)
    expect(stderr).toContain("without a bearer token")
  })

  it("serves many concurrent sessions", async () => {
    const { url } = await serve()
    const clients = await Promise.all(Array.from({ length: 20 }, () => connectHttp(url)))
    const results = await Promise.all(
      clients.map((client, i) =>
        client.callTool({ name: "update_connection", arguments: { customer_id: `c-${i}` } })
      )
    )
    expect(results.every((r) => r.isError !== true)).toBe(true)
    const health = JSON.parse((await raw(url.replace(/\/mcp$/, "/healthz"), {})).body)
    expect(health.sessions).toBe(20)
    await Promise.all(clients.map((c) => c.close()))
  })

  it("lets a call in flight finish on SIGTERM, then exits 0", async () => {
    emulator.inject({ fault: { kind: "delay", ms: 1_000 }, accessToken: TOKEN, times: 1 })
    const { url, child } = await serve()
    const client = await connectHttp(url)
    const pending = client.callTool({
      name: "update_connection",
      arguments: { webhooks_disabled: true }
    })
    await until(() => emulator.requests().length === 1, 5_000, "the call to reach the emulator")
    const exited = new Promise((resolve) => child.once("exit", resolve))
    child.kill("SIGTERM")
    const result = CallToolResultSchema.parse(await pending)
    expect(result.structuredContent).toMatchObject({ updated: true })
    expect(await exited).toBe(0)
  })
})

describe("the Streamable HTTP protocol, spoken raw", () => {
  const JSON_AND_SSE = "application/json, text/event-stream"

  /** A POST with the headers a conforming client sends, unless `headers` says otherwise. */
  const post = async (
    url: string,
    body: unknown,
    session?: string,
    headers: Record<string, string> = {}
  ) => {
    const response = await fetch(url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        accept: JSON_AND_SSE,
        ...(session === undefined ? {} : { "mcp-session-id": session }),
        ...headers
      },
      body: JSON.stringify(body)
    })
    return {
      status: response.status,
      type: response.headers.get("content-type") ?? "",
      session: response.headers.get("mcp-session-id") ?? undefined,
      text: await response.text()
    }
  }

  /** A session after initialize and the initialized notification. */
  const open = async (url: string) => {
    const init = await post(url, INITIALIZE)
    expect(init.status).toBe(200)
    expect(init.type).toBe("application/json")
    expect(JSON.parse(init.text)).toMatchObject({
      id: 1,
      result: { serverInfo: { name: "trackstar-mcp" } }
    })
    const session = init.session
    if (session === undefined) throw new Error("initialize answered without mcp-session-id")
    const initialized = await post(
      url,
      { jsonrpc: "2.0", method: "notifications/initialized" },
      session
    )
    expect(initialized).toMatchObject({ status: 202, text: "" })
    return session
  }

  /** The JSON-RPC messages of an event-stream body. */
  const events = (text: string): Array<unknown> =>
    text
      .split("\n\n")
      .filter((block) => block.trim() !== "")
      .map((block) =>
        JSON.parse(
          block
            .split("\n")
            .find((l) => l.startsWith("data: "))
            ?.slice(6) ?? ""
        )
      )

  it("answers a request with JSON, a batch with an array in request order, and ends a session on DELETE", async () => {
    const { url } = await serve()
    const session = await open(url)
    const list = await post(url, { jsonrpc: "2.0", id: 2, method: "tools/list" }, session)
    expect(list).toMatchObject({ status: 200, type: "application/json", session })
    expect(JSON.parse(list.text).result.tools[0].name).toBe("update_connection")

    // The slow call first: the answers come in request order, not in the order they end.
    emulator.inject({ fault: { kind: "delay", ms: 300 }, accessToken: TOKEN, times: 1 })
    const batch = await post(
      url,
      [
        {
          jsonrpc: "2.0",
          id: "slow",
          method: "tools/call",
          params: { name: "update_connection", arguments: { customer_id: "batched" } }
        },
        { jsonrpc: "2.0", method: "notifications/initialized" },
        { jsonrpc: "2.0", id: "b", method: "ping" },
        { jsonrpc: "2.0", id: "a", method: "tools/list" }
      ],
      session
    )
    expect(batch.status).toBe(200)
    const answers = JSON.parse(batch.text)
    expect(answers.map((m: { id: string }) => m.id)).toStrictEqual(["slow", "b", "a"])
    expect(answers[0].result.structuredContent).toMatchObject({ updated: true })

    const get = await fetch(url, {
      headers: { accept: "text/event-stream", "mcp-session-id": session }
    })
    expect(get.status).toBe(405)
    expect(get.headers.get("allow")).toBe("POST, DELETE")

    const deleted = await fetch(url, { method: "DELETE", headers: { "mcp-session-id": session } })
    expect(deleted.status).toBe(200)
    expect((await post(url, { jsonrpc: "2.0", id: 3, method: "ping" }, session)).status).toBe(404)
  })

  it("refuses what it cannot take with a status and a message that says what to send", async () => {
    const { url } = await serve()
    const session = await open(url)
    const ping = { jsonrpc: "2.0", id: 9, method: "ping" }
    const cases = [
      [await post(url, ping), 400, /initialize first/],
      [await post(url, ping, "no-such-session"), 404, /Session not found/],
      [await post(url, ping, session, { "content-type": "text/plain" }), 415, /application\/json/],
      [await post(url, ping, session, { accept: "text/html" }), 406, /Not Acceptable/],
      [await post(url, ping, session, { "mcp-protocol-version": "1999-01-01" }), 400, /1999-01-01/],
      [await post(url, { id: 9, method: "ping" }, session), 400, /not a JSON-RPC 2.0/],
      [await post(url, [], session), 400, /batch of 1 to/],
      [await post(url, INITIALIZE, session), 400, /already initialized/]
    ] as const
    for (const [answer, status, message] of cases) {
      expect(answer.status).toBe(status)
      expect(JSON.parse(answer.text).error.message).toMatch(message)
    }
    // None of that broke the session.
    expect((await post(url, ping, session)).status).toBe(200)
  })

  it("switches a call's answer to an event stream when progress comes first, and stays JSON for a JSON-only client", async () => {
    const { url } = await serve([], { TRACKSTAR_RETRY_BASE_DELAY_MS: "10" })
    const session = await open(url)
    const call = (id: number, accept: string) =>
      post(
        url,
        {
          jsonrpc: "2.0",
          id,
          method: "tools/call",
          params: {
            name: "update_connection",
            arguments: { customer_id: `progress-${id}` },
            _meta: { progressToken: `p${id}` }
          }
        },
        session,
        { accept }
      )
    emulator.inject({ fault: { kind: "status", status: 503 }, accessToken: TOKEN, times: 1 })
    const streamed = await call(4, JSON_AND_SSE)
    expect(streamed).toMatchObject({ status: 200, type: "text/event-stream", session })
    expect(events(streamed.text)).toMatchObject([
      {
        method: "notifications/progress",
        params: { progressToken: "p4", message: expect.stringMatching(/503/) }
      },
      { id: 4, result: { structuredContent: { updated: true, attempts: 2 } } }
    ])

    emulator.inject({ fault: { kind: "status", status: 503 }, accessToken: TOKEN, times: 1 })
    const plain = await call(5, "application/json")
    expect(plain).toMatchObject({ status: 200, type: "application/json" })
    expect(JSON.parse(plain.text)).toMatchObject({
      id: 5,
      result: { structuredContent: { attempts: 2 } }
    })
  })

  const callRequest = (id: number | string, customerId: string) => ({
    jsonrpc: "2.0",
    id,
    method: "tools/call",
    params: { name: "update_connection", arguments: { customer_id: customerId } }
  })
  const cancel = (requestId: unknown, reason: unknown = "test") => ({
    jsonrpc: "2.0",
    method: "notifications/cancelled",
    params: { requestId, reason }
  })

  it("ends a cancelled call's POST with nothing in it and aborts its request to Trackstar", async () => {
    const { url } = await serve()
    const session = await open(url)
    for (const [id, accept, expected] of [
      [7, JSON_AND_SSE, { status: 200, type: "text/event-stream", text: "" }],
      [8, "application/json", { status: 202, text: "" }]
    ] as const) {
      emulator.clearRequests()
      emulator.inject({ fault: { kind: "hang" }, accessToken: TOKEN, times: 1 })
      const pending = post(url, callRequest(id, "never"), session, { accept })
      await until(() => emulator.requests().length === 1, 5_000, "the call to reach the emulator")
      expect((await post(url, cancel(id), session)).status).toBe(202)
      expect(await pending).toMatchObject(expected)
      await until(
        () => emulator.requests()[0]?.closedByClient === true,
        5_000,
        "the server to abort its request"
      )
    }
  })

  it("ignores a cancellation the server does not act on: the call runs on and is answered", async () => {
    const { url } = await serve()
    const session = await open(url)
    // The SDK acts on no cancellation of id 0, nor on one whose reason is not a string.
    for (const [id, reason] of [
      [0, "test"],
      [9, 5]
    ] as const) {
      emulator.inject({ fault: { kind: "delay", ms: 300 }, accessToken: TOKEN, times: 1 })
      const pending = post(url, callRequest(id, `kept-${id}`), session)
      await until(() => emulator.requests().length > 0, 5_000, "the call to reach the emulator")
      expect((await post(url, cancel(id, reason), session)).status).toBe(202)
      const answer = await pending
      expect(answer.status).toBe(200)
      expect(JSON.parse(answer.text)).toMatchObject({
        id,
        result: { structuredContent: { updated: true } }
      })
      emulator.clearRequests()
    }
  })

  it("refuses a request id still running from a POST whose client left, and frees it once answered", async () => {
    emulator.inject({ fault: { kind: "delay", ms: 500 }, accessToken: TOKEN, times: 1 })
    const { url } = await serve()
    const session = await open(url)
    const gone = new AbortController()
    const first = fetch(url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        accept: JSON_AND_SSE,
        "mcp-session-id": session
      },
      body: JSON.stringify(callRequest(20, "first")),
      signal: gone.signal
    }).catch(() => "aborted")
    await until(() => emulator.requests().length === 1, 5_000, "the call to reach the emulator")
    gone.abort()
    expect(await first).toBe("aborted")
    const reused = await post(url, callRequest(20, "second"), session)
    expect(reused.status).toBe(400)
    expect(JSON.parse(reused.text).error.message).toMatch(/already in use.*use a new id/)
    // The first call still ran to its end (leaving was no cancellation); then the id is free.
    await until(() => emulator.connection(TOKEN)?.customer_id === "first", 5_000, "the first call")
    let again = await post(url, callRequest(20, "second"), session)
    for (let i = 0; i < 50 && again.status === 400; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20))
      again = await post(url, callRequest(20, "second"), session)
    }
    expect(JSON.parse(again.text)).toMatchObject({
      id: 20,
      result: { content: [{ text: expect.stringContaining('"second"') }] }
    })
  })

  it("streams an answer still silent after 10 s, so that no client or proxy gives up on it", async () => {
    emulator.inject({ fault: { kind: "delay", ms: 10_500 }, accessToken: TOKEN, times: 1 })
    const { url } = await serve([], { TRACKSTAR_TIMEOUT_MS: "20000" })
    const session = await open(url)
    const started = Date.now()
    const slow = await post(url, callRequest(40, "slow"), session)
    expect(Date.now() - started).toBeGreaterThanOrEqual(10_000)
    expect(slow).toMatchObject({ status: 200, type: "text/event-stream" })
    expect(events(slow.text)).toMatchObject([
      { id: 40, result: { structuredContent: { updated: true } } }
    ])
  }, 20_000)

  it("answers a call still running when its session is deleted with an error, and gives a stream-only client its headers at once", async () => {
    emulator.inject({ fault: { kind: "hang" }, accessToken: TOKEN, times: 1 })
    const { url } = await serve()
    const session = await open(url)
    const response = await fetch(url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        accept: "text/event-stream",
        "mcp-session-id": session
      },
      body: JSON.stringify(callRequest(30, "never"))
    })
    // The headers came before any answer: the call still hangs at the emulator.
    expect(response.headers.get("content-type")).toBe("text/event-stream")
    await until(() => emulator.requests().length === 1, 5_000, "the call to reach the emulator")
    const deleted = await fetch(url, { method: "DELETE", headers: { "mcp-session-id": session } })
    expect(deleted.status).toBe(200)
    expect(events(await response.text())).toMatchObject([
      { id: 30, error: { message: expect.stringMatching(/session was closed/) } }
    ])
    await until(
      () => emulator.requests()[0]?.closedByClient === true,
      5_000,
      "the server to abort its request"
    )
  })
})
