// Every message the bench sends is accounted for: delivered to each receiver,
// or listed as lost with the reason. Messages are numbered from 0 in the order
// they are issued; the ledger keeps one byte per (message, receiver) pair.

/** Why a receiver did not get what it should have, as far as the load client can tell. */
export interface ReceiverState {
  historyLost: number
  failure: string | undefined
}

export interface Loss {
  reason: string
  count: number
}

export interface Accounting {
  receivers: number
  /** Messages the server accepted (an HTTP 200, or written to a push socket). */
  sent: number
  /** Messages whose send failed; they are not expected anywhere. */
  failedSends: number
  /** sent x receivers */
  expected: number
  /** Distinct (message, receiver) pairs delivered, of the messages sent. */
  delivered: number
  /** Expected pairs that never arrived; delivered + lost = expected. */
  lost: number
  losses: Loss[]
  /** Deliveries of a message a receiver already had. */
  duplicates: number
}

export const REASON_HISTORY = 'history overrun: the server answered recovered: false'
export const REASON_TIMEOUT = 'not delivered before the drain time ran out'

class Growable {
  bytes: Uint8Array
  constructor(size = 1024) {
    this.bytes = new Uint8Array(size)
  }
  ensure(index: number): void {
    if (index < this.bytes.length) return
    let size = this.bytes.length
    while (size <= index) size *= 2
    const next = new Uint8Array(size)
    next.set(this.bytes)
    this.bytes = next
  }
}

const ACCEPTED = 1
const FAILED = 2

export class Ledger {
  readonly receivers: number
  /** Messages handed to a sender so far (accepted, failed or still in flight). */
  issued = 0
  accepted = 0
  failed = 0
  /** Messages every receiver has. */
  completed = 0
  deliveries = 0
  duplicates = 0
  private readonly status = new Growable()
  private readonly seen: Growable[]
  private counts = new Uint16Array(1024)
  private readonly failures = new Map<string, number>()

  constructor(receivers: number) {
    this.receivers = receivers
    this.seen = Array.from({ length: receivers }, () => new Growable())
  }

  /** Takes the next message number. */
  issue(): number {
    const index = this.issued++
    this.status.ensure(index)
    return index
  }

  accept(index: number): void {
    if (this.status.bytes[index] !== 0) return
    this.status.bytes[index] = ACCEPTED
    this.accepted++
  }

  fail(index: number, reason: string): void {
    if (this.status.bytes[index] !== 0) return
    this.status.bytes[index] = FAILED
    this.failed++
    this.failures.set(reason, (this.failures.get(reason) ?? 0) + 1)
  }

  /** Records a delivery; false for a duplicate or a message this ledger never issued. */
  deliver(receiver: number, index: number): boolean {
    if (index < 0 || index >= this.issued) return false
    const seen = this.seen[receiver]!
    seen.ensure(index)
    if (seen.bytes[index]) {
      this.duplicates++
      return false
    }
    seen.bytes[index] = 1
    this.deliveries++
    if (index >= this.counts.length) {
      let size = this.counts.length
      while (size <= index) size *= 2
      const next = new Uint16Array(size)
      next.set(this.counts)
      this.counts = next
    }
    // A delivery can arrive before the sender hears its 200: completion does not wait for accept().
    if (++this.counts[index]! === this.receivers) this.completed++
    return true
  }

  /** Issued messages that some receiver still lacks and whose send has not failed. */
  inFlight(): number {
    return this.issued - this.completed - this.failed
  }

  has(receiver: number, index: number): boolean {
    const seen = this.seen[receiver]!
    return index < seen.bytes.length && seen.bytes[index] === 1
  }

  /** Every expected pair is delivered or counted as lost, with the receiver's own reason when it has one. */
  account(states: ReceiverState[]): Accounting {
    const lossesByReason = new Map<string, number>()
    let delivered = 0
    let lost = 0
    for (let r = 0; r < this.receivers; r++) {
      let missing = 0
      for (let index = 0; index < this.issued; index++) {
        if (this.status.bytes[index] !== ACCEPTED) continue
        if (this.has(r, index)) delivered++
        else missing++
      }
      if (missing === 0) continue
      lost += missing
      const state = states[r]
      const reason = state?.failure ?? (state && state.historyLost > 0 ? REASON_HISTORY : REASON_TIMEOUT)
      lossesByReason.set(reason, (lossesByReason.get(reason) ?? 0) + missing)
    }
    return {
      receivers: this.receivers,
      sent: this.accepted,
      failedSends: this.failed,
      expected: this.accepted * this.receivers,
      delivered,
      lost,
      losses: [...lossesByReason].map(([reason, count]) => ({ reason, count })),
      duplicates: this.duplicates,
    }
  }

  sendFailures(): Loss[] {
    return [...this.failures].map(([reason, count]) => ({ reason, count }))
  }
}

/** Adds accounts up (e.g. a scenario's subjects, or a whole run). */
export function addAccounts(accounts: Accounting[]): Omit<Accounting, 'receivers'> {
  const losses = new Map<string, number>()
  const total = { sent: 0, failedSends: 0, expected: 0, delivered: 0, lost: 0, duplicates: 0 }
  for (const a of accounts) {
    total.sent += a.sent
    total.failedSends += a.failedSends
    total.expected += a.expected
    total.delivered += a.delivered
    total.lost += a.lost
    total.duplicates += a.duplicates
    for (const loss of a.losses) losses.set(loss.reason, (losses.get(loss.reason) ?? 0) + loss.count)
  }
  return { ...total, losses: [...losses].map(([reason, count]) => ({ reason, count })) }
}
