/** One request that reached the emulator, with the status it was answered with (0 if none). */
export interface RecordedRequest {
  readonly requestId: string
  readonly method: string
  readonly path: string
  /** Every request header, names lower-cased, repeated values joined with ", ". */
  readonly headers: Readonly<Record<string, string>>
  readonly body: string
  /** The response status, or 0 while unanswered and for dropped or hanging requests. */
  readonly status: number
  /** Epoch milliseconds at which the request arrived. */
  readonly at: number
  /**
   * True when the client closed the connection before the answer was complete (it aborted or
   * timed out); false otherwise, including for connections the emulator itself dropped.
   */
  readonly closedByClient: boolean
}

/** How a recorded request ended, set once it does. */
export interface RecordedEnd {
  readonly answered: (status: number) => void
  readonly closedByClient: () => void
}

type Entry = { -readonly [K in keyof RecordedRequest]: RecordedRequest[K] }

/** A fixed-size ring buffer of recorded requests, oldest first. */
export class RequestLog {
  readonly #entries: Array<Entry> = []
  #next = 0

  /** Creates a log that keeps the latest `capacity` requests. */
  constructor(readonly capacity: number) {}

  /** Records a request and returns setters for how it ends: answered, or closed by the client. */
  add(request: Omit<RecordedRequest, "status" | "closedByClient">): RecordedEnd {
    const entry: Entry = {
      ...request,
      headers: Object.freeze({ ...request.headers }),
      status: 0,
      closedByClient: false
    }
    if (this.capacity === 0) return { answered: () => {}, closedByClient: () => {} }
    if (this.#entries.length < this.capacity) {
      this.#entries.push(entry)
    } else {
      this.#entries[this.#next] = entry
      this.#next = (this.#next + 1) % this.capacity
    }
    return {
      answered: (status) => {
        entry.status = status
      },
      closedByClient: () => {
        entry.closedByClient = true
      }
    }
  }

  /** A snapshot of the recorded requests, oldest first. */
  list(): ReadonlyArray<RecordedRequest> {
    const ordered = [...this.#entries.slice(this.#next), ...this.#entries.slice(0, this.#next)]
    return ordered.map((entry) => Object.freeze({ ...entry }))
  }

  /** Forgets every recorded request. */
  clear(): void {
    this.#entries.length = 0
    this.#next = 0
  }
}
