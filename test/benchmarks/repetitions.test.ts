// A figure measured several times becomes one row: the median of the readings,
// with every reading kept as its spread; counts and times add up.
import { describe, expect, it } from 'vitest'
import { combineDelivery, combineHttp, turnOrder } from '../../benchmarks/scenarios/throughput.ts'
import { combineIdle } from '../../benchmarks/scenarios/idle.ts'
import { combineLatency } from '../../benchmarks/scenarios/latency.ts'
import { fixtureResults } from './fixture.ts'

const results = fixtureResults()
const { repetitions: _r, spread: _s, ...delivery } = results.throughput!.rows[0]!
const { repetitions: _ri, spread: _si, ...idle } = results.idle!.rows[0]!
const { repetitions: _rl, spread: _sl, ...latency } = results.latency!.rows[0]!

describe('repeated measurements', () => {
  it('give a delivery row the median rate of its repetitions, their spread, and the counts of all of them', () => {
    const row = combineDelivery([
      { ...delivery, deliveriesPerSecond: 900, messagesPerSecond: 900, deliveries: 3000, note: 'slow start' },
      { ...delivery, deliveriesPerSecond: 1200, messagesPerSecond: 1200, deliveries: 4000 },
      { ...delivery, deliveriesPerSecond: 1000, messagesPerSecond: 1000, deliveries: 3500, note: 'slow start' },
    ])
    expect(row.repetitions).toBe(3)
    expect(row.deliveriesPerSecond).toBe(1000)
    expect(row.spread.deliveriesPerSecond).toEqual({ values: [900, 1200, 1000], min: 900, max: 1200 })
    expect(row.deliveries).toBe(10_500)
    expect(row.measuredMs).toBe(3 * delivery.measuredMs)
    expect(row.accounting.sent).toBe(3 * delivery.accounting.sent)
    expect(row.note).toBe('slow start')
  })

  it('give a latency row the repetition whose p99 is the median, every p50 and p99 as the spread, and all the notes', () => {
    const window = (p50Us: number, p99Us: number, note?: string) => ({
      ...latency,
      latency: { ...latency.latency, p50Us, p99Us },
      ...(note ? { note } : {}),
    })
    const row = combineLatency([window(900, 9000, 'late sends'), window(1000, 30_000), window(1100, 12_000)])
    expect(row.repetitions).toBe(3)
    expect(row.latency.p99Us).toBe(12_000)
    expect(row.latency.p50Us).toBe(1100)
    expect(row.spread).toEqual({
      p50Us: { values: [900, 1000, 1100], min: 900, max: 1100 },
      p99Us: { values: [9000, 30_000, 12_000], min: 9000, max: 30_000 },
    })
    expect(row.note).toBe('late sends')
  })

  it('give an HTTP row the median requests per second and the requests of every run', () => {
    const run = {
      ...delivery,
      endpoint: 'POST send' as const,
      connections: 10,
      measuredMs: 1000,
      requests: 100,
      requestsPerSecond: 100,
      latencyMsP50: 1,
      latencyMsP99: 3,
      non2xx: 0,
      errors: 0,
      serverCpuSeconds: 0.5,
      requestsPerServerCpuSecond: 200,
    }
    const row = combineHttp([run, { ...run, requests: 300, requestsPerSecond: 300, non2xx: 2 }, run])
    expect(row).toMatchObject({ repetitions: 3, requests: 500, requestsPerSecond: 100, non2xx: 2, measuredMs: 3000 })
    expect(row.spread.requestsPerSecond).toMatchObject({ min: 100, max: 300 })
  })

  it('take an HTTP endpoint in turns, the lab and its baseline each once a round, the order reversed every round', () => {
    expect(turnOrder(['lab', 'bare'], 4)).toEqual(['lab', 'bare', 'bare', 'lab', 'lab', 'bare', 'bare', 'lab'])
    expect(turnOrder(['lab'], 2)).toEqual(['lab', 'lab'])
  })

  it('give an idle row the median memory per connection of its fresh servers, and every failure', () => {
    const row = combineIdle([
      { ...idle, heapPerConnectionBytes: 5000, connected: 1000 },
      {
        ...idle,
        heapPerConnectionBytes: 7000,
        connected: 998,
        failed: 2,
        failures: [{ reason: 'timeout', count: 2 }],
        note: 'polls late',
      },
      { ...idle, heapPerConnectionBytes: 6000, connected: 1000 },
    ])
    expect(row.repetitions).toBe(3)
    expect(row.heapPerConnectionBytes).toBe(6000)
    expect(row.spread.heapPerConnectionBytes).toMatchObject({ min: 5000, max: 7000 })
    expect(row).toMatchObject({ connected: 998, failed: 2, failures: [{ reason: 'timeout', count: 2 }] })
    expect(row.note).toBe('polls late')
  })
})
