// The built-in `ticker` room: a simulated price feed, so that a class can watch
// a server push a steady stream of small updates without any outside network.
// The server publishes into the room through the hub like any sender, so the
// updates reach every transport, land in the room's log (polling, resume and
// history work on them) and are counted by the wire meter. It ticks only while
// the room has members: a room nobody is in costs nothing.
import type { Hub } from './hub.ts'
import type { LogEntry, Sender } from './protocol.ts'

export const TICKER_ROOM = 'ticker'
/** Who the updates are from: the server itself, not a client on some transport. */
export const TICKER_SENDER: Sender = { clientId: 'ticker', name: 'ticker', transport: 'server' }

/** Time and timers, injectable so that the tests can drive the ticker without waiting. */
export interface TickerClock {
  /** Wall-clock ms with fractions: the clock clients stamp their own sentAt with, so an update's age is receipt - sentAt. */
  now(): number
  setTimeout(callback: () => void, ms: number): unknown
  clearTimeout(handle: unknown): void
}

export const systemClock: TickerClock = {
  now: () => performance.timeOrigin + performance.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms).unref(),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
}

interface Quote {
  symbol: string
  open: number
  price: number
}

/** Largest move of one step, as a fraction of the price. */
const STEP = 0.002

/**
 * A random walk over a few symbols, one symbol per step, in turn. Each text
 * reads like a ticker line: the symbol, its price and its change since the
 * walk began, e.g. "BTC 64012.55 +0.02%".
 */
export class PriceWalk {
  private readonly quotes: Quote[]
  private readonly random: () => number
  private turn = 0

  constructor(
    random: () => number = Math.random,
    opening: Record<string, number> = { BTC: 64000, ETH: 3400, SOL: 150 },
  ) {
    this.random = random
    this.quotes = Object.entries(opening).map(([symbol, open]) => ({ symbol, open, price: open }))
  }

  next(): string {
    const quote = this.quotes[this.turn++ % this.quotes.length]!
    quote.price *= 1 + (this.random() * 2 - 1) * STEP
    // Rounded before the sign is chosen, so that a change too small to show reads "+0.00%", never "-0.00%".
    const percent = Math.round(((quote.price - quote.open) / quote.open) * 10_000) / 100
    return `${quote.symbol} ${quote.price.toFixed(2)} ${percent < 0 ? '-' : '+'}${Math.abs(percent).toFixed(2)}%`
  }
}

export interface TickerOptions {
  hub: Hub
  /** Updates per second; 0 turns the ticker off. */
  hz: number
  room?: string
  clock?: TickerClock
  prices?: PriceWalk
  /** Told about anything a tick throws; the ticker stops rather than take the process down. */
  onError?: (error: unknown) => void
}

export class Ticker {
  readonly room: string
  private readonly hub: Hub
  private readonly periodMs: number
  private readonly clock: TickerClock
  private readonly prices: PriceWalk
  private readonly onError: (error: unknown) => void
  private readonly unsubscribe: () => void
  private timer: unknown
  private dueAt = 0

  constructor(options: TickerOptions) {
    this.hub = options.hub
    this.room = options.room ?? TICKER_ROOM
    this.periodMs = options.hz > 0 ? 1000 / options.hz : Infinity
    this.clock = options.clock ?? systemClock
    this.prices = options.prices ?? new PriceWalk()
    this.onError = options.onError ?? (() => {})
    // Membership changes show in the log as join and leave notices (or presence batches). A joiner is
    // added right after its notice, a leaver removed right before its own, so
    // a join starts the ticker and a leave that leaves nobody stops it.
    this.unsubscribe = options.hz > 0 ? this.hub.onAppend((entry) => this.onEntry(entry)) : () => {}
  }

  get running(): boolean {
    return this.timer !== undefined
  }

  /** Stops ticking for good (the server is closing). */
  close(): void {
    this.unsubscribe()
    this.stop()
  }

  private onEntry(entry: LogEntry): void {
    if ((entry.type !== 'notice' && entry.type !== 'presence') || entry.room !== this.room) return
    // Any join or leave can change whether this server ticks (with several, a leave can hand it the room).
    if (this.occupied()) this.start()
    else this.stop()
  }

  /**
   * Someone is in the room, and (with several servers) this server ticks for
   * it: the one with the first name among its members' servers, which every
   * server reads the same from the room's notices. One ticker, not one per server.
   */
  private occupied(): boolean {
    const instance = this.hub.instance
    if (instance === undefined) return this.hub.presence(this.room, 1).length > 0
    let first: string | undefined
    for (const member of this.hub.presence(this.room)) {
      if (member.instance !== undefined && (first === undefined || member.instance < first)) first = member.instance
    }
    return first === instance
  }

  private start(): void {
    if (this.running) return
    this.dueAt = this.clock.now() + this.periodMs
    // Never synchronously: the joiner's welcome has to go out before its first update.
    this.timer = this.clock.setTimeout(() => this.tick(), this.periodMs)
  }

  private stop(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer)
    this.timer = undefined
  }

  private tick(): void {
    this.timer = undefined
    const now = this.clock.now()
    try {
      if (!this.occupied()) return
      // An update the log could not take (Redis unreachable) is skipped; the next tick tries again.
      this.hub.publish(TICKER_SENDER, this.room, { text: this.prices.next(), sentAt: now }).catch(() => {})
    } catch (error) {
      this.onError(error)
      return
    }
    // Delivering the update can close a slow member, and with it the last one
    // (or a join in between may already have started a new schedule).
    if (this.running || !this.occupied()) return
    // Each tick is due a period after the last one was due, so timer lateness
    // does not slow the rate down; one that is more than a period late is not
    // made up with a burst, the schedule starts again from now.
    this.dueAt += this.periodMs
    if (this.dueAt <= now) this.dueAt = now + this.periodMs
    this.timer = this.clock.setTimeout(() => this.tick(), this.dueAt - now)
  }
}
