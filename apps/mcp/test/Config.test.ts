// Start-up configuration: where connections come from and how bad settings are refused.
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { FetchHttpClient } from "@effect/platform"
import { Effect, Either, Redacted } from "effect"
import { describe, expect, it } from "vitest"
import { make, resolveConnections } from "../src/Config.js"

const dir = mkdtempSync(join(tmpdir(), "trackstar-config-"))
const file = (name: string, contents: string) => {
  const path = join(dir, name)
  writeFileSync(path, contents)
  return path
}
const SECRET = "tok_CONFIG_SECRET_5feceb66ffc86f38d952786c6d696c79"

const names = (env: NodeJS.ProcessEnv, configFile?: string) =>
  Either.map(resolveConnections({ env, configFile }), (r) => ({
    names: r.connections.map((c) => c.name),
    defaultConnection: r.defaultConnection
  }))
const problem = (env: NodeJS.ProcessEnv, configFile?: string) => {
  const result = resolveConnections({ env, configFile })
  if (Either.isRight(result)) throw new Error("expected a start-up error")
  expect(result.left.message).not.toContain(SECRET)
  return result.left.message
}

describe("connections", () => {
  it("reads TRACKSTAR_ACCESS_TOKEN as default and TRACKSTAR_ACCESS_TOKEN_<NAME> as named ones", () => {
    expect(
      names({ TRACKSTAR_ACCESS_TOKEN: "a", TRACKSTAR_ACCESS_TOKEN_ACME_EU: "b" })
    ).toStrictEqual(Either.right({ names: ["default", "acme-eu"], defaultConnection: "default" }))
  })

  it("treats empty values as unset and picks the only connection as default", () => {
    expect(names({ TRACKSTAR_ACCESS_TOKEN: " ", TRACKSTAR_ACCESS_TOKEN_SOLO: "x" })).toStrictEqual(
      Either.right({ names: ["solo"], defaultConnection: "solo" })
    )
  })

  it("has no default among several unnamed ones", () => {
    expect(names({ TRACKSTAR_ACCESS_TOKEN_A: "1", TRACKSTAR_ACCESS_TOKEN_B: "2" })).toStrictEqual(
      Either.right({ names: ["a", "b"], defaultConnection: undefined })
    )
  })

  it("reads a config file, with inline tokens and tokens from variables", () => {
    const path = file(
      "ok.json",
      JSON.stringify({
        defaultConnection: "globex",
        connections: { acme: { accessToken: "t1" }, globex: { accessTokenEnv: "GLOBEX" } }
      })
    )
    const result = resolveConnections({ env: { GLOBEX: SECRET }, configFile: path })
    expect(Either.map(result, (r) => r.defaultConnection)).toStrictEqual(Either.right("globex"))
    const globex = Either.getOrThrow(result).connections.find((c) => c.name === "globex")
    expect(globex && Redacted.value(globex.accessToken)).toBe(SECRET)
    expect(globex?.source).toBe(`${path} via GLOBEX`)
  })

  it.each([
    [{}, "missing.json", "cannot be read (ENOENT)"],
    [{}, "bad.json", "is not valid JSON"],
    [{}, "shape.json", "connections.Bad Name"],
    [{}, "spaces.json", "connections.acme"],
    [{}, "unset.json", "names GLOBEX_TOKEN, which is not set"],
    [
      { TRACKSTAR_ACCESS_TOKEN_ACME: SECRET },
      "dup.json",
      'connection "acme" is configured twice: by TRACKSTAR_ACCESS_TOKEN_ACME and by'
    ]
  ])("refuses a bad file, naming it and the problem (%#)", (env, name, message) => {
    const contents: Record<string, string> = {
      "bad.json": `{"connections": {"acme": {"accessToken": "${SECRET}"}`,
      "shape.json": JSON.stringify({ connections: { "Bad Name": { accessToken: SECRET } } }),
      // A schema's own message would quote the rejected token; the start-up error must not.
      "spaces.json": JSON.stringify({ connections: { acme: { accessToken: `${SECRET}\n` } } }),
      "unset.json": JSON.stringify({ connections: { globex: { accessTokenEnv: "GLOBEX_TOKEN" } } }),
      "dup.json": JSON.stringify({ connections: { acme: { accessToken: "other" } } })
    }
    const path = contents[name] === undefined ? join(dir, name) : file(name, contents[name] ?? "")
    const text = problem(env, path)
    expect(text).toContain(path)
    expect(text).toContain(message)
  })

  it("refuses a default that is not configured", () => {
    expect(problem({ TRACKSTAR_ACCESS_TOKEN_A: "1", TRACKSTAR_DEFAULT_CONNECTION: "b" })).toBe(
      'TRACKSTAR_DEFAULT_CONNECTION names "b", which is not configured; configured: a'
    )
  })

  it("refuses a variable whose suffix makes no usable name", () => {
    expect(problem({ TRACKSTAR_ACCESS_TOKEN_ÄÖ: "1" })).toContain("is not a usable connection name")
  })
})

describe("client settings", () => {
  const setup = (env: NodeJS.ProcessEnv) =>
    Effect.runPromise(Effect.either(make({ env }).pipe(Effect.provide(FetchHttpClient.layer))))

  it("starts without an API key and says what to set", async () => {
    const result = await setup({})
    const client = Either.getOrThrow(result).client
    expect(Either.isLeft(client) && client.left).toContain("TRACKSTAR_API_KEY is not set")
  })

  it.each([
    [{ TRACKSTAR_API_KEY: SECRET, TRACKSTAR_BASE_URL: "http://example.com" }, "TRACKSTAR_BASE_URL"],
    [{ TRACKSTAR_API_KEY: SECRET, TRACKSTAR_TIMEOUT_MS: "soon" }, "TRACKSTAR_TIMEOUT_MS"],
    [{ TRACKSTAR_API_KEY: SECRET, TRACKSTAR_MAX_ATTEMPTS: "0" }, "TRACKSTAR_MAX_ATTEMPTS"]
  ])("refuses invalid settings, naming the variable (%#)", async (env, variable) => {
    const result = await setup(env)
    if (Either.isRight(result)) throw new Error("expected a start-up error")
    expect(result.left.message).toContain(variable)
    expect(result.left.message).not.toContain(SECRET)
  })

  it("labels a base URL other than production as custom, never as the emulator", async () => {
    const result = await setup({ TRACKSTAR_API_KEY: "k", TRACKSTAR_BASE_URL: "http://127.0.0.1:9" })
    expect(Either.getOrThrow(result).target).toBe("custom")
  })

  it("labels the production API as trackstar", async () => {
    const result = await setup({ TRACKSTAR_API_KEY: "k" })
    expect(Either.getOrThrow(result).target).toBe("trackstar")
  })
})
