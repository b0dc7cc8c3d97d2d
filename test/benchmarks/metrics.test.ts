// The arithmetic of the benchmark report, on numbers worked out by hand.
import { createHistogram } from 'node:perf_hooks'
import { describe, expect, it } from 'vitest'
import {
  commandsBetween,
  compare,
  cpuSeconds,
  deadPeerWindow,
  median,
  parseCommandStats,
  peakMemory,
  perConnection,
  memoryPerConnection,
  perMessage,
  perMinute,
  perSecond,
  projectMbps,
  ratioTo,
  requestsOf,
  requestsPerMessageOf,
  sendBufferBudget,
  spreadOf,
  summarizeAge,
  summarizeHistogram,
  tallyDeliveries,
  tallyDelta,
  toNanoseconds,
  withinWindow,
  type ReapSettings,
} from '../../benchmarks/metrics.ts'
import { labEnvironment, OUT_OF_REACH } from '../../benchmarks/environment.ts'
import { SseParser, type SseEvent } from '../../benchmarks/clients/http.ts'
import { scaleSetups } from '../../benchmarks/scenarios/scale.ts'
import { emptyTally, type WireTally } from '../../server/wire/types.ts'

const tally = (over: Partial<WireTally>): WireTally => ({
  ...emptyTally(),
  ...over,
})

describe('bytes per message', () => {
  it("divides a window's byte deltas by the messages it carried, payload and overhead apart", () => {
    const before = tally({ bytesIn: 1000, bytesOut: 5000, payloadIn: 0, payloadOut: 2000, httpRequests: 3 })
    const after = tally({
      bytesIn: 1000 + 10 * 200,
      bytesOut: 5000 + 10 * 510,
      payloadIn: 0,
      payloadOut: 2000 + 10 * 490,
      httpRequests: 13,
    })
    const delta = tallyDelta(before, after)
    expect(delta).toEqual({ bytesIn: 2000, bytesOut: 5100, payloadIn: 0, payloadOut: 4900, httpRequests: 10 })
    const leg = perMessage(delta, 10)
    expect(leg.out).toEqual({ bytes: 510, payload: 490, overhead: 20 })
    expect(leg.in).toEqual({ bytes: 200, payload: 0, overhead: 200 })
  })

  it('never reports negative overhead when payload was counted before its bytes reached the socket', () => {
    expect(perMessage({ bytesIn: 0, bytesOut: 100, payloadIn: 0, payloadOut: 120, httpRequests: 0 }, 1).out).toEqual({
      bytes: 100,
      payload: 100,
      overhead: 0,
    })
  })

  it('refuses a window without messages instead of dividing by zero', () => {
    expect(() => perMessage({ bytesIn: 1, bytesOut: 1, payloadIn: 0, payloadOut: 0, httpRequests: 0 }, 0)).toThrow(
      RangeError,
    )
  })
})

describe("a transport's requests", () => {
  it("adds a baseline's tallies per role to the transport's, and leaves other transports out", () => {
    const transports = {
      'short-polling': tally({ httpRequests: 5 }),
      'short-polling:send': tally({ httpRequests: 3 }),
      'short-polling:receive': tally({ httpRequests: 7 }),
      'long-polling:receive': tally({ httpRequests: 100 }),
      'short-pollingx': tally({ httpRequests: 1000 }),
    }
    expect(requestsOf({ transports }, 'short-polling')).toBe(15)
    expect(requestsOf({ transports }, 'sse')).toBe(0)
  })

  it('are counted per message the server accepted between the marks, not per message completed there', () => {
    // Short polling completes messages in bursts of one interval: a window can end before its last burst.
    const meter = {
      before: { transports: { 'short-polling': tally({ httpRequests: 100 }) } },
      after: { transports: { 'short-polling': tally({ httpRequests: 1350 }) } },
    }
    const marks = { before: { accepted: 200, completed: 100 }, after: { accepted: 1200, completed: 900 } }
    expect(requestsPerMessageOf(meter, marks, 'short-polling')).toBe(1.25)
  })

  it('has no figure for a window in which the server accepted no message', () => {
    const meter = { before: { transports: {} }, after: { transports: { sse: tally({ httpRequests: 3 }) } } }
    expect(requestsPerMessageOf(meter, { before: { accepted: 7 }, after: { accepted: 7 } }, 'sse')).toBeUndefined()
  })
})

describe('the bandwidth projection', () => {
  it('is clients x messages per second x bytes x 8 / 10^6 Mbit/s', () => {
    expect(projectMbps(1000, 871)).toBeCloseTo(6.968, 10)
    expect(projectMbps(10_000, 871)).toBeCloseTo(69.68, 10)
    expect(projectMbps(100_000, 871)).toBeCloseTo(696.8, 10)
    expect(projectMbps(100_000, 2)).toBeCloseTo(1.6, 10)
    expect(projectMbps(1000, 500, 4)).toBeCloseTo(16, 10)
  })
})

describe('latency histograms', () => {
  it('summarize nanosecond recordings as microsecond percentiles', () => {
    const h = createHistogram()
    // 1..1000 µs, one each: p50 ~ 500 µs, p99 ~ 990 µs, max 1000 µs.
    for (let us = 1; us <= 1000; us++) h.record(us * 1000)
    const s = summarizeHistogram(h)
    expect(s.count).toBe(1000)
    expect(s.minUs).toBe(1)
    expect(s.maxUs).toBeCloseTo(1000, -1)
    expect(s.p50Us).toBeCloseTo(500, -1)
    expect(s.p90Us).toBeCloseTo(900, -1)
    expect(s.p99Us).toBeCloseTo(990, -1)
    expect(s.p999Us).toBeCloseTo(999, -1)
    expect(s.meanUs).toBeCloseTo(500.5, 0)
  })

  it('say nothing rather than something for an empty histogram', () => {
    expect(summarizeHistogram(createHistogram())).toEqual({
      count: 0,
      minUs: null,
      meanUs: null,
      p50Us: null,
      p90Us: null,
      p99Us: null,
      p999Us: null,
      maxUs: null,
    })
  })

  it('keep every sample: a latency below 1 ns is raised to 1 ns and counted as clamped', () => {
    expect(toNanoseconds(1.5)).toEqual({ ns: 1_500_000, clamped: false })
    expect(toNanoseconds(0)).toEqual({ ns: 1, clamped: true })
    expect(toNanoseconds(-0.2)).toEqual({ ns: 1, clamped: true })
  })
})

describe('per connection, per minute, per second', () => {
  it('divides the memory a crowd added by its size', () => {
    expect(perConnection(10_000_000, 20_240_000, 1000)).toBe(10_240)
  })

  it("leaves V8's young generation out of a crowd's RSS: it follows the allocation rate, not what is held", () => {
    const MB = 1024 * 1024
    // Read as a polling crowd leaves it: the young generation grown from 0.25 MB to 32 MB by the polls.
    const before = { heapUsedBytes: 20 * MB, rssBytes: 100 * MB, youngGenerationBytes: MB / 4 }
    const after = { heapUsedBytes: 25 * MB, rssBytes: 142 * MB, youngGenerationBytes: 32 * MB }
    expect(memoryPerConnection(before, after, 1024)).toEqual({ heapBytes: 5 * 1024, rssBytes: 10_496 })
  })

  it('scales a window to a minute or a second', () => {
    expect(perMinute(500, 30_000)).toBe(1000)
    expect(perSecond(250, 500)).toBe(500)
  })

  it('adds user and system CPU time between two readings', () => {
    expect(cpuSeconds({ user: 1_000_000, system: 500_000 }, { user: 2_500_000, system: 1_000_000 })).toBe(2)
  })

  it('takes the median of the finite values', () => {
    expect(median([3, 1, 2])).toBe(2)
    expect(median([4, 1, 3, 2])).toBe(2.5)
    expect(median([Number.NaN])).toBeNull()
  })
})

describe('ratios to a baseline', () => {
  it('flags throughput more than 10% below the baseline', () => {
    expect(compare(85, 100, 'higher')).toMatchObject({ ratio: 0.85, flagged: true })
    expect(compare(85, 100, 'higher').worseBy).toBeCloseTo(0.15)
    expect(compare(95, 100, 'higher')).toMatchObject({ ratio: 0.95, flagged: false })
    expect(compare(120, 100, 'higher').worseBy).toBeCloseTo(-0.2)
  })

  it('flags memory more than 10% above the baseline', () => {
    expect(compare(11_500, 10_000, 'lower')).toMatchObject({ ratio: 1.15, flagged: true })
    expect(compare(10_500, 10_000, 'lower')).toMatchObject({ ratio: 1.05, flagged: false })
  })

  it('does not flag exactly 10% worse', () => {
    expect(compare(90, 100, 'higher').flagged).toBe(false)
    expect(compare(110, 100, 'lower').flagged).toBe(false)
  })

  it('flags a difference only beyond the spread: when every reading of Transport Lab is worse than every one of the baseline', () => {
    const spreads = (lab: number[], baseline: number[]) => ({ lab: spreadOf(lab), baseline: spreadOf(baseline) })
    expect(compare(80, 100, 'higher', 0.1, spreads([78, 80, 82], [95, 100, 104]))).toMatchObject({ flagged: true })
    expect(compare(80, 100, 'higher', 0.1, spreads([70, 80, 96], [95, 100, 104]))).toMatchObject({
      flagged: false,
      withinSpread: true,
    })
    expect(compare(120, 100, 'lower', 0.1, spreads([115, 120, 125], [98, 100, 110]))).toMatchObject({ flagged: true })
    expect(compare(120, 100, 'lower', 0.1, spreads([109, 120, 125], [98, 100, 110]))).toMatchObject({
      flagged: false,
      withinSpread: true,
    })
    // Within 10% stays unflagged whatever the spread.
    expect(compare(95, 100, 'higher', 0.1, spreads([90, 95, 96], [99, 100, 101])).flagged).toBe(false)
  })

  it('keeps the finite readings of a figure, their lowest and highest, or nothing', () => {
    expect(spreadOf([3, null, 1, Number.NaN, 2])).toEqual({ values: [3, 1, 2], min: 1, max: 3 })
    expect(spreadOf([null, undefined])).toBeNull()
  })

  it('declines to compare against a baseline of zero or less, or a missing figure', () => {
    expect(compare(10, 0, 'lower')).toMatchObject({
      ratio: null,
      flagged: false,
      note: 'baseline too small to compare',
    })
    expect(compare(10, -5, 'lower').ratio).toBeNull()
    expect(compare(null, 5, 'higher')).toMatchObject({ ratio: null, note: 'not measured' })
    expect(compare(-300, 5000, 'lower')).toMatchObject({
      ratio: null,
      flagged: false,
      note: 'a negative figure (noise) cannot be compared',
    })
  })
})

describe("the noisy neighbour's ratios", () => {
  it("divides a flood phase's percentile by the quiet phase's", () => {
    expect(ratioTo(2200, 2000)).toBeCloseTo(1.1, 10)
    expect(ratioTo(40_000, 400)).toBe(100)
  })

  it('has no ratio without both figures or against nothing', () => {
    expect(ratioTo(null, 100)).toBeNull()
    expect(ratioTo(100, null)).toBeNull()
    expect(ratioTo(100, 0)).toBeNull()
  })
})

describe("slow readers' memory", () => {
  it("takes each figure's own highest reading", () => {
    expect(
      peakMemory([
        { rssBytes: 100, heapUsedBytes: 50, externalBytes: 9 },
        { rssBytes: 120, heapUsedBytes: 40, externalBytes: 3 },
        { rssBytes: 90, heapUsedBytes: 45, externalBytes: 11 },
      ]),
    ).toEqual({ rssBytes: 120, heapUsedBytes: 50, externalBytes: 11 })
    expect(() => peakMemory([])).toThrow(RangeError)
  })

  it('sets N stopped readers against N x SEND_BUFFER_BYTES', () => {
    expect(sendBufferBudget(20, 1_048_576)).toBe(20_971_520)
  })
})

describe('the window a dead peer is reaped in', () => {
  const settings: ReapSettings = {
    wsHeartbeatMs: 15_000,
    sioPingIntervalMs: 15_000,
    sioPingTimeoutMs: 10_000,
    sseStreamMaxMs: 30_000,
    sseRejoinGraceMs: 5000,
    httpSessionTtlMs: 30_000,
    longPollTimeoutMs: 25_000,
    leaseSweepMs: 1000,
  }

  it('is one to two heartbeats for a WebSocket, the ping interval plus its timeout for Socket.IO', () => {
    expect(deadPeerWindow('websocket', settings)).toEqual({
      minMs: 15_000,
      maxMs: 30_000,
      settings: { WS_HEARTBEAT_MS: 15_000 },
    })
    expect(deadPeerWindow('socket.io', settings)).toMatchObject({ minMs: 25_000, maxMs: 25_000 })
  })

  it("is the stream's age (±10%) plus the rejoin grace and a sweep for SSE", () => {
    expect(deadPeerWindow('sse', settings)).toMatchObject({ minMs: 32_000, maxMs: 39_000 })
  })

  it("is the session's lease plus a sweep for polling, the held poll included for long polling", () => {
    expect(deadPeerWindow('short-polling', settings)).toMatchObject({ minMs: 30_000, maxMs: 31_000 })
    expect(deadPeerWindow('long-polling', settings)).toMatchObject({
      minMs: 55_000,
      maxMs: 56_000,
      settings: { HTTP_SESSION_TTL_MS: 30_000, LONG_POLL_TIMEOUT_MS: 25_000 },
    })
    expect(() => deadPeerWindow('carrier-pigeon', settings)).toThrow(RangeError)
  })

  it("holds a measurement inside it, give or take the watch's resolution", () => {
    const window = { minMs: 15_000, maxMs: 30_000 }
    expect(withinWindow(22_400, window, 250)).toBe(true)
    expect(withinWindow(30_200, window, 250)).toBe(true)
    expect(withinWindow(30_300, window, 250)).toBe(false)
    expect(withinWindow(14_000, window, 250)).toBe(false)
    expect(withinWindow(null, window, 250)).toBe(false)
  })
})

describe("Transport Lab's settings under the bench", () => {
  it('puts the per-address limits out of reach, but only those the user did not set', () => {
    expect(labEnvironment({})).toEqual(OUT_OF_REACH)
    expect(labEnvironment({ MESSAGE_RATE: '10', MAX_CLIENTS_PER_ADDRESS: '' })).toEqual({
      MESSAGE_BURST: '1000000',
      MAX_CLIENTS_PER_ADDRESS: '0',
    })
    // Raised, not turned off: the rate check still runs on every message.
    expect(OUT_OF_REACH.MESSAGE_RATE).not.toBe('0')
  })
})

describe("the SSE receiver's parser", () => {
  const parse = (...chunks: string[]) => {
    const parser = new SseParser()
    const events: SseEvent[] = []
    for (const chunk of chunks) parser.push(chunk, (e) => events.push(e))
    return events
  }

  it('reads events split across chunks, with their ids, and skips comments', () => {
    expect(
      parse('retry: 2000\nid: E-0\nevent: wel', 'come\ndata: {"a":1}\n\n: ping\n\nid: E-1\ndata: {"b"', ':2}\n\n'),
    ).toEqual([
      { event: 'welcome', data: '{"a":1}', id: 'E-0', retry: 2000 },
      { event: 'message', data: '{"b":2}', id: 'E-1', retry: undefined },
    ])
  })

  it("passes on the renewal's goodbye with its retry delay, and joins data lines", () => {
    expect(parse('retry: 100\nevent: bye\ndata: {"code":"LAB_RENEW"}\n\n', 'data:a\ndata: b\n\n')).toEqual([
      { event: 'bye', data: '{"code":"LAB_RENEW"}', id: undefined, retry: 100 },
      { event: 'message', data: 'a\nb', id: undefined, retry: undefined },
    ])
  })
})

describe("the ticker's deliveries", () => {
  it("counts the deliveries that carried a measured update, how many each carried, and each update's age once", () => {
    const deliveries = [
      {
        receivedAt: 1000,
        updates: [
          { seq: 1, sentAt: 700 },
          { seq: 2, sentAt: 800 },
        ],
      },
      { receivedAt: 1100, updates: [] },
      {
        receivedAt: 2000,
        updates: [
          { seq: 3, sentAt: 1900.5 },
          { seq: 4, sentAt: 1950 },
          { seq: 5, sentAt: 1999 },
        ],
      },
      // a duplicate (a resumed stream) and an update after the window: neither counts
      {
        receivedAt: 2100,
        updates: [
          { seq: 5, sentAt: 1999 },
          { seq: 9, sentAt: 2050 },
        ],
      },
    ]
    expect(tallyDeliveries(deliveries, new Set([1, 2, 3, 4, 5]))).toEqual({
      received: 5,
      deliveries: 2,
      updatesPerDeliveryMean: 2.5,
      updatesPerDeliveryMax: 3,
      agesMs: [300, 200, 99.5, 50, 1],
    })
    expect(tallyDeliveries([], new Set([1]))).toEqual({
      received: 0,
      deliveries: 0,
      updatesPerDeliveryMean: null,
      updatesPerDeliveryMax: null,
      agesMs: [],
    })
  })

  it('summarizes ages as the median and p95 in microseconds', () => {
    const histogram = createHistogram()
    for (let i = 1; i <= 100; i++) histogram.record(i * 1000)
    // The histogram keeps three significant digits: within a few hundredths of a µs here.
    const age = summarizeAge(histogram)
    expect(age.count).toBe(100)
    expect(age.minUs).toBeCloseTo(1, 1)
    expect(age.p50Us).toBeCloseTo(50, 0)
    expect(age.p95Us).toBeCloseTo(95, 0)
    expect(age.maxUs).toBeCloseTo(100, 0)
    expect(summarizeAge(createHistogram())).toEqual({ count: 0, minUs: null, p50Us: null, p95Us: null, maxUs: null })
  })
})

describe('Redis commands per message (scale)', () => {
  const info = (evalsha: number, info: number, set?: number) =>
    [
      '# Commandstats',
      `cmdstat_evalsha:calls=${evalsha},usec=900,usec_per_call=9.00,rejected_calls=0,failed_calls=0`,
      `cmdstat_info:calls=${info},usec=352,usec_per_call=88.00,rejected_calls=0,failed_calls=0`,
      ...(set === undefined ? [] : [`cmdstat_client|setinfo:calls=${set},usec=1,usec_per_call=1.00`]),
      '',
    ].join('\r\n')

  it('reads the calls of every command from INFO commandstats, subcommands included', () => {
    expect(parseCommandStats(info(120, 3, 2))).toEqual({ evalsha: 120, info: 3, 'client|setinfo': 2 })
    expect(parseCommandStats('# Commandstats\r\n')).toEqual({})
  })

  it('counts what ran between two readings, less the first reading, which the second one counts', () => {
    expect(commandsBetween(parseCommandStats(info(120, 3)), parseCommandStats(info(420, 4, 1)))).toEqual({
      evalsha: 300,
      'client|setinfo': 1,
    })
    // Nothing but the reading itself: nothing ran.
    expect(commandsBetween({ info: 1 }, { info: 2 })).toEqual({})
  })
})

describe('the scale scenario without redis-server or nginx', () => {
  it('measures every setup when both are installed', () => {
    expect(scaleSetups(() => true)).toEqual({ setups: ['alone', 'redis', 'cluster'], skipped: [] })
  })

  it('measures the server alone and with Redis without nginx, and says which package the cluster needs', () => {
    expect(scaleSetups((binary) => binary !== 'nginx')).toEqual({
      setups: ['alone', 'redis'],
      skipped: ['two servers + Redis, behind nginx: not measured, nginx not found (apt-get install nginx)'],
    })
  })

  it('measures the server alone without redis-server, with a line for each setup left out', () => {
    expect(scaleSetups(() => false)).toEqual({
      setups: ['alone'],
      skipped: [
        'one server + Redis: not measured, redis-server not found (apt-get install redis-server)',
        'two servers + Redis, behind nginx: not measured, redis-server and nginx not found (apt-get install redis-server nginx)',
      ],
    })
  })
})
