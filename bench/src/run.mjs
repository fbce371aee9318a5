// `pnpm bench`: every section in sequence, one process, markdown on stdout.
//   node bench/src/run.mjs [core] [mcp] [cold] [pacing] [scaling] [anatomy] [--quick] [--write FILE]
// `anatomy` (where the core's per-call cost goes) runs only when named.
// With --write, the figures replace the generated part of FILE (between the bench markers),
// leaving the hand-written text around it alone.
import { execFileSync } from "node:child_process"
import { existsSync, readFileSync, writeFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import * as anatomy from "./anatomy.mjs"
import * as coldStart from "./cold-start.mjs"
import * as coreVsFetch from "./core-vs-fetch.mjs"
import { machine, QUICK, source, table, verdict } from "./lib.mjs"
import * as mcpOverhead from "./mcp-overhead.mjs"
import * as pacing from "./pacing.mjs"
import * as scaling from "./scaling.mjs"

const SECTIONS = {
  core: coreVsFetch,
  mcp: mcpOverhead,
  cold: coldStart,
  pacing,
  scaling,
  anatomy
}
const DEFAULT = ["core", "mcp", "cold", "pacing", "scaling"]
const BEGIN = "<!-- bench:begin -->"
const END = "<!-- bench:end -->"

const argv = process.argv.slice(2)
const writeAt = argv.indexOf("--write")
const target = writeAt >= 0 ? argv[writeAt + 1] : undefined
if (writeAt >= 0 && target === undefined) throw new Error("--write needs a file")
const chosen = argv.filter((a, i) => a in SECTIONS && (writeAt < 0 || i !== writeAt + 1))
const names = chosen.length > 0 ? chosen : DEFAULT

const m = machine()
const before = source()
const header = [
  `Measured ${m.date} on ${m.cpu}, ${m.cores} cores, ${m.memory} RAM, ${m.os}, Node ${m.node}; load average at the start ${m.load} (the machine is shared: read ratios, not absolutes).${QUICK ? " **--quick run: too few samples to mean much.**" : ""}`,
  "",
  `Source: commit ${before.commit}${before.dirty.length > 0 ? ` with uncommitted changes in ${before.dirty.join(", ")}` : ""}; apps/mcp/dist/server.js ${before.bundle}.`,
  "",
  `Command: \`pnpm bench\` (builds, then \`node bench/src/run.mjs\`); one section alone: \`node bench/src/run.mjs <section>\` after \`pnpm build\`.`
].join("\n")
process.stdout.write(`${header}\n\n`)

const results = []
for (const name of names) {
  const started = performance.now()
  process.stderr.write(`bench: ${name}...\n`)
  const result = await SECTIONS[name].run()
  const seconds = (performance.now() - started) / 1000
  results.push({ ...result, seconds })
  const text = `## ${result.title}\n\nCommand: \`node bench/src/run.mjs ${name}\` (${seconds.toFixed(0)} s)\n\n${result.markdown}\n`
  process.stdout.write(`${text}\n`)
}

const after = source()
const rebuilt =
  after.bundle === before.bundle
    ? ""
    : `\n\n**apps/mcp/dist/server.js changed during the run (now ${after.bundle}): some figures measure another build.**`
if (rebuilt !== "") process.stderr.write(`bench: ${rebuilt.trim()}\n`)

const judged = results.flatMap((r) =>
  r.verdicts.map((v) => [r.section, v.target, v.figure, verdict(v.met)])
)
const summary =
  judged.length > 0
    ? table(["section", "target", "figure", "verdict"], judged)
    : "No targets in these sections."
process.stdout.write(`## Targets\n\n${summary}${rebuilt}\n`)

if (target !== undefined) {
  const generated = [
    BEGIN,
    header,
    "",
    "## Targets",
    "",
    `${summary}${rebuilt}`,
    "",
    ...results.map(
      (r) =>
        `## ${r.title}\n\nCommand: \`node bench/src/run.mjs ${r.section}\` (${r.seconds.toFixed(0)} s)\n\n${r.markdown}\n`
    ),
    END
  ].join("\n")
  const current = existsSync(target)
    ? readFileSync(target, "utf8")
    : `# Benchmarks\n\n${BEGIN}\n${END}\n`
  const begin = current.indexOf(BEGIN)
  const end = current.indexOf(END)
  if (begin < 0 || end < begin) throw new Error(`${target} has no ${BEGIN} ... ${END} block`)
  writeFileSync(target, current.slice(0, begin) + generated + current.slice(end + END.length))
  // The repository's formatter pads markdown tables; `pnpm lint` checks docs too.
  const biome = fileURLToPath(new URL("../../node_modules/.bin/biome", import.meta.url))
  try {
    execFileSync(biome, ["format", "--write", target], { stdio: "ignore" })
  } catch {
    process.stderr.write(`bench: could not run ${biome} format on ${target}; run pnpm format\n`)
  }
  process.stderr.write(`bench: figures written to ${target}\n`)
}
