// Pacing, twice: the pacer alone under TestClock (exact, no waiting), and the client against the
// emulator's real fixed-window limiter of 50 writes/s per token (zero 429s, the rate achieved).
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import type { Emulator } from "@trackstar-mcp/emulator"
import { Clock, Effect, Exit, Fiber, Option, Redacted, TestClock } from "effect"
import { type Counted, makePacer } from "../src/Pacing.js"
import { clientFor, eventually, newConnection, requestsFor, startEmulator } from "./support.js"

/** The window a slot cools for after its write ends: one second and the pacer's 5 ms margin. */
const WINDOW = 1005

describe("makePacer (TestClock)", () => {
  /** Forks `count` writes on `key`, each taking `millis`; records when each started and ended. */
  const writes = (pacer: ReturnType<typeof makePacer>, key: string, count: number, millis = 0) =>
    Effect.gen(function* () {
      const log: Array<{ start: number; end: number }> = []
      const fibers = yield* Effect.forEach(Array.from({ length: count }), () =>
        Effect.fork(
          pacer.pace(
            key,
            Effect.gen(function* () {
              const entry = { start: yield* Clock.currentTimeMillis, end: -1 }
              log.push(entry)
              yield* Effect.sleep(millis)
              entry.end = yield* Clock.currentTimeMillis
            })
          )
        )
      )
      yield* Effect.yieldNow()
      return { log, fibers }
    })

  it.effect("adds no wait to a lone call on an idle key", () =>
    Effect.gen(function* () {
      const { log, fibers } = yield* writes(makePacer(50), "idle", 1)
      // The clock never moved, so the write cannot have waited.
      expect(log).toStrictEqual([{ start: 0, end: 0 }])
      yield* Fiber.join(fibers[0] ?? Fiber.void)
    })
  )

  it.effect("sends an idle key's first 50 writes at once, the 51st a window after one ends", () =>
    Effect.gen(function* () {
      const pacer = makePacer(50)
      const { log } = yield* writes(pacer, "busy", 51, 100)
      expect(log).toHaveLength(50)
      expect(log.every((w) => w.start === 0)).toBe(true)
      yield* TestClock.adjust(100 + WINDOW - 1)
      expect(log).toHaveLength(50)
      yield* TestClock.adjust(1)
      expect(log.at(-1)?.start).toBe(100 + WINDOW)
    })
  )

  it.effect("keeps keys independent: a backlog on one delays no write on another", () =>
    Effect.gen(function* () {
      const pacer = makePacer(50)
      const a = yield* writes(pacer, "a", 200, 10)
      const b = yield* writes(pacer, "b", 1, 10)
      expect(a.log).toHaveLength(50)
      expect(b.log.map((w) => w.start)).toStrictEqual([0])
    })
  )

  it.effect("counts the window from when a slow write ended, not when it started", () =>
    Effect.gen(function* () {
      const pacer = makePacer(1)
      const { log } = yield* writes(pacer, "slow", 2, 3000)
      yield* TestClock.adjust(3000 + WINDOW - 1)
      expect(log).toHaveLength(1)
      yield* TestClock.adjust(1)
      expect(log.map((w) => w.start)).toStrictEqual([0, 3000 + WINDOW])
    })
  )

  it.effect("gives a slot back when a waiting write is interrupted", () =>
    Effect.gen(function* () {
      const pacer = makePacer(1)
      const first = yield* writes(pacer, "k", 1, 0)
      const waiting = yield* writes(pacer, "k", 1, 0)
      yield* Fiber.interrupt(waiting.fibers[0] ?? Fiber.void)
      const next = yield* writes(pacer, "k", 1, 0)
      yield* TestClock.adjust(WINDOW)
      expect(first.log.map((w) => w.start)).toStrictEqual([0])
      expect(waiting.log).toHaveLength(0)
      expect(next.log.map((w) => w.start)).toStrictEqual([WINDOW])
    })
  )

  it.effect("never lets more than 50 writes overlap any one-second span, whatever they take", () =>
    Effect.gen(function* () {
      const pacer = makePacer(50)
      // Durations from a fixed pseudo-random sequence: 0 to 400 ms.
      let seed = 7
      const log: Array<{ start: number; end: number }> = []
      yield* Effect.forEach(
        Array.from({ length: 200 }, () => {
          seed = (seed * 48271) % 2147483647
          return seed % 401
        }),
        (millis) =>
          Effect.fork(
            pacer.pace(
              "k",
              Effect.gen(function* () {
                const start = yield* Clock.currentTimeMillis
                yield* Effect.sleep(millis)
                log.push({ start, end: yield* Clock.currentTimeMillis })
              })
            )
          )
      )
      for (let i = 0; i < 100 && log.length < 200; i++) yield* TestClock.adjust(100)
      expect(log).toHaveLength(200)
      // Trackstar counts a write at some moment between its start and end; whichever moment,
      // a span [t, t + 1000) can only count writes whose [start, end] meets it.
      const worst = Math.max(
        ...log.map(({ end: t }) => log.filter((w) => w.start < t + 1000 && w.end >= t).length)
      )
      expect(worst).toBeLessThanOrEqual(50)
    })
  )

  it.effect(
    "stops a wait at its deadline, and a wait both timed out and interrupted frees nothing twice",
    () =>
      Effect.gen(function* () {
        const pacer = makePacer(1)
        const deadline = { at: 500, onDeadline: () => "deadline" as const }
        const holder = yield* writes(pacer, "k", 1, 10_000)
        // A waiter that reaches its deadline fails with it, sending nothing.
        const late = yield* Effect.fork(pacer.pace("k", Effect.succeed("sent"), deadline))
        // Another is interrupted at the very moment the same deadline passes.
        const both = yield* Effect.fork(pacer.pace("k", Effect.succeed("sent"), deadline))
        yield* Effect.yieldNow()
        yield* TestClock.adjust(500)
        yield* Fiber.interrupt(both)
        expect(yield* Effect.flip(Fiber.join(late))).toBe("deadline")
        // The holder still holds the only permit: a newcomer must wait for it, not run beside it.
        const next = yield* writes(pacer, "k", 1, 0)
        expect(next.log).toHaveLength(0)
        yield* TestClock.adjust(10_000 - 500 + WINDOW)
        expect(holder.log.map((w) => w.end)).toStrictEqual([10_000])
        expect(next.log.map((w) => w.start)).toStrictEqual([10_000 + WINDOW])
      })
  )

  it.effect("refuses at once a write whose slot is only free after its deadline", () =>
    Effect.gen(function* () {
      const pacer = makePacer(1)
      yield* writes(pacer, "k", 1, 0)
      const exit = yield* Effect.exit(
        pacer.pace("k", Effect.succeed("sent"), { at: 100, onDeadline: () => "deadline" })
      )
      expect(exit).toStrictEqual(Exit.fail("deadline"))
    })
  )

  it.effect("paces nothing at 0 writes per second", () =>
    Effect.gen(function* () {
      const { log } = yield* writes(makePacer(0), "k", 500, 10)
      expect(log).toHaveLength(500)
    })
  )
})

describe("makePacer with the server's windows (TestClock)", () => {
  /**
   * A fixed-window limiter of `limit` writes a second whose clock is `offset` ms ahead of
   * ours at 20 s, and gains `drift` ms a second on ours, counting each write `before` ms after it
   * starts and answering `after` ms later. Each write answers with the epoch second its
   * window ends, as `x-ratelimit-reset` does.
   */
  const fixedWindowServer = (limit: number, offset: number, drift = 0) => {
    const windows = new Map<number, { accepted: number; refused: number }>()
    const write = (before: number, after: number) =>
      Effect.gen(function* () {
        yield* Effect.sleep(before)
        const now = yield* Clock.currentTimeMillis
        const reset = Math.floor((now + offset + (drift * (now - 20_000)) / 1000) / 1000) + 1
        const window = windows.get(reset) ?? { accepted: 0, refused: 0 }
        windows.set(reset, window)
        const refused = window.accepted >= limit
        if (refused) window.refused += 1
        else window.accepted += 1
        yield* Effect.sleep(after)
        return { resetEpochSeconds: reset, refused }
      })
    return { windows, write }
  }
  const countedOf = (exit: Exit.Exit<Counted>) => (Exit.isSuccess(exit) ? exit.value : undefined)
  const countedIn = (resetEpochSeconds: number) => ({ resetEpochSeconds, refused: false })

  /** `count` writes with durations from a fixed pseudo-random sequence, 1 to `longest` ms each side. */
  const burst = (
    pacer: ReturnType<typeof makePacer>,
    server: ReturnType<typeof fixedWindowServer>,
    count: number,
    longest = 60
  ) => {
    let seed = 11
    const next = () => {
      seed = (seed * 48271) % 2147483647
      return 1 + (seed % longest)
    }
    return Effect.forEach(
      Array.from({ length: count }, () => server.write(next(), next())),
      (write) => Effect.fork(pacer.pace("k", write, undefined, countedOf))
    )
  }

  /** Forks a write on `key` at the current time, taking `millis`; logs its start under `key`. */
  const timedWrite = (
    pacer: ReturnType<typeof makePacer>,
    starts: Record<string, Array<number>>,
    key: string,
    millis: number,
    counted: (start: number) => Counted
  ) =>
    Effect.fork(
      pacer.pace(
        key,
        Effect.gen(function* () {
          const start = yield* Clock.currentTimeMillis
          starts[key] = [...(starts[key] ?? []), start]
          yield* Effect.sleep(millis)
          return counted(start)
        }),
        undefined,
        countedOf
      )
    )
  /** What a fixed-window server on our clock answers: the window of the write's start. */
  const onOurClock = (start: number) => countedIn(Math.floor(start / 1000) + 1)

  it.effect("frees a slot once the server's window has surely ended, by the tightest answer", () =>
    Effect.gen(function* () {
      yield* TestClock.adjust(10_000)
      const pacer = makePacer(1)
      const starts: Record<string, Array<number>> = {}
      // Answered 10 ms into the window [10 s, 11 s): the server's clock is at most 10 ms behind.
      yield* timedWrite(pacer, starts, "a", 10, onOurClock)
      yield* TestClock.adjust(500)
      // Two writes on "b", the first answered at 10.6 s: its slot is free at 11 s + 10 ms
      // (and the margin), not a window after it ended (11_605); the 10 ms bound has
      // loosened by 1 ms a second for the 0.59 s since it was read.
      yield* timedWrite(pacer, starts, "b", 100, onOurClock)
      yield* timedWrite(pacer, starts, "b", 100, onOurClock)
      yield* TestClock.adjust(2000)
      expect(starts.a).toStrictEqual([10_000])
      expect(starts.b?.[0]).toBe(10_500)
      expect(starts.b?.[1]).toBeCloseTo(11_015.59, 6)
    })
  )

  /** Whether every write is done, the windows run without a gap, and all were full but the ends. */
  const expectFullWindows = (
    server: ReturnType<typeof fixedWindowServer>,
    fibers: ReadonlyArray<Fiber.RuntimeFiber<unknown, unknown>>,
    limit: number
  ) =>
    Effect.gen(function* () {
      for (const fiber of fibers) expect(Option.isSome(yield* Fiber.poll(fiber))).toBe(true)
      const seconds = [...server.windows.keys()]
      expect(seconds).toStrictEqual(seconds.map((_, i) => (seconds[0] ?? 0) + i))
      const counts = [...server.windows.values()]
      expect(counts.every((w) => w.refused === 0)).toBe(true)
      expect(counts.slice(1, -1).every((w) => w.accepted === limit)).toBe(true)
    })

  it.effect.each([0, 3, 20, 250, -3, -20, -300])(
    "fills the windows to the limit and never past it, server clock %i ms ahead of ours",
    (offset) =>
      Effect.gen(function* () {
        yield* TestClock.adjust(20_400)
        const server = fixedWindowServer(5, offset)
        const fibers = yield* burst(makePacer(5), server, 60)
        // 60 writes, 5 a window: done within 13 windows, the first and last perhaps partial.
        yield* TestClock.adjust(13_000)
        yield* expectFullWindows(server, fibers, 5)
        expect(server.windows.size).toBeLessThanOrEqual(13)
      })
  )

  it.effect.each([-0.5, 0.5])(
    "keeps to the windows of a server clock drifting %d ms a second from ours",
    (drift) =>
      Effect.gen(function* () {
        yield* TestClock.adjust(20_000)
        const server = fixedWindowServer(5, 0, drift)
        // A busy minute on quick answers, so the first ones bound the offset within a few
        // ms: left as it was, that bound would be 30 ms off by the end.
        const fibers = yield* burst(makePacer(5), server, 300, 10)
        yield* TestClock.adjust(61_000)
        yield* expectFullWindows(server, fibers, 5)
      })
  )

  it.effect("after a 429 on a key keeps that key to a window after each write for a minute", () =>
    Effect.gen(function* () {
      yield* TestClock.adjust(10_000)
      const pacer = makePacer(1)
      const starts: Record<string, Array<number>> = {}
      const refused = (start: number) => ({ ...onOurClock(start), refused: true })
      yield* timedWrite(pacer, starts, "a", 10, onOurClock)
      // Another sender on "k" filled the window: a 429, answered at 10.5 s.
      yield* timedWrite(pacer, starts, "k", 500, refused)
      yield* timedWrite(pacer, starts, "k", 10, onOurClock)
      // "a" still follows the windows (11_015) while "k" waits a window after its write ended.
      yield* timedWrite(pacer, starts, "a", 10, onOurClock)
      yield* TestClock.adjust(2000)
      expect(starts).toStrictEqual({ a: [10_000, 11_015], k: [10_000, 11_505] })
      // A minute on, "k" follows the windows again, by the 10 ms bound of 10 s loosened by
      // 1 ms a second since (now 70.49 ms), plus the margin.
      yield* TestClock.adjust(70_000 - 12_000)
      yield* timedWrite(pacer, starts, "k", 500, onOurClock)
      yield* timedWrite(pacer, starts, "k", 10, onOurClock)
      yield* TestClock.adjust(2000)
      expect(starts.k?.slice(0, 3)).toStrictEqual([10_000, 11_505, 70_000])
      expect(starts.k?.[3]).toBeCloseTo(71_075.49, 6)
    })
  )

  it.effect("remembers a 429's pause while the key is idle, and doubles it on the next", () =>
    Effect.gen(function* () {
      const pacer = makePacer(1)
      const starts: Record<string, Array<number>> = {}
      const refused = (start: number) => ({ ...onOurClock(start), refused: true })
      /**
       * Two 100 ms writes on "k" from `at`, halfway into a window: how long after the first
       * the second started. Following the windows, it starts as the next window begins (in
       * under a second); otherwise a window after the first ended.
       */
      const pair = (at: number) =>
        Effect.gen(function* () {
          yield* TestClock.adjust(at - (yield* Clock.currentTimeMillis))
          starts.k = []
          yield* timedWrite(pacer, starts, "k", 100, onOurClock)
          yield* timedWrite(pacer, starts, "k", 100, onOurClock)
          yield* TestClock.adjust(2000)
          return (starts.k[1] ?? 0) - at
        })
      const WINDOW_AFTER_WRITE = 100 + WINDOW
      yield* TestClock.adjust(10_000)
      yield* timedWrite(pacer, starts, "k", 500, refused) // paused until 70.5 s
      yield* TestClock.adjust(55_000)
      // Another key's write at 65 s sweeps idle lanes; "k" is idle but still paused.
      yield* timedWrite(pacer, starts, "b", 10, onOurClock)
      expect(yield* pair(66_500)).toBe(WINDOW_AFTER_WRITE)
      // Past the pause "k" follows the windows again.
      expect(yield* pair(71_500)).toBeLessThan(1000)
      // Another 429 while following them pauses them for two minutes, not one.
      yield* TestClock.adjust(75_000 - (yield* Clock.currentTimeMillis))
      yield* timedWrite(pacer, starts, "k", 500, refused) // paused until 195.5 s
      yield* TestClock.adjust(2000)
      expect(yield* pair(190_500)).toBe(WINDOW_AFTER_WRITE)
      expect(yield* pair(196_500)).toBeLessThan(1000)
    })
  )

  it.effect("pauses a minute for 429s that were in flight together, not one pause each", () =>
    Effect.gen(function* () {
      const pacer = makePacer(2)
      const starts: Record<string, Array<number>> = {}
      const refused = (start: number) => ({ ...onOurClock(start), refused: true })
      yield* TestClock.adjust(10_000)
      // Both slots' writes are refused: one run of 429s, paused until 70.01 s.
      yield* timedWrite(pacer, starts, "k", 10, refused)
      yield* timedWrite(pacer, starts, "k", 10, refused)
      yield* TestClock.adjust(71_500 - 10_000)
      // At 71.5 s three writes: the third takes the slot the first frees, by the windows
      // (about 72.08 s), not a window after the first ended (72.605 s).
      starts.k = []
      for (let i = 0; i < 3; i++) yield* timedWrite(pacer, starts, "k", 100, onOurClock)
      yield* TestClock.adjust(10_000)
      expect(starts.k?.[0]).toBe(71_500)
      expect(starts.k?.[2]).toBeLessThan(72_500)
    })
  )

  it.effect("ignores the server's windows at a fractional rate, which they cannot keep to", () =>
    Effect.gen(function* () {
      const pacer = makePacer(1.5)
      const starts: Array<number> = []
      const write = Effect.gen(function* () {
        starts.push(yield* Clock.currentTimeMillis)
        return countedIn(1)
      })
      yield* Effect.forEach([1, 2], () => Effect.fork(pacer.pace("k", write, undefined, countedOf)))
      yield* TestClock.adjust(2000)
      // One slot, a cycle of 1000 / 1.5 ms and the margin: not the window's end at 1000.
      expect(starts).toStrictEqual([0, 672])
    })
  )
})

describe("pacing against the emulator's 50 writes/s limiter", () => {
  let emulator: Emulator
  beforeAll(async () => {
    emulator = await startEmulator()
  })
  afterAll(() => emulator.stop())

  // Correctness only: the achieved rate (target >= 95% of 50/s) is a benchmark figure
  // (`node bench/src/run.mjs pacing`), measured side by side, not a timed test that flakes.
  it.live(
    "4 tokens x 120 writes at unbounded concurrency: zero 429s, never over 50 in a second",
    () =>
      Effect.gen(function* () {
        const connections = Array.from({ length: 4 }, () => newConnection(emulator))
        const client = yield* clientFor(emulator)
        const outcomes = yield* client.updateConnections(
          connections.flatMap((c) =>
            Array.from({ length: 120 }, (_, i) => ({
              accessToken: c.redacted,
              body: { customer_id: `p${i}` }
            }))
          ),
          { concurrency: "unbounded" }
        )
        expect(outcomes.every((o) => o.result._tag === "Right")).toBe(true)
        const windows = connections.map(({ token }) => {
          const sent = requestsFor(emulator, token)
          expect(sent.filter((r) => r.status === 429)).toHaveLength(0)
          expect(sent).toHaveLength(120)
          // Writes per epoch second, the limiter's own windows, from the first write's on.
          const seconds = sent.map((r) => Math.floor(r.at / 1000))
          const first = Math.min(...seconds)
          const counts = Array.from({ length: Math.max(...seconds) - first + 1 }, () => 0)
          for (const second of seconds) counts[second - first] = (counts[second - first] ?? 0) + 1
          return counts
        })
        console.log(`pacing: 0 x 429; writes per epoch second, per token: ${windows.join(" | ")}`)
        for (const counts of windows) {
          expect(Math.max(...counts)).toBeLessThanOrEqual(50)
          // An idle token's first 50 go out at once, in whatever part of a second is left;
          // the second window is the sustained rate. Far below the target (a benchmark
          // figure), only to catch a pacer that serialises writes.
          expect(counts[1]).toBeGreaterThanOrEqual(25)
        }
      })
  )

  it.live("a first write on token B goes out at once while token A has a backlog", () =>
    Effect.gen(function* () {
      const a = newConnection(emulator)
      const b = newConnection(emulator)
      const client = yield* clientFor(emulator)
      const backlog = yield* Effect.fork(
        client.updateConnections(
          Array.from({ length: 150 }, (_, i) => ({
            accessToken: a.redacted,
            body: { customer_id: `a${i}` }
          })),
          { concurrency: "unbounded" }
        )
      )
      // A's first 50 answered: A's other 100 now wait about a second for its slots to cool.
      yield* eventually(
        () => requestsFor(emulator, a.token).filter((r) => r.status === 200).length >= 50,
        "A's first 50 answered"
      )
      const calledAt = Date.now()
      const result = yield* client.updateConnection(
        { customer_id: "b" },
        { accessToken: Redacted.make(b.token) }
      )
      yield* Fiber.join(backlog)
      const arrivedB = requestsFor(emulator, b.token)[0]?.at ?? Number.POSITIVE_INFINITY
      const timesA = requestsFor(emulator, a.token).map((r) => r.at)
      const laterA = timesA.filter((t) => t > arrivedB).length
      console.log(
        `independence: B reached the server ${arrivedB - calledAt} ms after the call, ahead of ${laterA} of A's 150 writes`
      )
      expect(result.attempts).toBe(1)
      expect(laterA).toBe(100)
      // Generous: client and server share this process's event loop with A's traffic.
      expect(arrivedB - calledAt).toBeLessThan(800)
      expect(requestsFor(emulator, a.token).filter((r) => r.status === 429)).toHaveLength(0)
    })
  )
})
