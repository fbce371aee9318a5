// Bundles the CLI into dist/server.js: a desktop client's cold start then reads
// one file instead of resolving hundreds of modules. What only --http or
// --emulator needs is split into dist/chunks/ and loaded only with those flags.
// dist/main.js, the file clients start, is a one-line entry that imports it.
import { rmSync, writeFileSync } from "node:fs"
import { build } from "esbuild"

/**
 * The SDK's server imports Ajv only to build its default elicitation
 * validator; Server.ts passes its own, so Ajv is replaced by a stub that
 * fails loudly if anything ever constructs it.
 */
const withoutAjv = {
  name: "without-ajv",
  setup(build) {
    build.onResolve({ filter: /^ajv(-formats)?$/ }, (args) =>
      args.importer.includes("validation/ajv-provider")
        ? { path: args.path, namespace: "ajv-stub" }
        : undefined
    )
    build.onLoad({ filter: /.*/, namespace: "ajv-stub" }, () => ({
      contents:
        "export default class AjvUnavailable { constructor() { throw new Error('Ajv is not bundled: trackstar-mcp passes its own jsonSchemaValidator') } }",
      loader: "js"
    }))
  }
}

// Chunk names carry a content hash: without this, every build would leave the last one's behind.
rmSync("dist/chunks", { recursive: true, force: true })

await build({
  entryPoints: { server: "src/cli.ts" },
  outdir: "dist",
  splitting: true,
  chunkNames: "chunks/[name]-[hash]",
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  minify: true,
  sourcemap: "linked",
  legalComments: "linked",
  plugins: [withoutAjv],
  // Some dependencies are CommonJS and call require(); give the ESM bundle one.
  banner: {
    js: 'import { createRequire as __createRequire } from "node:module"; const require = __createRequire(import.meta.url);'
  },
  logLevel: "warning"
})

// Started as the entry module itself, the bundle peaks about 13 MiB higher in RSS during
// start-up than when an entry imports it (same JS heap by --trace-gc, so not garbage; seen
// with Node 20, mechanism unknown; bench: `node bench/src/run.mjs cold`). Hence this entry.
writeFileSync("dist/main.js", '#!/usr/bin/env node\nimport "./server.js"\n', { mode: 0o755 })
