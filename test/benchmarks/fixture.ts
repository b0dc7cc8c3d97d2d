// A small, hand-made results file: Transport Lab's WebSocket against bare ws,
// every section present, figures chosen so the report's numbers are easy to check.
import type { Accounting, BenchResults, DeadPeerRow, LatencySummary, LegBytes } from '../../benchmarks/schema.ts'
import { comparisons } from '../../benchmarks/report/compare.ts'

const accounting = (receivers: number, sent: number): Accounting => ({ receivers, sent, failedSends: 0, expected: receivers * sent, delivered: receivers * sent, lost: 0, losses: [], duplicates: 0 })
const leg = (inBytes: number, inPayload: number, outBytes: number, outPayload: number): LegBytes => ({
  in: { bytes: inBytes, payload: inPayload, overhead: inBytes - inPayload },
  out: { bytes: outBytes, payload: outPayload, overhead: outBytes - outPayload },
})
const latency = (p50Us: number, p99Us: number, count = 2000): LatencySummary => ({ count, minUs: p50Us / 2, meanUs: p50Us, p50Us, p90Us: p99Us / 2, p99Us, p999Us: p99Us, maxUs: p99Us * 2 })
const MiB = 1024 * 1024
const memory = (rssMiB: number, heapMiB: number, externalMiB: number) => ({ rssBytes: rssMiB * MiB, heapUsedBytes: heapMiB * MiB, externalBytes: externalMiB * MiB })
const lab = { subject: 'lab/websocket', target: 'lab' as const, transport: 'websocket' as const, label: 'WebSocket' }
const bare = { subject: 'bare-ws/websocket', target: 'bare-ws' as const, transport: 'websocket' as const, label: 'bare ws (WebSocket)' }

export function fixtureResults(): BenchResults {
  const sections: Pick<BenchResults, 'wire' | 'latency' | 'throughput' | 'idle'> = {
    wire: {
      rows: [
        { ...lab, textBytes: 256, messages: 10, send: leg(350, 344, 0, 0), receive: leg(0, 0, 494, 490), receiveBytesPerMessage: 494, method: 'two-pass' },
        { ...bare, textBytes: 256, messages: 10, send: leg(350, 344, 0, 0), receive: leg(0, 0, 380, 376), receiveBytesPerMessage: 380, method: 'role-tallies' },
      ],
      handshakes: [
        { ...lab, variant: 'upgrade (101) and the welcome frame', bytesIn: 240, bytesOut: 400, payloadBytes: 300, overheadBytes: 340, httpRequests: 1, request: ['GET /ws HTTP/1.1'], response: ['HTTP/1.1 101 Switching Protocols'] },
      ],
      projection: [
        { ...lab, textBytes: 256, bytesPerMessage: 494, mbps: [{ clients: 1000, mbps: 3.952 }, { clients: 10000, mbps: 39.52 }, { clients: 100000, mbps: 395.2 }] },
        { ...bare, textBytes: 256, bytesPerMessage: 380, mbps: [{ clients: 1000, mbps: 3.04 }, { clients: 10000, mbps: 30.4 }, { clients: 100000, mbps: 304 }] },
      ],
    },
    latency: {
      rateHz: 200,
      receivers: 50,
      shortPollIntervalMs: 1000,
      rows: [
        { ...lab, rateHz: 200, receivers: 50, measuredMs: 5000, latency: { count: 50000, minUs: 120, meanUs: 400, p50Us: 350, p90Us: 600, p99Us: 1200, p999Us: 2500, maxUs: 4100 }, deliveriesMeasured: 50000, clamped: 0, accounting: accounting(50, 1200) },
        { ...bare, rateHz: 200, receivers: 50, measuredMs: 5000, latency: { count: 50000, minUs: 100, meanUs: 300, p50Us: 280, p90Us: 500, p99Us: 900, p999Us: 2000, maxUs: 3000 }, deliveriesMeasured: 50000, clamped: 0, accounting: accounting(50, 1200) },
      ],
    },
    throughput: {
      rows: [
        { ...lab, fanout: 1, window: 256, measuredMs: 4000, messages: 320000, deliveries: 320000, messagesPerSecond: 80000, deliveriesPerSecond: 80000, serverCpuSeconds: 4, serverCpuCores: 1, deliveriesPerServerCpuSecond: 80000, loadCpuSeconds: 3, loadCpuCores: 0.75, clientBound: false, accounting: accounting(1, 330000) },
        { ...bare, fanout: 1, window: 256, measuredMs: 4000, messages: 400000, deliveries: 400000, messagesPerSecond: 100000, deliveriesPerSecond: 100000, serverCpuSeconds: 4, serverCpuCores: 1, deliveriesPerServerCpuSecond: 100000, loadCpuSeconds: 3.8, loadCpuCores: 0.95, clientBound: true, accounting: accounting(1, 410000) },
      ],
      http: [],
    },
    idle: {
      clients: 1000,
      holdMs: 30000,
      rows: [
        { ...lab, clients: 1000, connected: 1000, failed: 0, failures: [], holdMs: 30000, loadProcesses: 1, heapBeforeBytes: 10_000_000, heapAfterBytes: 21_000_000, rssBeforeBytes: 60_000_000, rssAfterBytes: 90_000_000, heapPerConnectionBytes: 11_000, rssPerConnectionBytes: 30_000, serverCpuSecondsPerMinute: 0.2, requestsPerMinute: 0, bytesInPerMinute: 6000, bytesOutPerMinute: 2000, droppedDuringHold: 0 },
        { ...bare, clients: 1000, connected: 1000, failed: 0, failures: [], holdMs: 30000, loadProcesses: 1, heapBeforeBytes: 5_000_000, heapAfterBytes: 15_000_000, rssBeforeBytes: 50_000_000, rssAfterBytes: 80_000_000, heapPerConnectionBytes: 10_000, rssPerConnectionBytes: 30_000, serverCpuSecondsPerMinute: 0.01, requestsPerMinute: 0, bytesInPerMinute: 6000, bytesOutPerMinute: 2000, droppedDuringHold: 0 },
      ],
    },
  }
  const deadRows: DeadPeerRow[] = [
    { ...lab, how: 'a WebSocket that never answers pings (ws autoPong: false)', settings: { WS_HEARTBEAT_MS: 15000 }, expectedMinMs: 15000, expectedMaxMs: 30000, goneFromPresenceMs: 22_400, connectionClosedMs: 22_400 },
    { subject: 'lab/long-polling', target: 'lab' as const, transport: 'long-polling' as const, label: 'long polling', how: 'a session that stops polling', settings: { HTTP_SESSION_TTL_MS: 30000, LONG_POLL_TIMEOUT_MS: 25000 }, expectedMinMs: 55000, expectedMaxMs: 56000, goneFromPresenceMs: 55_500, connectionClosedMs: null, note: 'its connection was still open after 66 s' },
  ]
  const quiet = { measuredMs: 5000, deliveriesMeasured: 2000, clamped: 0, serverCpuCores: 0.05, accounting: accounting(10, 200), flood: null }
  const floodRows = {
    noisy: {
      transport: 'websocket' as const,
      rateHz: 40,
      senders: 8,
      receivers: 10,
      textBytes: 64,
      rows: [
        { ...quiet, phase: 'quiet' as const, limit: 'on' as const, messageRate: 10, messageBurst: 20, label: 'nobody flooding, limit on', latency: latency(500, 2000), p50Ratio: 1, p99Ratio: 1 },
        {
          ...quiet, phase: 'flood' as const, limit: 'on' as const, messageRate: 10, messageBurst: 20, label: 'WebSocket flood, limit on', latency: latency(550, 2200), p50Ratio: 1.1, p99Ratio: 1.1,
          flood: { transport: 'websocket' as const, label: 'WebSocket frames', durationMs: 5000, attempted: 400, accepted: 20, refused: 21, otherErrors: [], closed: '1008 LAB_ERR_RATE_LIMIT', closedAfterMs: 12, loadCpuCores: 0.01 },
        },
        { ...quiet, phase: 'quiet' as const, limit: 'off' as const, messageRate: 0, messageBurst: 20, label: 'nobody flooding, limit off', latency: latency(400, 1600), p50Ratio: 1, p99Ratio: 1 },
        {
          ...quiet, phase: 'flood' as const, limit: 'off' as const, messageRate: 0, messageBurst: 20, label: 'WebSocket flood, limit off', latency: latency(40_000, 160_000), p50Ratio: 100, p99Ratio: 100, serverCpuCores: 0.95,
          flood: { transport: 'websocket' as const, label: 'WebSocket frames', durationMs: 5000, attempted: 250_000, accepted: 250_000, refused: 0, otherErrors: [], closed: null, closedAfterMs: null, loadCpuCores: 0.9 },
        },
      ],
    },
    slowReaders: {
      readers: 20,
      textBytes: 4096,
      sendBufferBytes: MiB,
      rows: [{
        transport: 'websocket' as const, label: 'WebSocket', readers: 20, sendBufferBytes: MiB, budgetBytes: 20 * MiB, textBytes: 4096,
        floodMessages: 3000, floodMs: 1500, stoppedBecause: 'all closed' as const, closedAsSlow: 20, allClosedAfterMs: 1400,
        told: [{ reason: '1013 LAB_ERR_SLOW_CONSUMER', count: 19 }, { reason: 'cut: 1006', count: 1 }],
        before: memory(100, 20, 2), peak: memory(160, 50, 30), held: memory(140, 30, 22), after: memory(110, 20, 2), samples: 15,
        peakRssGrowthBytes: 60 * MiB, peakHeapGrowthBytes: 30 * MiB, peakExternalGrowthBytes: 28 * MiB,
        controlPeakRssGrowthBytes: 30 * MiB, controlPeakHeapGrowthBytes: 28 * MiB, controlPeakExternalGrowthBytes: 8 * MiB,
        readersRssBytes: 30 * MiB, readersRssToBudget: 1.5,
        heldGrowthBytes: 30 * MiB, controlHeldGrowthBytes: 10 * MiB, readersHeldBytes: 20 * MiB, readersHeldToBudget: 1,
        afterRssGrowthBytes: 10 * MiB, bystander: accounting(1, 3000),
      }],
    },
    deadPeers: {
      shortened: false,
      pollMs: 250,
      capMs: 66_000,
      rows: deadRows,
    },
    ticker: {
      hz: 10,
      measuredMs: 6000,
      published: 60,
      publishedPerSecond: 10,
      shortPollIntervalMs: 1000,
      rows: [
        { subject: 'lab/short-polling', target: 'lab' as const, transport: 'short-polling' as const, label: 'short polling', published: 60, received: 60, deliveries: 6, updatesPerDeliveryMean: 10, updatesPerDeliveryMax: 11, age: { count: 60, minUs: 1500, p50Us: 450_000, p95Us: 950_000, maxUs: 999_000 }, clamped: 0, accounting: accounting(1, 60), note: 'polls every 1000 ms (SHORT_POLL_INTERVAL_MS)' },
        { ...lab, published: 60, received: 60, deliveries: 60, updatesPerDeliveryMean: 1, updatesPerDeliveryMax: 1, age: { count: 60, minUs: 150, p50Us: 310.5, p95Us: 620, maxUs: 1500 }, clamped: 0, accounting: accounting(1, 60) },
      ],
    },
  }
  const total = accounting(0, 0)
  return {
    version: 1,
    startedAt: '2026-01-01T00:00:00.000Z',
    finishedAt: '2026-01-01T00:05:00.000Z',
    durationMs: 300_000,
    mode: 'default',
    command: 'npm run bench',
    options: { quick: false, scenarios: ['wire', 'latency', 'throughput', 'idle'], transports: ['websocket'], baselines: true, clients: 1000, rate: 200, receivers: 50, fanouts: [1], textBytes: [256], wireMessages: 10, latencyMs: 5000, throughputMs: 4000, warmupMs: 1000, idleHoldMs: 30000 },
    environment: { cpuModel: 'Test CPU', cores: 2, memoryBytes: 2 ** 34, platform: 'linux', osRelease: '6.1', node: '20.20.2', v8: '11.3', fdLimit: 20000, libraries: { ws: '8.23.0' }, settings: { SHORT_POLL_INTERVAL_MS: 1000, MESSAGE_RATE: 1_000_000 }, socketIoClientTransports: ['websocket'], labEnv: { MESSAGE_RATE: '1000000' } },
    ...sections,
    ...floodRows,
    comparisons: comparisons(sections, ['websocket']),
    accounting: { total, byScenario: { latency: total } },
    notes: ['A note.'],
  }
}
