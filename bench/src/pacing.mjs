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

/** Per token: writes, 429s, writes per inner epoch second, the rate after the first burst, busiest spans. */
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
    const inner = []
    for (let w = firstWindow + 1; w < lastWindow; w++) inner.push(windows.get(w) ?? 0)
    // A run within two epoch seconds has no inner second to average.
    const middle = inner.length > 0 ? inner.reduce((a, n) => a + n, 0) / inner.length : undefined
    return {
      middle,
      emptiest: inner.length > 0 ? Math.min(...inner) : undefined,
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

/** The lowest of the tokens' figures, or undefined when a run was too short to have one. */
const slowest = (stats, field) =>
  stats.some((t) => t[field] === undefined) ? undefined : Math.min(...stats.map((t) => t[field]))

/** One row of the table: a burst summarised over its tokens. */
const row = (label, tokens, result) => {
  const s = result.stats
  const steady = s.map((t) => t.steady).sort((a, b) => a - b)
  const writes = s.reduce((a, t) => a + t.writes, 0)
  const middle = slowest(s, "middle")
  const emptiest = slowest(s, "emptiest")
  return [
    label,
    tokens,
    tokens * PER_TOKEN,
    result.wall.toFixed(2),
    Math.round(writes / result.wall),
    middle === undefined
      ? "n/a (too short)"
      : `${middle.toFixed(1)} (${((middle / LIMIT) * 100).toFixed(1)}%)`,
    emptiest ?? "n/a",
    `${steady[0].toFixed(1)} / ${steady[Math.floor(steady.length / 2)].toFixed(1)} / ${steady.at(-1).toFixed(1)}`,
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
    const middle = slowest(r.stats, "middle") ?? 0
    const rejected = r.stats.reduce((a, t) => a + t.rejected, 0)
    return [
      {
        target: `${tokens} tokens: writes/s per token at least 95% of ${LIMIT} (${0.95 * LIMIT})`,
        figure: `slowest token ${middle.toFixed(1)} per epoch second (${((middle / LIMIT) * 100).toFixed(1)}%)`,
        met: middle >= 0.95 * LIMIT
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
        "writes per inner epoch second, slowest token (% of 50)",
        "emptiest inner epoch second",
        "writes/s after the first 50 (min / median / max)",
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
    `Each burst: ${PER_TOKEN} calls per token, all started at once (\`updateConnections\`, concurrency "unbounded"), against the emulator's real limiter (${LIMIT} writes/s per token, counted in fixed windows of one epoch second, as Trackstar's \`x-ratelimit-reset\` describes) in its own process. All figures come from the emulator's arrival times. "writes per inner epoch second" is the limiter's own count: the mean over the whole epoch seconds strictly between a token's first and last write, so without the idle token's first burst (in whatever part of a second was left) and the tail; the target is judged on the slowest token's. "writes/s after the first 50" = (writes - 50) / (last write - first write): it credits the first burst's partial second as a whole one, so a pacer that fills every window reads above ${LIMIT}. "busiest 1 s span" may reach ${2 * LIMIT} without a 429: ${LIMIT} at the end of one window and ${LIMIT} at the start of the next. The ${FEW_TOKENS}-token burst asks for ${FEW_TOKENS * LIMIT} writes/s; the ${TOKENS}-token burst asks for ${TOKENS * LIMIT} writes/s from one process (compare the core's throughput in "Core per call"). The last row is the same ${TOKENS}-token burst with pacing and retries off, to show what pacing prevents.`,
    "",
    verdictTable(verdicts)
  ].join("\n")
  return { title: "Rate pacing against the real limiter", section: "pacing", markdown, verdicts }
}

if (isMain(import.meta.url)) console.log((await run()).markdown)
