// When an SSE stream is renewed: SSE_STREAM_MAX_MS ±10%, on a 100 ms grain, so
// that a crowd of idle streams shares a few timers instead of keeping one each.
import { describe, expect, it } from 'vitest'
import { renewalDelay } from '../../server/transports/sse.ts'

describe('the renewal of an SSE stream', () => {
  it('comes within 10% of SSE_STREAM_MAX_MS, on a whole multiple of 100 ms', () => {
    for (const random of [0, 0.123456, 0.5, 0.987654, 0.999999]) {
      const delay = renewalDelay(30_000, random)
      expect(delay % 100, `random ${random}`).toBe(0)
      expect(delay).toBeGreaterThanOrEqual(27_000)
      expect(delay).toBeLessThanOrEqual(33_000)
    }
  })

  it('gives a thousand streams at most 61 distinct delays, and spreads them over the whole window', () => {
    const delays = new Set(Array.from({ length: 1000 }, (_, i) => renewalDelay(30_000, i / 1000)))
    expect(delays.size).toBeLessThanOrEqual(61)
    expect(Math.min(...delays)).toBe(27_000)
    expect(Math.max(...delays)).toBe(33_000)
  })

  it('is never shorter than the grain, however short SSE_STREAM_MAX_MS is', () => {
    expect(renewalDelay(10, 0)).toBe(100)
  })
})
