import type { SeedConnection } from "./State.js"

/** Obviously fake credentials and connections the emulator serves when given none. */
export const DEMO: {
  readonly apiKey: string
  readonly connections: ReadonlyArray<SeedConnection>
} = Object.freeze({
  apiKey: "emulator-demo-api-key",
  connections: Object.freeze([
    Object.freeze({
      name: "default",
      accessToken: "emulator-demo-access-token",
      id: "conn_demo_default"
    }),
    Object.freeze({
      name: "acme-warehouse",
      accessToken: "emulator-demo-access-token-acme",
      id: "conn_demo_acme",
      customer_id: "acme-001"
    })
  ])
})
