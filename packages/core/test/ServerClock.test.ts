// Pure arithmetic: what answers' rate-limit windows tell of the server's clock.
import { describe, expect, it } from "@effect/vitest"
import { makeServerClock } from "../src/ServerClock.js"

describe("makeServerClock", () => {
  it("waits by the lowest offset the answers allow", () => {
    const clock = makeServerClock()
    // Sent at 10.4 s, read at 10.5 s, counted in the window ending at 11 s: offset in [-500, 600).
    clock.observe(10_400, 10_500, 11)
    expect(clock.toLocal(11_000)).toBe(11_500)
    // Read 10 ms into the next window: the server's clock is at most 10 ms behind ours.
    clock.observe(11_000, 11_010, 12)
    expect(clock.toLocal(12_000)).toBe(12_010)
  })

  it("uses the offset the answers prove when the server's clock is ahead", () => {
    const clock = makeServerClock()
    // Read at 10.5 s, counted in the window that began at 12 s: offset >= 1500.
    clock.observe(10_400, 10_500, 13)
    expect(clock.toLocal(13_000)).toBe(11_500)
  })

  it("loosens an old bound by 1 ms a second, for clocks that drift apart", () => {
    const clock = makeServerClock()
    clock.observe(11_000, 11_010, 12) // offset in [-10, 1000)
    // 60.59 s later an answer that bounds little: the old bound has loosened by 60.59 ms.
    clock.observe(71_500, 71_600, 72)
    expect(clock.toLocal(72_000)).toBe(72_070.59)
    // A tight answer tightens it again.
    clock.observe(72_000, 72_002, 73)
    expect(clock.toLocal(73_000)).toBe(73_002)
  })

  it("starts again from the latest answer when the server's clock was stepped", () => {
    const clock = makeServerClock()
    clock.observe(10_400, 10_500, 11) // offset in [-500, 600)
    // An hour behind now: no offset explains both answers, so only the new one counts.
    const hour = 3_600_000
    const reset = Math.floor((20_400 - hour) / 1000) + 1
    clock.observe(20_400, 20_500, reset) // offset in [-hour - 500, -hour + 600)
    expect(clock.toLocal(reset * 1000)).toBe(reset * 1000 + hour + 500)
  })
})
