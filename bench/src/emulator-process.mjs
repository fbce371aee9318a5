// The emulator in a process of its own, driven over IPC by the benchmarks: its request
// handling then does not share an event loop (or a core) with the client being measured.
import { start } from "@trackstar-mcp/emulator"

let emulator

const ops = {
  start: async (options) => {
    emulator = await start(options)
    return { url: emulator.url, apiKey: emulator.apiKey }
  },
  inject: (rule) => emulator.inject(rule),
  clearFaults: () => emulator.clearFaults(),
  clearRequests: () => emulator.clearRequests(),
  // Only what the benchmarks read, so a large log crosses the IPC channel quickly.
  requests: () =>
    emulator.requests().map((r) => ({
      at: r.at,
      status: r.status,
      token: r.headers["x-trackstar-access-token"] ?? "",
      body: r.body,
      closedByClient: r.closedByClient
    })),
  stop: async () => {
    await emulator?.stop()
    setImmediate(() => process.exit(0))
  }
}

process.on("message", async ({ id, op, args }) => {
  try {
    const result = await ops[op](args)
    process.send({ id, result })
  } catch (error) {
    process.send({ id, error: error instanceof Error ? error.message : String(error) })
  }
})
process.on("disconnect", () => process.exit(0))
