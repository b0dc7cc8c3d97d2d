import { describe, expect, it } from 'vitest'
import {
  ClockOffsetEstimator,
  EXCHANGE_MAX_AGE_MS,
  EXCHANGES_KEPT,
  describeLatency,
  estimateOffset,
  fromServerLatency,
  offsetBounds,
  receivedLatency,
  type ClockExchange,
} from '../../ui/src/latency.ts'

/**
 * Two clocks over one true time: the server's reads it as it is (whole ms, as Date.now() does),
 * the page's reads it `skewMs` ahead (with fractions, as performance.now() does).
 */
function clocks(skewMs: number) {
  const page = (t: number) => t + skewMs
  const server = (t: number) => Math.floor(t)
  /** An exchange that leaves at true time t, is stamped `up` ms later and back `down` ms after that. */
  const exchange = (t: number, up: number, down: number): ClockExchange => ({
    sentAt: page(t),
    serverAt: server(t + up),
    receivedAt: page(t + up + down),
  })
  return { page, server, exchange }
}

describe('offsetBounds', () => {
  it("puts the offset between the stamp minus either page reading, widened by the stamp's 1 ms resolution", () => {
    expect(offsetBounds({ sentAt: 100.25, serverAt: 1000, receivedAt: 104.25 })).toEqual({
      low: 1000 - 104.25,
      high: 1001 - 100.25,
    })
  })
})

describe('estimateOffset', () => {
  it("is NTP's serverAt − (sentAt + receivedAt) / 2 for one symmetric exchange, ± half its round trip", () => {
    const { exchange } = clocks(0)
    const estimate = estimateOffset([exchange(1000, 2, 2)])!
    // The stamp's middle (1002.5, given its resolution) against the page's middle (1002).
    expect(estimate.offsetMs).toBeCloseTo(0.5, 9)
    expect(estimate.uncertaintyMs).toBeCloseTo(2.5, 9)
    expect(estimate.exchanges).toBe(1)
  })

  it('finds a page clock 5 s ahead of the server', () => {
    const { exchange } = clocks(5000)
    const estimate = estimateOffset([exchange(1000, 1.5, 1.5), exchange(2000, 3, 3)])!
    expect(Math.abs(estimate.offsetMs - -5000)).toBeLessThanOrEqual(estimate.uncertaintyMs)
    // Half the shortest round trip (3 ms), plus half the stamp's resolution.
    expect(estimate.uncertaintyMs).toBeLessThanOrEqual(2)
  })

  it('trusts the shortest round trip over a long, lopsided one', () => {
    const { exchange } = clocks(-250)
    // A short poll: up at once, then nearly a second waiting for the next poll on the way down.
    const lopsided = exchange(1000, 1, 900)
    const short = exchange(3000, 0.4, 0.4)
    const alone = estimateOffset([lopsided])!
    // The lopsided exchange alone is 450 ms off NTP's midpoint; with the short one, the short one decides,
    // whether it came first or last.
    expect(Math.abs(alone.offsetMs - 250)).toBeGreaterThan(400)
    for (const both of [estimateOffset([lopsided, short])!, estimateOffset([short, lopsided])!]) {
      expect(Math.abs(both.offsetMs - 250)).toBeLessThanOrEqual(both.uncertaintyMs)
      expect(both.uncertaintyMs).toBeLessThanOrEqual(estimateOffset([short])!.uncertaintyMs)
    }
  })

  it('narrows with every exchange that agrees, and never excludes the true offset', () => {
    const { exchange } = clocks(1234.5)
    const exchanges = [exchange(0, 5, 1), exchange(100, 1, 5), exchange(200, 2, 2.5), exchange(300, 0.7, 3)]
    let last = Infinity
    for (let n = 1; n <= exchanges.length; n++) {
      const estimate = estimateOffset(exchanges.slice(0, n))!
      expect(estimate.exchanges).toBe(n)
      expect(estimate.uncertaintyMs).toBeLessThanOrEqual(last)
      expect(Math.abs(estimate.offsetMs - -1234.5)).toBeLessThanOrEqual(estimate.uncertaintyMs)
      last = estimate.uncertaintyMs
    }
  })

  it('drops the exchanges from before a clock moved, and follows the newest ones', () => {
    const before = clocks(0)
    const after = clocks(-60_000) // the page's clock stood still for a minute (a laptop asleep)
    const estimate = estimateOffset([
      before.exchange(1000, 1, 1),
      before.exchange(2000, 1, 1),
      after.exchange(70_000, 2, 2),
    ])!
    expect(estimate.exchanges).toBe(1)
    expect(Math.abs(estimate.offsetMs - 60_000)).toBeLessThanOrEqual(estimate.uncertaintyMs)
  })

  it('knows nothing without an exchange, and ignores one received before it was sent', () => {
    expect(estimateOffset([])).toBeUndefined()
    expect(estimateOffset([{ sentAt: 10, serverAt: 5, receivedAt: 8 }])).toBeUndefined()
  })
})

describe('ClockOffsetEstimator', () => {
  it('says when the estimate changed', () => {
    const { exchange } = clocks(0)
    const estimator = new ClockOffsetEstimator()
    expect(estimator.estimate).toBeUndefined()
    expect(estimator.add(exchange(0, 1, 1))).toBe(true)
    expect(estimator.add(exchange(10, 0.5, 0.5))).toBe(true)
    expect(estimator.estimate!.exchanges).toBe(2)
  })

  it(`keeps the newest ${EXCHANGES_KEPT} exchanges, none older than ${EXCHANGE_MAX_AGE_MS / 60_000} minutes`, () => {
    const { exchange } = clocks(0)
    const estimator = new ClockOffsetEstimator()
    for (let i = 0; i < EXCHANGES_KEPT + 10; i++) estimator.add(exchange(i * 10, 1, 1))
    expect(estimator.estimate!.exchanges).toBe(EXCHANGES_KEPT)
    estimator.add(exchange(EXCHANGE_MAX_AGE_MS + 1000, 1, 1))
    expect(estimator.estimate!.exchanges).toBe(1)
  })
})

describe('the latency of a received message', () => {
  it("is sentAt to receipt on the page's clock for a message this page sent, whatever the offset", () => {
    expect(receivedLatency({ serverAt: 1, ownSentAt: 500.25 }, 512.5, undefined)).toEqual({ kind: 'own', ms: 12.25 })
  })

  it("is unknown for someone else's message until the offset is", () => {
    expect(receivedLatency({ serverAt: 1000 }, 1004, undefined)).toBeUndefined()
  })

  it("is small and positive for someone else's message on a page whose clock is 5 s ahead", () => {
    const { page, server, exchange } = clocks(5000)
    const offset = estimateOffset([exchange(1000, 0.8, 0.8), exchange(1500, 1.2, 1.1)])!
    // Stamped by the server at true time 2000.3, handled by the panel 4.1 ms later.
    const latency = receivedLatency({ serverAt: server(2000.3) }, page(2004.4), offset)
    if (latency?.kind !== 'from-server') throw new Error(`expected a latency from the server, got ${latency?.kind}`)
    expect(latency.ms).toBeGreaterThan(0)
    expect(latency.ms).toBeLessThan(10)
    expect(Math.abs(latency.ms - 4.1)).toBeLessThanOrEqual(latency.uncertaintyMs)
    // Read without the offset, the page's clock would make it 5 seconds.
    expect(page(2004.4) - server(2000.3)).toBeGreaterThan(5000)
  })

  it('is small and positive on a page whose clock is 5 s behind, too', () => {
    const { page, server, exchange } = clocks(-5000)
    const offset = estimateOffset([exchange(1000, 0.8, 0.8)])!
    const latency = fromServerLatency(server(2000.3), page(2004.4), offset)
    expect(latency.ms).toBeGreaterThan(0)
    expect(latency.ms).toBeLessThan(10)
  })

  it('is never negative: a message cannot arrive before it was stamped', () => {
    const offset = { offsetMs: 0, uncertaintyMs: 2, exchanges: 1 }
    expect(fromServerLatency(1000, 999.9, offset).ms).toBe(0)
  })
})

describe('describeLatency', () => {
  it('shows an own message plainly and says what it measured', () => {
    const { figure, kind, title } = describeLatency({ kind: 'own', ms: 12.34 })
    expect(figure).toBe('12.3 ms')
    expect(kind).toBe('')
    expect(title).toMatch(/^Sent from this page: from the send to this panel handling the message/)
  })

  it("marks someone else's as approximate and from the server, with the offset and how good it is", () => {
    const latency = fromServerLatency(1000, 6004.55, { offsetMs: -5000.25, uncertaintyMs: 0.8, exchanges: 3 })
    const { figure, kind, title } = describeLatency(latency)
    expect(figure).toBe('≈ 3.8 ms')
    expect(kind).toBe('from server')
    expect(title).toContain(
      "The server's clock is 5000.3 ms behind this page's ± 0.8 ms, as 3 exchanges with it showed",
    )
    expect(title).toContain('good to ± 1.3 ms')
  })
})
