import { afterEach, describe, expect, it, vi } from 'vitest'
import { emptyTally, type WireTally } from '../../server/wire/types.ts'
import { bytesPerMessage, latencyStats, percentile, throttle } from '../../ui/src/charts/chart-data.ts'
import type { LatencySample } from '../../ui/src/state/lab.ts'

function tally(partial: Partial<WireTally>): WireTally {
  return {
    ...emptyTally(),
    ...partial,
  }
}

describe('bytesPerMessage', () => {
  it('divides overhead and payload by the messages in each direction', () => {
    const result = bytesPerMessage(
      tally({ overheadOut: 900, payloadOut: 300, messagesOut: 3, overheadIn: 50, payloadIn: 150, messagesIn: 2 }),
    )
    expect(result.out).toEqual({ overhead: 300, payload: 100, total: 400, messages: 3 })
    expect(result.in).toEqual({ overhead: 25, payload: 75, total: 100, messages: 2 })
  })

  it('says nothing rather than dividing by zero', () => {
    expect(bytesPerMessage(tally({ overheadOut: 900, overheadIn: 40 }))).toEqual({ out: undefined, in: undefined })
    expect(bytesPerMessage(undefined)).toEqual({ out: undefined, in: undefined })
  })
})

describe('latencyStats', () => {
  const sample = (transport: LatencySample['transport'], ms: number): LatencySample => ({
    transport,
    via: 'websocket',
    ms,
    at: 0,
    text: '',
  })

  it('summarises one receiving transport', () => {
    const samples = [sample('sse', 3), sample('websocket', 100), sample('sse', 1), sample('sse', 2)]
    expect(latencyStats(samples, 'sse')).toEqual({ count: 3, min: 1, median: 2, p95: 3, max: 3, last: 2 })
    expect(latencyStats(samples, 'long-polling')).toBeUndefined()
  })

  it('takes nearest-rank percentiles', () => {
    const sorted = Array.from({ length: 100 }, (_, i) => i + 1)
    expect(percentile(sorted, 50)).toBe(50)
    expect(percentile(sorted, 95)).toBe(95)
    expect(percentile([7], 95)).toBe(7)
    expect(percentile([], 50)).toBeNaN()
  })
})

describe('throttle', () => {
  afterEach(() => vi.useRealTimers())

  it('runs at once, then at most once per interval, keeping the last call', () => {
    vi.useFakeTimers()
    const run = vi.fn()
    const throttled = throttle(run, 500)
    throttled.call()
    expect(run).toHaveBeenCalledTimes(1)
    for (let i = 0; i < 10; i++) throttled.call()
    expect(run).toHaveBeenCalledTimes(1)
    vi.advanceTimersByTime(499)
    expect(run).toHaveBeenCalledTimes(1)
    vi.advanceTimersByTime(1)
    expect(run).toHaveBeenCalledTimes(2)
    vi.advanceTimersByTime(2000)
    expect(run).toHaveBeenCalledTimes(2)
    throttled.call()
    expect(run).toHaveBeenCalledTimes(3)
  })

  it('forgets a pending call when cancelled', () => {
    vi.useFakeTimers()
    const run = vi.fn()
    const throttled = throttle(run, 500)
    throttled.call()
    throttled.call()
    throttled.cancel()
    vi.advanceTimersByTime(1000)
    expect(run).toHaveBeenCalledTimes(1)
  })
})
