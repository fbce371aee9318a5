// `pnpm bench`: every section in sequence, one process, markdown on stdout (`--help` for usage).
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

const USAGE = `Usage: node bench/src/run.mjs [section...] [--quick] [--write FILE]
  (or pnpm bench [section...] [--quick] [--write FILE], which builds first)

Sections: ${Object.keys(SECTIONS).join(", ")}; with none, all but anatomy (about 3 minutes).
  --quick        a smoke run with few samples (figures mean little)
  --write FILE   also replace the generated block of FILE (docs/benchmarks.md)
Markdown goes to stdout, progress to stderr.`

/** Sections and options from the command line; anything unknown stops before any work. */
const parseArgs = (argv) => {
  const chosen = []
  let target
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    if (a === "--help" || a === "-h") {
      process.stdout.write(`${USAGE}\n`)
      process.exit(0)
    } else if (a === "--write") {
      target = argv[++i]
      if (target === undefined || target.startsWith("--") || Object.hasOwn(SECTIONS, target))
        usageError("--write needs a file, e.g. --write docs/benchmarks.md")
    } else if (a === "--quick") {
      // read by lib.mjs
    } else if (Object.hasOwn(SECTIONS, a)) {
      chosen.push(a)
    } else {
      usageError(`unknown ${a.startsWith("-") ? "option" : "section"} '${a}'`)
    }
  }
  return { names: chosen.length > 0 ? chosen : DEFAULT, target }
}

function usageError(message) {
  process.stderr.write(`bench: ${message}\n\n${USAGE}\n`)
  process.exit(2)
}

const { names, target } = parseArgs(process.argv.slice(2))

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
