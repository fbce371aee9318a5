import { Agent, request } from "node:http"
import { describe, expect, it } from "vitest"
import { DEMO, type Emulator, start } from "../src/index.js"
import { patch, send } from "./support.js"

function get(agent: Agent, emulator: Emulator, path: string) {
  return new Promise<{ status: number; reused: boolean }>((resolve, reject) => {
    const req = request(`${emulator.url}${path}`, { agent }, (res) => {
      res.resume()
      res.on("end", () => resolve({ status: res.statusCode ?? 0, reused: req.reusedSocket }))
    })
    req.on("error", reject)
    req.end()
  })
}

/** Waits until a request has reached the emulator, polling on the event loop, not a clock. */
async function reached(emulator: Emulator): Promise<void> {
  while (emulator.requests().length === 0) await new Promise((resolve) => setImmediate(resolve))
}

describe("start and stop", () => {
  it("serves keep-alive sockets and still stops promptly with idle and hanging ones open", async () => {
    const emulator = await start()
    const agent = new Agent({ keepAlive: true, maxSockets: 1 })
    expect((await get(agent, emulator, "/_emulator/connections")).status).toBe(200)
    expect(await get(agent, emulator, "/_emulator/connections")).toStrictEqual({
      status: 200,
      reused: true
    })
    emulator.inject({ fault: { kind: "hang" } })
    const hanging = patch(emulator, {})
    await reached(emulator)
    const started = performance.now()
    await emulator.stop()
    expect(performance.now() - started).toBeLessThan(500)
    await expect(hanging).rejects.toThrow()
    await emulator.stop()
    agent.destroy()
  })

  it("stops promptly during a long delay", async () => {
    const emulator = await start()
    emulator.inject({ fault: { kind: "delay", ms: 60_000 } })
    const delayed = patch(emulator, {})
    await reached(emulator)
    const started = performance.now()
    await emulator.stop()
    expect(performance.now() - started).toBeLessThan(500)
    await expect(delayed).rejects.toThrow()
  })

  it("refuses a non-loopback host and bad options", async () => {
    await expect(start({ host: "0.0.0.0" })).rejects.toThrow(/loopback/)
    await expect(start({ host: "example.com" })).rejects.toThrow(/loopback/)
    await expect(start({ port: 70_000 })).rejects.toThrow(/port/)
    await expect(start({ rateLimit: { writesPerSecond: 0 } })).rejects.toThrow(/writesPerSecond/)
  })

  it("serves the given key and connections, and keeps only the latest requests", async () => {
    const emulator = await start({
      apiKey: "test-key",
      connections: [
        { name: "only", accessToken: "test-token", id: "conn_only", webhooks_disabled: true }
      ],
      maxRecordedRequests: 2
    })
    try {
      expect(emulator.url).toBe(`http://127.0.0.1:${emulator.port}`)
      expect(emulator.apiKey).toBe("test-key")
      expect(emulator.connections()).toStrictEqual([
        {
          name: "only",
          accessToken: "test-token",
          id: "conn_only",
          customer_id: null,
          webhooks_disabled: true
        }
      ])
      const headers = {
        "x-trackstar-api-key": "test-key",
        "x-trackstar-access-token": "test-token"
      }
      const demo = await patch(
        emulator,
        {},
        { "x-trackstar-api-key": DEMO.apiKey, "x-trackstar-access-token": "test-token" }
      )
      expect(demo.status).toBe(401)
      await send(emulator, "PATCH", "/connections", { headers, body: '{"customer_id":"1"}' })
      await send(emulator, "PATCH", "/connections", { headers, body: '{"customer_id":"2"}' })
      expect(emulator.requests().map((r) => r.body)).toStrictEqual([
        '{"customer_id":"1"}',
        '{"customer_id":"2"}'
      ])
      await send(emulator, "PATCH", "/connections", { headers, body: '{"customer_id":"3"}' })
      expect(emulator.requests().map((r) => r.body)).toStrictEqual([
        '{"customer_id":"2"}',
        '{"customer_id":"3"}'
      ])
      expect(emulator.connection("test-token")?.customer_id).toBe("3")
    } finally {
      await emulator.stop()
    }
  })
})
