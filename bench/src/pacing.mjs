// Rate pacing against the emulator's real limiter (50 writes/s per token, fixed one-second
// windows): N tokens, every call started at once through the core's bulk API at unbounded
// concurrency. Rates come from the emulator's own arrival timestamps.
import { Redacted } from "effect"
import { makeCore } from "./core-vs-fetch.mjs"
import {
  API_KEY,
  bodyFor,
  forkEmulator,
  isMain,
  makeConnections,
  QUICK,
  table,
  verdictTable
} from "./lib.mjs"

const TOKENS = 10
const FEW_TOKENS = 2
const PER_TOKEN = QUICK ? 100 : 300
const LIMIT = 50

/** Per token: writes, 429s, steady rate after the first window's burst, busiest 1 s spans. */
const perToken = (requests, tokens) =>
  tokens.map((token) => {
    const mine = requests.filter((r) => r.token === token)
    const ok = mine.filter((r) => r.status === 200).map((r) => r.at)
    const first = Math.min(...ok)
    const last = Math.max(...ok)
    // An idle token may send `LIMIT` at once; the rate that matters is the one sustained after.
    const steady = ((ok.length - LIMIT) / (last - first)) * 1000
    const windows = new Map()
    for (const at of ok)
      windows.set(Math.floor(at / 1000), (windows.get(Math.floor(at / 1000)) ?? 0) + 1)
    let sliding = 0
    for (let i = 0, j = 0; i < ok.length; i++) {
      while (ok[i] - ok[j] >= 1000) j++
      sliding = Math.max(sliding, i - j + 1)
    }
    // Mean writes of the whole epoch seconds strictly inside the run: the cadence in the middle.
    const firstWindow = Math.floor(first / 1000)
    const lastWindow = Math.floor(last / 1000)
    let inside = 0
    for (let w = firstWindow + 1; w < lastWindow; w++) inside += windows.get(w) ?? 0
    // A run within two epoch seconds has no inner second to average.
    const middle =
      lastWindow - firstWindow > 1 ? inside / (lastWindow - firstWindow - 1) : undefined
    return {
      middle,
      writes: ok.length,
      rejected: mine.filter((r) => r.status === 429).length,
      seconds: (last - first) / 1000,
      steady,
      busiestWindow: Math.max(...windows.values()),
      busiestSliding: sliding
    }
  })

const burst = async (emulator, connections, options) => {
  const core = await makeCore(emulator.url, API_KEY, options)
  const items = []
  for (let i = 0; i < PER_TOKEN; i++)
    for (const c of connections)
      items.push({ accessToken: Redacted.make(c.accessToken), body: bodyFor(i) })
  await emulator.clearRequests()
  const started = performance.now()
  let outcomes
  try {
    outcomes = await core.runtime.runPromise(
      core.client.updateConnections(items, { concurrency: "unbounded" })
    )
  } finally {
    await core.runtime.dispose()
  }
  const wall = (performance.now() - started) / 1000
  const failed = outcomes.filter((o) => o.result._tag === "Left")
  const requests = (await emulator.requests()).sort((a, b) => a.at - b.at)
  return {
    wall,
    failed,
    stats: perToken(
      requests,
      connections.map((c) => c.accessToken)
    )
  }
}

/** One row of the table: a burst summarised over its tokens. */
const row = (label, tokens, result) => {
  const s = result.stats
  const steady = s.map((t) => t.steady).sort((a, b) => a - b)
  const writes = s.reduce((a, t) => a + t.writes, 0)
  return [
    label,
    tokens,
    tokens * PER_TOKEN,
    result.wall.toFixed(2),
    Math.round(writes / result.wall),
    `${steady[0].toFixed(1)} / ${steady[Math.floor(steady.length / 2)].toFixed(1)} / ${steady.at(-1).toFixed(1)}`,
    `${((steady[0] / LIMIT) * 100).toFixed(1)}%`,
    s.some((t) => t.middle === undefined)
      ? "n/a (too short)"
      : (s.reduce((a, t) => a + t.middle, 0) / s.length).toFixed(1),
    s.reduce((a, t) => a + t.rejected, 0),
    result.failed.length,
    Math.max(...s.map((t) => t.busiestWindow)),
    Math.max(...s.map((t) => t.busiestSliding))
  ]
}

export const run = async () => {
  const many = makeConnections(TOKENS, "p")
  const few = makeConnections(FEW_TOKENS, "f")
  const unpaced = makeConnections(TOKENS, "u")
  const emulator = await forkEmulator({
    apiKey: API_KEY,
    connections: [...many, ...few, ...unpaced],
    maxRecordedRequests: 2 * TOKENS * PER_TOKEN + 1000
  })
  let results
  try {
    results = {
      many: await burst(emulator, many, {}),
      few: await burst(emulator, few, {}),
      // The contrast: pacing off and no retries, so each 429 the limiter sends is counted once.
      unpaced: await burst(emulator, unpaced, { writesPerSecond: 0, maxAttempts: 1 })
    }
  } finally {
    await emulator.stop()
  }
  const verdicts = [
    [TOKENS, results.many],
    [FEW_TOKENS, results.few]
  ].flatMap(([tokens, r]) => {
    const minSteady = Math.min(...r.stats.map((t) => t.steady))
    const rejected = r.stats.reduce((a, t) => a + t.rejected, 0)
    return [
      {
        target: `${tokens} tokens: writes/s per token at least 95% of ${LIMIT} (${0.95 * LIMIT})`,
        figure: `slowest token ${minSteady.toFixed(1)}/s (${((minSteady / LIMIT) * 100).toFixed(1)}%)`,
        met: minSteady >= 0.95 * LIMIT
      },
      {
        target: `${tokens} tokens: zero 429s`,
        figure: `${rejected} of ${tokens * PER_TOKEN} requests`,
        met: rejected === 0
      }
    ]
  })
  const markdown = [
    table(
      [
        "burst",
        "tokens",
        "calls",
        "wall s",
        "writes/s, all tokens",
        "steady writes/s per token (min / median / max)",
        "slowest token, % of 50",
        "mean writes per inner epoch second",
        "429s",
        "failed calls",
        "busiest epoch second",
        "busiest 1 s span"
      ],
      [
        row("core defaults (pacing on)", TOKENS, results.many),
        row("core defaults (pacing on)", FEW_TOKENS, results.few),
        row("pacing off, retries off", TOKENS, results.unpaced)
      ]
    ),
    "",
    `Each burst: ${PER_TOKEN} calls per token, all started at once (\`updateConnections\`, concurrency "unbounded"), against the emulator's real limiter (50 writes/s per token, fixed one-second windows) in its own process. "steady writes/s" = (writes - 50) / (last write - first write), from the emulator's arrival times: an idle token's first 50 writes go out at once, so the rate that matters is the one sustained after them; it is the figure the target is judged on. "inner epoch second" counts the whole seconds strictly between a token's first and last write (the emulator's own windows), averaged over tokens: the cadence in the middle of the run, without the start and the tail. The ${FEW_TOKENS}-token burst asks for ${FEW_TOKENS * LIMIT} writes/s, well within what one process on this machine can send through the core; the ${TOKENS}-token burst asks for ${TOKENS * LIMIT} writes/s (compare the core's throughput in "Core per call"). The last row is the same ${TOKENS}-token burst with pacing and retries off, to show what pacing prevents.`,
    "",
    verdictTable(verdicts)
  ].join("\n")
  return { title: "Rate pacing against the real limiter", section: "pacing", markdown, verdicts }
}

if (isMain(import.meta.url)) console.log((await run()).markdown)
