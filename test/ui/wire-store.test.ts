// A page's counter reset: the server's counts since a baseline snapshot, with
// the states (connections open, requests held) as they are now.
import { describe, expect, it } from 'vitest'
import { emptyTally, type WireTally } from '../../server/wire/types.ts'
import { tallySince } from '../../ui/src/state/wire-store.ts'

const tally = (over: Partial<WireTally>): WireTally => ({ ...emptyTally(), ...over })

describe('tallySince', () => {
  const base = tally({ bytesIn: 1000, bytesOut: 5000, payloadIn: 200, payloadOut: 800, plainOut: 900, messagesOut: 4 })
  const now = tally({
    bytesIn: 1300,
    bytesOut: 5600,
    payloadIn: 260,
    payloadOut: 1000,
    plainOut: 1200,
    messagesOut: 5,
    connectionsOpen: 3,
    requestsHeld: 1,
  })

  it('counts bytes, payload, plain sizes and messages from the reset on, and overhead from those', () => {
    expect(tallySince(now, base)).toMatchObject({
      bytesIn: 300,
      bytesOut: 600,
      payloadIn: 60,
      payloadOut: 200,
      plainOut: 300,
      messagesOut: 1,
      overheadIn: 240,
      overheadOut: 400,
    })
  })

  it('keeps connections open and requests held as they are now', () => {
    expect(tallySince(now, base)).toMatchObject({ connectionsOpen: 3, requestsHeld: 1 })
  })

  it('is the tally itself before any reset, and never negative after a server restart', () => {
    expect(tallySince(now, undefined)).toBe(now)
    expect(tallySince(tally({}), now).bytesOut).toBe(0)
  })
})
