// Every message the bench sends is delivered or listed as lost, with a reason.
import { describe, expect, it } from 'vitest'
import { addAccounts, Ledger, REASON_HISTORY, REASON_TIMEOUT } from '../../benchmarks/accounting.ts'

const fine = { historyLost: 0, failure: undefined }

describe('the ledger', () => {
  it('counts every (message, receiver) pair as delivered or lost, and they add up to what was expected', () => {
    const ledger = new Ledger(3)
    for (let i = 0; i < 4; i++) ledger.accept(ledger.issue())
    for (let r = 0; r < 3; r++) for (let i = 0; i < 4; i++) if (!(r === 2 && i >= 2)) ledger.deliver(r, i)
    const a = ledger.account([fine, fine, fine])
    expect(a).toMatchObject({ receivers: 3, sent: 4, expected: 12, delivered: 10, lost: 2, duplicates: 0 })
    expect(a.delivered + a.lost).toBe(a.expected)
    expect(a.losses).toEqual([{ reason: REASON_TIMEOUT, count: 2 }])
  })

  it("gives the receiver's own reason for what it missed: a closed connection, or history the server no longer held", () => {
    const ledger = new Ledger(3)
    for (let i = 0; i < 5; i++) ledger.accept(ledger.issue())
    ledger.deliver(0, 0)
    ledger.deliver(1, 4)
    for (let i = 0; i < 5; i++) ledger.deliver(2, i)
    const a = ledger.account([
      { historyLost: 0, failure: 'closed by the server: 1013' },
      { historyLost: 1, failure: undefined },
      fine,
    ])
    expect(a.lost).toBe(8)
    expect(a.losses).toEqual([
      { reason: 'closed by the server: 1013', count: 4 },
      { reason: REASON_HISTORY, count: 4 },
    ])
  })

  it('does not expect messages whose send failed, and says why they failed', () => {
    const ledger = new Ledger(2)
    const ok = ledger.issue()
    const bad = ledger.issue()
    ledger.accept(ok)
    ledger.fail(bad, 'send answered 503')
    ledger.deliver(0, ok)
    ledger.deliver(1, ok)
    expect(ledger.account([fine, fine])).toMatchObject({ sent: 1, failedSends: 1, expected: 2, delivered: 2, lost: 0 })
    expect(ledger.sendFailures()).toEqual([{ reason: 'send answered 503', count: 1 }])
  })

  it('counts a duplicate once as delivered and once as a duplicate, and ignores ids it never issued', () => {
    const ledger = new Ledger(1)
    ledger.accept(ledger.issue())
    expect(ledger.deliver(0, 0)).toBe(true)
    expect(ledger.deliver(0, 0)).toBe(false)
    expect(ledger.deliver(0, 7)).toBe(false)
    expect(ledger.deliver(0, -1)).toBe(false)
    expect(ledger.account([fine])).toMatchObject({ delivered: 1, duplicates: 1, lost: 0 })
  })

  it('completes a message when its last receiver has it, even before the sender hears its 200', () => {
    const ledger = new Ledger(2)
    const i = ledger.issue()
    ledger.deliver(0, i)
    expect(ledger.inFlight()).toBe(1)
    ledger.deliver(1, i)
    expect(ledger.completed).toBe(1)
    expect(ledger.inFlight()).toBe(0)
    ledger.accept(i)
    expect(ledger.account([fine, fine])).toMatchObject({ expected: 2, delivered: 2 })
  })

  it('grows past its first thousand messages without losing count', () => {
    const ledger = new Ledger(1)
    for (let i = 0; i < 5000; i++) {
      ledger.accept(ledger.issue())
      ledger.deliver(0, i)
    }
    expect(ledger.account([fine])).toMatchObject({ sent: 5000, delivered: 5000, lost: 0 })
  })
})

describe('adding accounts up', () => {
  it('sums the counts and merges the reasons', () => {
    const a = {
      receivers: 1,
      sent: 2,
      failedSends: 0,
      expected: 2,
      delivered: 1,
      lost: 1,
      losses: [{ reason: 'x', count: 1 }],
      duplicates: 0,
    }
    const b = {
      receivers: 2,
      sent: 3,
      failedSends: 1,
      expected: 6,
      delivered: 4,
      lost: 2,
      losses: [
        { reason: 'x', count: 1 },
        { reason: 'y', count: 1 },
      ],
      duplicates: 1,
    }
    expect(addAccounts([a, b])).toEqual({
      sent: 5,
      failedSends: 1,
      expected: 8,
      delivered: 5,
      lost: 3,
      duplicates: 1,
      losses: [
        { reason: 'x', count: 2 },
        { reason: 'y', count: 1 },
      ],
    })
  })
})
