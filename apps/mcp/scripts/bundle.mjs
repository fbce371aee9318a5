// Bundles the CLI into one ESM file, dist/main.js: a desktop client's cold
// start then reads one file instead of resolving hundreds of modules.
import { build } from "esbuild"

await build({
  entryPoints: ["src/cli.ts"],
  outfile: "dist/main.js",
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  minify: true,
  keepNames: true,
  sourcemap: "linked",
  legalComments: "linked",
  // Some dependencies are CommonJS and call require(); give the ESM bundle one.
  banner: {
    js: 'import { createRequire as __createRequire } from "node:module"; const require = __createRequire(import.meta.url);'
  },
  logLevel: "warning"
})
