import { afterEach, describe, expect, it } from 'vitest'
import { Hub } from '../../server/core/hub.ts'
import type { ChatMessage, LogEntry } from '../../server/core/protocol.ts'
import { PriceWalk, Ticker, TICKER_ROOM, TICKER_SENDER, type TickerClock } from '../../server/core/ticker.ts'

/** A clock whose time moves only when the test says so; timers run as their time comes. */
class ManualClock implements TickerClock {
  time = 1_700_000_000_000.25
  private timers: Array<{ at: number; callback: () => void }> = []

  now(): number {
    return this.time
  }

  setTimeout(callback: () => void, ms: number): unknown {
    const timer = { at: this.time + ms, callback }
    this.timers.push(timer)
    return timer
  }

  clearTimeout(handle: unknown): void {
    this.timers = this.timers.filter((t) => t !== handle)
  }

  get pending(): number {
    return this.timers.length
  }

  /** Runs every timer due within `ms`, each at its own time. */
  advance(ms: number): void {
    const end = this.time + ms
    for (;;) {
      const next = this.timers.filter((t) => t.at <= end).sort((a, b) => a.at - b.at)[0]
      if (!next) break
      this.timers = this.timers.filter((t) => t !== next)
      this.time = Math.max(this.time, next.at)
      next.callback()
    }
    this.time = end
  }

  /** The event loop was blocked: time passes and no timer runs until the next advance(). */
  stall(ms: number): void {
    this.time += ms
  }
}

const hubs: Hub[] = []
const tickers: Ticker[] = []
afterEach(() => {
  tickers.splice(0).forEach((t) => t.close())
  hubs.splice(0).forEach((h) => h.close())
})

function setup(hz = 4, extra: Partial<ConstructorParameters<typeof Ticker>[0]> = {}) {
  const hub = new Hub({ historyLimit: 10_000, maxRooms: 10 })
  const clock = new ManualClock()
  const ticker = new Ticker({ hub, hz, clock, ...extra })
  hubs.push(hub)
  tickers.push(ticker)
  const updates = async () =>
    (await hub.read(TICKER_ROOM, { seq: 0 }, { entries: 100_000, textChars: Infinity })).entries.filter(
      (e): e is ChatMessage => e.type === 'message',
    )
  const member = async (name: string, deliver?: (entry: LogEntry) => void) => {
    const client = hub.connect({ name, transport: 'test', deliver })
    await hub.join(client.clientId, TICKER_ROOM)
    return client
  }
  return { hub, clock, ticker, updates, member }
}

describe('Ticker', () => {
  it('starts ticking when the room gets its first member and stops when the last one leaves', async () => {
    const { hub, clock, ticker, updates, member } = setup(4)
    clock.advance(5000)
    expect(await updates()).toHaveLength(0)
    const ann = await member('ann')
    clock.advance(1000)
    expect(await updates()).toHaveLength(4)
    const bob = await member('bob')
    await hub.leave(ann.clientId, TICKER_ROOM)
    clock.advance(1000)
    expect(await updates()).toHaveLength(8)
    hub.disconnect(bob.clientId)
    expect(ticker.running).toBe(false)
    expect(clock.pending).toBe(0)
    const seq = (await hub.read(TICKER_ROOM)).seq
    clock.advance(5000)
    expect((await hub.read(TICKER_ROOM)).seq).toBe(seq)
  })

  it('sends nothing to a room that only has readers, or when other rooms get members', async () => {
    const { hub, clock, ticker, updates } = setup(4)
    await hub.read(TICKER_ROOM)
    hub.waitFor(TICKER_ROOM, 0, { woken() {} })
    const ann = hub.connect({ name: 'ann', transport: 'test' })
    await hub.join(ann.clientId, 'lobby')
    expect(ticker.running).toBe(false)
    clock.advance(5000)
    expect(await updates()).toHaveLength(0)
    expect(clock.pending).toBe(0)
  })

  it('welcomes a joiner before its first update: nothing is published during the join', async () => {
    const { clock, updates, member } = setup(4)
    const got: LogEntry[] = []
    await member('ann', (e) => got.push(e))
    expect(await updates()).toHaveLength(0)
    clock.advance(250)
    expect(got.map((e) => e.type)).toEqual(['message'])
  })

  it("publishes each update as an ordinary message from the server, sentAt being the tick's time", async () => {
    const { clock, updates, member } = setup(4)
    await member('ann')
    const startedAt = clock.now()
    clock.advance(1000)
    const got = await updates()
    expect(got.map((m) => m.sentAt)).toEqual([1, 2, 3, 4].map((n) => startedAt + n * 250))
    for (const m of got) {
      expect(m).toMatchObject({ type: 'message', room: TICKER_ROOM, from: TICKER_SENDER })
      expect(m.text).toMatch(/^(BTC|ETH|SOL) \d+\.\d{2} [+-]\d+\.\d{2}%$/)
    }
    expect(TICKER_SENDER).toEqual({ clientId: 'ticker', name: 'ticker', transport: 'server' })
  })

  it('keeps to its rate when timers run late, and does not make up a long stall with a burst', async () => {
    const { clock, updates, member } = setup(10)
    await member('ann')
    const t0 = clock.now()
    clock.advance(100)
    // A timer 30 ms late: the next tick is still due on the original schedule.
    clock.stall(130)
    clock.advance(0)
    clock.advance(70)
    expect((await updates()).map((m) => m.sentAt! - t0)).toEqual([100, 230, 300])
    // Blocked for 3.5 periods: one update when the loop is free again, then every 100 ms from there.
    clock.stall(350)
    clock.advance(0)
    clock.advance(200)
    expect((await updates()).map((m) => m.sentAt! - t0)).toEqual([100, 230, 300, 650, 750, 850])
  })

  it('follows its rate over a long run: hz updates per second, evenly spaced', async () => {
    const { clock, updates, member } = setup(25)
    await member('ann')
    clock.advance(60_000)
    const got = await updates()
    expect(got).toHaveLength(25 * 60)
    const gaps = got.slice(1).map((m, i) => m.sentAt! - got[i]!.sentAt!)
    for (const gap of gaps) expect(gap).toBeCloseTo(40, 6)
  })

  it('never ticks at 0 Hz', async () => {
    const { clock, ticker, updates, member } = setup(0)
    await member('ann')
    clock.advance(10_000)
    expect(await updates()).toHaveLength(0)
    expect(ticker.running).toBe(false)
    expect(clock.pending).toBe(0)
  })

  it('stops when delivering an update closes the last member', async () => {
    const { hub, clock, ticker, updates, member } = setup(4)
    const ann = await member('ann', (e) => {
      if (e.type === 'message') hub.disconnect(ann.clientId)
    })
    clock.advance(250)
    expect(await updates()).toHaveLength(1)
    expect(ticker.running).toBe(false)
    expect(clock.pending).toBe(0)
  })

  it('reports a failing tick and stops instead of throwing into the timer', async () => {
    const errors: unknown[] = []
    const broken = {
      next: () => {
        throw new Error('no prices')
      },
    } as unknown as PriceWalk
    const { clock, ticker, member } = setup(4, { prices: broken, onError: (e) => errors.push(e) })
    await member('ann')
    expect(() => clock.advance(1000)).not.toThrow()
    expect(errors).toHaveLength(1)
    expect(ticker.running).toBe(false)
  })
})

describe('PriceWalk', () => {
  it('moves one symbol per step, in turn, and shows its change since the start', () => {
    const up = new PriceWalk(() => 1)
    expect([up.next(), up.next(), up.next(), up.next()]).toEqual([
      'BTC 64128.00 +0.20%',
      'ETH 3406.80 +0.20%',
      'SOL 150.30 +0.20%',
      'BTC 64256.26 +0.40%',
    ])
    const down = new PriceWalk(() => 0, { BTC: 100 })
    expect(down.next()).toBe('BTC 99.80 -0.20%')
  })

  it('never shows a change that rounds to nothing as negative', () => {
    const flat = new PriceWalk(() => 0.4999, { BTC: 64000 })
    expect(flat.next()).toBe('BTC 63999.97 +0.00%')
  })
})
