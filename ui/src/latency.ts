// The latency of a received message, free of the DOM so that the unit tests
// run it in Node. There are two kinds:
//
//   own          a message this page sent, back in a panel: its sentAt to the
//                panel's receipt, both on this page's clock (send → server →
//                this panel).
//   from server  anyone else's, the ticker's included: the server's stamp
//                (serverAt, the server's clock) to the receipt (this page's
//                clock), so the difference between the two clocks has to be
//                estimated first.
//
// The estimate works as NTP's does. In an exchange the page reads its clock
// (sentAt), the server stamps its own (serverAt), the page reads its clock
// again (receivedAt): a time probe, or this page's own message coming back.
// The stamp was taken between the two page readings, so the offset (server
// clock − page clock) lies in [serverAt − receivedAt, serverAt − sentAt]
// (widened by the stamp's resolution): its middle is NTP's
// serverAt − (sentAt + receivedAt) / 2, its half width half the round trip,
// so the exchange with the shortest round trip pins the offset best. Every
// interval holds the true offset, so their intersection, narrower still,
// does too. Intervals that do not meet mean that a clock moved (a laptop
// woke up, NTP stepped the server's clock): the older ones are dropped.

import { formatMs } from './format.ts'

/** serverAt is the server's Date.now(): whole milliseconds, so the stamp could be up to 1 ms later than it says. */
export const SERVER_CLOCK_RESOLUTION_MS = 1

/** One exchange with the server: the page's clock before, the server's stamp, the page's clock after. */
export interface ClockExchange {
  sentAt: number
  serverAt: number
  receivedAt: number
}

/** Where the offset (server clock − page clock, ms) can be, as far as what is known says. */
export interface OffsetBounds {
  low: number
  high: number
}

export interface ClockOffset {
  /** Server clock − page clock, ms: the middle of what the exchanges allow. */
  offsetMs: number
  /** The true offset is within offsetMs ± this: half the width of what the exchanges allow. */
  uncertaintyMs: number
  /** How many exchanges agree on it. */
  exchanges: number
}

export function offsetBounds({ sentAt, serverAt, receivedAt }: ClockExchange): OffsetBounds {
  return { low: serverAt - receivedAt, high: serverAt + SERVER_CLOCK_RESOLUTION_MS - sentAt }
}

/**
 * The offset the exchanges (oldest first) agree on: newest first, their
 * intervals intersected for as long as they meet. An exchange that does not
 * meet the newer ones ends the search: it and the older ones were taken
 * before a clock moved. Undefined without a usable exchange.
 */
export function estimateOffset(exchanges: readonly ClockExchange[]): ClockOffset | undefined {
  let low = -Infinity
  let high = Infinity
  let used = 0
  for (let i = exchanges.length - 1; i >= 0; i--) {
    const bounds = offsetBounds(exchanges[i]!)
    // Received before it was sent: not an exchange (and NaN fails the test too).
    if (!(bounds.low <= bounds.high)) continue
    const nextLow = Math.max(low, bounds.low)
    const nextHigh = Math.min(high, bounds.high)
    if (nextLow > nextHigh) break
    low = nextLow
    high = nextHigh
    used++
  }
  if (used === 0) return undefined
  return { offsetMs: (low + high) / 2, uncertaintyMs: (high - low) / 2, exchanges: used }
}

/** At most this many exchanges are kept, the newest. */
export const EXCHANGES_KEPT = 32
/** An exchange older than this (page clock, against the newest) is dropped: the two clocks drift apart slowly. */
export const EXCHANGE_MAX_AGE_MS = 5 * 60_000

/** The recent exchanges with the server and what they say about its clock. */
export class ClockOffsetEstimator {
  private readonly exchanges: ClockExchange[] = []
  private current: ClockOffset | undefined

  get estimate(): ClockOffset | undefined {
    return this.current
  }

  /** Adds an exchange; true when the estimate changed. */
  add(exchange: ClockExchange): boolean {
    this.exchanges.push(exchange)
    this.exchanges.sort((a, b) => a.receivedAt - b.receivedAt)
    const newest = this.exchanges.at(-1)!.receivedAt
    const keepFrom = this.exchanges.findIndex((x) => newest - x.receivedAt <= EXCHANGE_MAX_AGE_MS)
    this.exchanges.splice(0, Math.max(keepFrom, this.exchanges.length - EXCHANGES_KEPT))
    const before = this.current
    this.current = estimateOffset(this.exchanges)
    return (
      before?.offsetMs !== this.current?.offsetMs ||
      before?.uncertaintyMs !== this.current?.uncertaintyMs ||
      before?.exchanges !== this.current?.exchanges
    )
  }
}

export type ReceivedLatency =
  /** A message this page sent: from its sentAt to this panel's receipt, both on this page's clock. */
  | { kind: 'own'; ms: number }
  /** Anyone else's: from the server's stamp to this panel's receipt, across the two clocks, ± uncertaintyMs. */
  | { kind: 'from-server'; ms: number; uncertaintyMs: number; offset: ClockOffset }

export function ownLatency(sentAt: number, receivedAt: number): ReceivedLatency {
  return { kind: 'own', ms: receivedAt - sentAt }
}

/**
 * From the server's stamp to the receipt: the stamp put on the page's clock
 * (its middle, given the resolution, minus the offset), then subtracted. A
 * message cannot arrive before it was stamped, so an estimate that says so
 * (within its uncertainty) shows 0.
 */
export function fromServerLatency(serverAt: number, receivedAt: number, offset: ClockOffset): ReceivedLatency {
  const stampOnPageClock = serverAt + SERVER_CLOCK_RESOLUTION_MS / 2 - offset.offsetMs
  return {
    kind: 'from-server',
    ms: Math.max(0, receivedAt - stampOnPageClock),
    uncertaintyMs: offset.uncertaintyMs + SERVER_CLOCK_RESOLUTION_MS / 2,
    offset,
  }
}

/** What a message received at `receivedAt` shows: its own latency when this page sent it, else the server's, once the offset is known. */
export function receivedLatency(
  message: { serverAt: number; ownSentAt?: number | undefined },
  receivedAt: number,
  offset: ClockOffset | undefined,
): ReceivedLatency | undefined {
  if (message.ownSentAt !== undefined) return ownLatency(message.ownSentAt, receivedAt)
  return offset ? fromServerLatency(message.serverAt, receivedAt, offset) : undefined
}

const ms = formatMs

/** The figure a panel shows, its kind, and what its tooltip says it is. */
export function describeLatency(latency: ReceivedLatency): { figure: string; kind: string; title: string } {
  if (latency.kind === 'own') {
    return {
      figure: ms(latency.ms),
      kind: '',
      title:
        "Sent from this page: from the send to this panel handling the message, both on this page's clock " +
        "(to the server and back, plus the browser's event loop, timers and rendering on the way).",
    }
  }
  const { offset } = latency
  const apart = offset.offsetMs >= 0 ? 'ahead of' : 'behind'
  return {
    figure: `≈ ${ms(latency.ms)}`,
    kind: 'from server',
    title:
      "Sent by someone else: from the server's stamp (its clock) to this panel handling the message (this page's " +
      `clock). The server's clock is ${ms(Math.abs(offset.offsetMs))} ${apart} this page's ± ` +
      `${ms(offset.uncertaintyMs)}, as ${offset.exchanges} exchange${offset.exchanges === 1 ? '' : 's'} with it ` +
      `showed, so this is good to ± ${ms(latency.uncertaintyMs)}. One way, server to page: ` +
      'the figure for a message this page sent also includes the way up.',
  }
}
