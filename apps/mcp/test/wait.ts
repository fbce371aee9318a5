/** Polls until `check` holds, failing after `millis`: for events with no callback, never a fixed sleep. */
export const until = async (
  check: () => boolean,
  millis = 5_000,
  what = "condition"
): Promise<void> => {
  const deadline = Date.now() + millis
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}
