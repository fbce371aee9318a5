// A soak over Streamable HTTP: many SDK client sessions calling update_connection at once
// against the emulator (its real 50 writes/s limiter on), with faults injected in 10% of the
// calls. Every call must end with a tool result, as expected for its fault; the server's heap
// (after a full GC) and its sockets must not grow. Short by default; `STRESS=1` (`pnpm stress`)
// runs 10,000 calls across 50 sessions.
import { Client } from "@modelcontextprotocol/sdk/client/index.js"
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js"
import { CallToolResultSchema } from "@modelcontextprotocol/sdk/types.js"
import { type Emulator, type Fault, start } from "@trackstar-mcp/emulator"
import { afterAll, beforeAll, expect, it } from "vitest"
import { type HttpServer, prng, rssOf, STRESS, serveHttp, socketsOf } from "./stress-support.js"
import { API_KEY } from "./support.js"
import { until } from "./wait.js"

const CALLS = STRESS ? 10_000 : 500
const SESSIONS = STRESS ? 50 : 10
const FAULT_RATE = 0.1
const MAX_ATTEMPTS = 3
const SEED = Number(process.env.SOAK_SEED ?? Date.now() % 2 ** 31)
/** Heap after a full GC may differ by this much between quiet points without a leak. */
const HEAP_TOLERANCE_MIB = 8

/** An injected fault and what the call must end with. */
interface Plan {
  readonly name: string
  readonly fault: Fault
  /** How many requests the fault answers. */
  readonly times: number
  readonly expect: "result" | "isError"
}

const PLANS: ReadonlyArray<Plan> = [
  {
    name: "503 then retried",
    fault: { kind: "status", status: 503, headers: { "retry-after": "0" } },
    times: 1,
    expect: "result"
  },
  { name: "connection reset then retried", fault: { kind: "drop" }, times: 1, expect: "result" },
  { name: "delayed 30 ms", fault: { kind: "delay", ms: 30 }, times: 1, expect: "result" },
  {
    name: "500 until retries are exhausted",
    fault: { kind: "status", status: 500, body: { error: "boom" } },
    times: MAX_ATTEMPTS,
    expect: "isError"
  },
  {
    name: "HTML where JSON was promised",
    fault: {
      kind: "malformed",
      status: 200,
      contentType: "application/json",
      body: "<html>oops</html>"
    },
    times: 1,
    expect: "isError"
  }
]

let emulator: Emulator
let server: HttpServer
const tokens = Array.from(
  { length: SESSIONS },
  (_, i) => `tok_SOAK_${String(i).padStart(2, "0")}_0e5c1f9a7b3d48c6a2f1e0d9c8b7a6f5`
)

beforeAll(async () => {
  emulator = await start({
    apiKey: API_KEY,
    connections: tokens.map((accessToken, i) => ({
      name: `s${i}`,
      accessToken,
      id: `conn_soak_${i}`
    })),
    maxRecordedRequests: 0
  })
  server = await serveHttp({
    TRACKSTAR_BASE_URL: emulator.url,
    TRACKSTAR_API_KEY: API_KEY,
    TRACKSTAR_DEFAULT_CONNECTION: "s0",
    TRACKSTAR_MAX_ATTEMPTS: String(MAX_ATTEMPTS),
    TRACKSTAR_RETRY_BASE_DELAY_MS: "5",
    TRACKSTAR_RETRY_MAX_DELAY_MS: "20",
    TRACKSTAR_TIMEOUT_MS: "5000",
    TRACKSTAR_LOG_LEVEL: "warning",
    ...Object.fromEntries(tokens.map((t, i) => [`TRACKSTAR_ACCESS_TOKEN_S${i}`, t]))
  })
}, 30_000)

afterAll(async () => {
  await server?.stop()
  await emulator?.stop()
  expect(server.stderr()).not.toContain(API_KEY)
  for (const token of tokens) expect(server.stderr()).not.toContain(token)
})

const connectHttp = async (url: string) => {
  const transport = new StreamableHTTPClientTransport(new URL(url))
  const client = new Client({ name: "soak", version: "0" })
  await client.connect(transport)
  await client.listTools()
  return { client, transport }
}

it(
  `ends ${CALLS} calls across ${SESSIONS} sessions with ${FAULT_RATE * 100}% faults without losing one or leaking`,
  async () => {
    const random = prng(SEED)
    const socketsBefore = socketsOf(server.pid)
    const sessions = await Promise.all(tokens.map(() => connectHttp(server.url)))
    const outcomes = { result: 0, isError: 0, thrown: 0, unexpected: [] as Array<string> }
    const byPlan = new Map<string, number>()
    const rss: Array<number> = []
    const sampler = setInterval(() => rss.push(rssOf(server.pid)), 1_000)
    let call = 0

    // One session per token, its calls sequential: a fault injected for its token just before
    // a call is consumed by that call's attempts and no other.
    const runSession = async (k: number, count: number) => {
      const session = sessions[k]
      const token = tokens[k]
      if (session === undefined || token === undefined) throw new Error(`no session ${k}`)
      for (let n = 0; n < count; n++) {
        const i = call++
        const plan = random() < FAULT_RATE ? PLANS[Math.floor(random() * PLANS.length)] : undefined
        if (plan !== undefined) {
          emulator.inject({ fault: plan.fault, accessToken: token, times: plan.times })
          byPlan.set(plan.name, (byPlan.get(plan.name) ?? 0) + 1)
        }
        try {
          const result = CallToolResultSchema.parse(
            await session.client.callTool({
              name: "update_connection",
              arguments: {
                customer_id: `soak-${i}`,
                webhooks_disabled: i % 2 === 0,
                connection: `s${k}`
              }
            })
          )
          const got = result.isError === true ? "isError" : "result"
          outcomes[got]++
          const wanted = plan?.expect ?? "result"
          if (got !== wanted) {
            const text = result.content.map((c) => (c.type === "text" ? c.text : c.type)).join(" ")
            outcomes.unexpected.push(`${plan?.name ?? "no fault"}: ${got}: ${text.slice(0, 300)}`)
          }
        } catch (error) {
          outcomes.thrown++
          outcomes.unexpected.push(`${plan?.name ?? "no fault"}: threw ${String(error)}`)
        }
      }
    }
    // Phases end at quiet points (no call in flight), where the heap is measured.
    const phase = (share: number) =>
      Promise.all(sessions.map((_, k) => runSession(k, Math.round((CALLS * share) / SESSIONS))))

    const started = Date.now()
    await phase(0.2)
    const warm = {
      heap: await server.heapAfterGc(),
      rss: rssOf(server.pid),
      sockets: socketsOf(server.pid)
    }
    await phase(0.3)
    const middle = {
      heap: await server.heapAfterGc(),
      rss: rssOf(server.pid),
      sockets: socketsOf(server.pid)
    }
    await phase(0.5)
    const end = {
      heap: await server.heapAfterGc(),
      rss: rssOf(server.pid),
      sockets: socketsOf(server.pid)
    }
    const seconds = (Date.now() - started) / 1000
    clearInterval(sampler)

    await Promise.all(
      sessions.map(async ({ client, transport }) => {
        await transport.terminateSession()
        await client.close()
      })
    )
    // Idle keep-alive sockets to the emulator close after their timeout (about 5 s).
    await until(
      () => socketsOf(server.pid) <= socketsBefore,
      15_000,
      "the server's sockets to close"
    ).catch(() => undefined)
    const after = {
      heap: await server.heapAfterGc(),
      rss: rssOf(server.pid),
      sockets: socketsOf(server.pid)
    }

    const report = {
      seed: SEED,
      calls: call,
      sessions: SESSIONS,
      seconds,
      callsPerSecond: Math.round(call / seconds),
      outcomes: { ...outcomes, unexpected: outcomes.unexpected.slice(0, 10) },
      faults: Object.fromEntries(byPlan),
      heapMiB: [warm.heap, middle.heap, end.heap, after.heap].map((x) => Number(x.toFixed(1))),
      rssMiB: {
        warm: Number(warm.rss.toFixed(1)),
        middle: Number(middle.rss.toFixed(1)),
        end: Number(end.rss.toFixed(1)),
        afterClose: Number(after.rss.toFixed(1)),
        max: Number(Math.max(...rss, end.rss).toFixed(1))
      },
      sockets: {
        before: socketsBefore,
        warm: warm.sockets,
        middle: middle.sockets,
        end: end.sockets,
        afterClose: after.sockets
      }
    }
    console.log(`soak: ${JSON.stringify(report)}`)

    expect(call).toBe(CALLS)
    // Every call ended, with the outcome its fault calls for.
    expect(outcomes.unexpected).toStrictEqual([])
    expect(outcomes.result + outcomes.isError).toBe(CALLS)
    // No growth once warm: heap after a full GC, and sockets (one pool, one connection per session).
    expect(end.heap).toBeLessThan(warm.heap + HEAP_TOLERANCE_MIB)
    expect(after.heap).toBeLessThan(warm.heap + HEAP_TOLERANCE_MIB)
    expect(end.sockets).toBeLessThanOrEqual(warm.sockets + SESSIONS)
    expect(after.sockets).toBeLessThanOrEqual(socketsBefore)
    // Nothing in the server was a defect.
    expect(server.stderr()).not.toContain("failed unexpectedly")
  },
  STRESS ? 900_000 : 60_000
)
