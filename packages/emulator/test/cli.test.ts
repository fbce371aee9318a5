import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process"
import { existsSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "vitest"
import { DEMO } from "../src/index.js"

const CLI = fileURLToPath(new URL("../dist/cli.js", import.meta.url))

function run(args: ReadonlyArray<string>): ChildProcessWithoutNullStreams {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: build the package first`)
  return spawn(process.execPath, [CLI, ...args])
}

function exit(child: ChildProcessWithoutNullStreams) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString()
    })
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString()
    })
    child.on("close", (code) => resolve({ code, stdout, stderr }))
  })
}

function firstUrl(child: ChildProcessWithoutNullStreams): Promise<string> {
  return new Promise((resolve, reject) => {
    let seen = ""
    child.stdout.on("data", (chunk: Buffer) => {
      seen += chunk.toString()
      const match = /listening on (http:\/\/127\.0\.0\.1:\d+)\n/.exec(seen)
      if (match?.[1] !== undefined) resolve(match[1])
    })
    child.on("close", () => reject(new Error(`The CLI exited before printing its URL:\n${seen}`)))
  })
}

describe("trackstar-emulator CLI", () => {
  it("serves the demo connections, prints how to use them, and stops on SIGTERM", async () => {
    const child = run(["--port", "0"])
    const exited = exit(child)
    const url = await firstUrl(child)
    const reply = await fetch(`${url}/connections`, {
      method: "PATCH",
      headers: {
        "x-trackstar-api-key": DEMO.apiKey,
        "x-trackstar-access-token": "emulator-demo-access-token",
        "content-type": "application/json"
      },
      body: JSON.stringify({ customer_id: "from-cli-test" })
    })
    expect(reply.status).toBe(200)
    expect(await reply.json()).toStrictEqual({
      id: "conn_demo_default",
      object: "connection",
      updated: true
    })
    child.kill("SIGTERM")
    const { code, stdout } = await exited
    expect(code).toBe(0)
    expect(stdout).toContain(
      `TRACKSTAR_BASE_URL=${url} TRACKSTAR_API_KEY=${DEMO.apiKey} TRACKSTAR_ACCESS_TOKEN=emulator-demo-access-token`
    )
    for (const connection of DEMO.connections) {
      expect(stdout).toContain(connection.name)
      expect(stdout).toContain(connection.accessToken)
      expect(stdout).toContain(connection.id)
    }
  })

  it.each([
    [["--bogus"], /bogus/],
    [["--port", "abc"], /--port/],
    [["--port"], /port/],
    [["extra"], /extra/]
  ])("exits 2 on bad flags %j, saying what was wrong", async (args, message) => {
    const { code, stderr, stdout } = await exit(run(args))
    expect(code).toBe(2)
    expect(stderr).toMatch(message)
    expect(stdout).toBe("")
  })

  it("exits 1 with a message on a non-loopback host", async () => {
    const { code, stderr } = await exit(run(["--host", "0.0.0.0"]))
    expect(code).toBe(1)
    expect(stderr).toMatch(/loopback/)
  })

  it("prints help and version", async () => {
    const help = await exit(run(["--help"]))
    expect([help.code, help.stdout]).toStrictEqual([0, expect.stringContaining("--no-rate-limit")])
    const version = await exit(run(["--version"]))
    expect([version.code, version.stdout]).toStrictEqual([0, "0.1.0\n"])
  })
})
