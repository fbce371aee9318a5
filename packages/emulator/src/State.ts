import { randomBytes } from "node:crypto"

/** The stored, updatable state of one connection, as `GET /connections/:id` shows it. */
export interface ConnectionState {
  readonly id: string
  readonly customer_id: string | null
  readonly webhooks_disabled: boolean
}

/** A connection the emulator knows at start-up, addressed by its access token. */
export interface SeedConnection {
  readonly name: string
  readonly accessToken: string
  readonly id: string
  readonly customer_id?: string | null
  readonly webhooks_disabled?: boolean
}

/** What `addConnection` accepts; every field omitted gets a fresh random value or a default. */
export interface NewConnection {
  readonly name?: string
  readonly accessToken?: string
  readonly id?: string
  readonly customer_id?: string | null
  readonly webhooks_disabled?: boolean
}

/** A validated PATCH /connections body: the fields to set. */
export interface ConnectionUpdate {
  readonly customer_id?: string | null
  readonly webhooks_disabled?: boolean
}

/** A connection with its name and access token, as the emulator's owner sees it. */
export type ConnectionEntry = ConnectionState & {
  readonly name: string
  readonly accessToken: string
}

interface StoredConnection {
  readonly name: string
  readonly accessToken: string
  readonly id: string
  customer_id: string | null
  webhooks_disabled: boolean
}

const hex = (bytes: number): string => randomBytes(bytes).toString("hex")

const snapshot = (c: StoredConnection): ConnectionEntry => ({
  name: c.name,
  accessToken: c.accessToken,
  id: c.id,
  customer_id: c.customer_id,
  webhooks_disabled: c.webhooks_disabled
})

const stateOf = (c: StoredConnection): ConnectionState => ({
  id: c.id,
  customer_id: c.customer_id,
  webhooks_disabled: c.webhooks_disabled
})

/** The emulator's connections, indexed by access token and by id. */
export class ConnectionStore {
  readonly #byToken = new Map<string, StoredConnection>()
  readonly #byId = new Map<string, StoredConnection>()
  readonly #names = new Set<string>()

  /** Adds a connection; throws if its name, token or id is empty or already taken (never echoing the token). */
  add(input: NewConnection): { name: string; accessToken: string; id: string } {
    const name = input.name ?? `connection-${hex(4)}`
    const accessToken = input.accessToken ?? `emulator-token-${hex(16)}`
    const id = input.id ?? `conn_${hex(12)}`
    if (name === "" || accessToken === "" || id === "") {
      throw new Error("A connection needs a non-empty name, access token and id")
    }
    if (this.#names.has(name)) throw new Error(`A connection named "${name}" already exists`)
    if (this.#byId.has(id)) throw new Error(`A connection with id "${id}" already exists`)
    if (this.#byToken.has(accessToken)) {
      throw new Error(`The access token of connection "${name}" is already used by another one`)
    }
    const stored: StoredConnection = {
      name,
      accessToken,
      id,
      customer_id: input.customer_id ?? null,
      webhooks_disabled: input.webhooks_disabled ?? false
    }
    this.#names.add(name)
    this.#byToken.set(accessToken, stored)
    this.#byId.set(id, stored)
    return { name, accessToken, id }
  }

  /** Whether some connection holds this access token. */
  hasToken(accessToken: string): boolean {
    return this.#byToken.has(accessToken)
  }

  /** The state of the connection holding this access token. */
  byToken(accessToken: string): ConnectionState | undefined {
    const stored = this.#byToken.get(accessToken)
    return stored === undefined ? undefined : stateOf(stored)
  }

  /** The state of the connection with this id. */
  byId(id: string): ConnectionState | undefined {
    const stored = this.#byId.get(id)
    return stored === undefined ? undefined : stateOf(stored)
  }

  /** Every connection, in the order they were added. */
  list(): ReadonlyArray<ConnectionEntry> {
    return [...this.#byToken.values()].map(snapshot)
  }

  /** Applies an update to the token's connection and says whether any stored value changed. */
  update(
    accessToken: string,
    update: ConnectionUpdate
  ): { id: string; updated: boolean } | undefined {
    const stored = this.#byToken.get(accessToken)
    if (stored === undefined) return undefined
    let updated = false
    if (update.customer_id !== undefined && update.customer_id !== stored.customer_id) {
      stored.customer_id = update.customer_id
      updated = true
    }
    if (
      update.webhooks_disabled !== undefined &&
      update.webhooks_disabled !== stored.webhooks_disabled
    ) {
      stored.webhooks_disabled = update.webhooks_disabled
      updated = true
    }
    return { id: stored.id, updated }
  }
}
