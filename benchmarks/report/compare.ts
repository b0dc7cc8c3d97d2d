// Transport Lab against its baselines, measured in the same run: WebSocket vs
// bare ws, Socket.IO vs bare Socket.IO, the HTTP transports vs the bare
// Fastify route. Each comparison says lab / baseline and whether Transport Lab
// is more than 10% worse, beyond the spread of the repetitions. The target (within 10%) is on throughput and
// memory per connection against bare ws and bare Socket.IO; the other figures
// are compared the same way and shown, but are not the target.
import type { TransportName } from '../../server/core/protocol.ts'
import { compare, TOLERANCE, type Better, type Spread } from '../metrics.ts'
import type { BenchResults, Comparison } from '../schema.ts'
import { BASELINE_OF } from '../subjects.ts'

type Sections = Pick<BenchResults, 'throughput' | 'idle'>

const TARGET_TRANSPORTS = new Set<TransportName>(['websocket', 'socket.io'])

export function comparisons(results: Sections, transports: readonly TransportName[]): Comparison[] {
  const list: Comparison[] = []
  const add = (
    transport: TransportName,
    metric: string,
    unit: string,
    better: Better,
    lab: number | null | undefined,
    baseline: number | null | undefined,
    isTarget: boolean,
    spreads: { lab: Spread | null; baseline: Spread | null },
    note?: string,
  ) => {
    const r = compare(lab, baseline, better, TOLERANCE, spreads)
    const finalNote = [note, r.note].filter(Boolean).join('; ')
    list.push({
      metric,
      transport,
      baselineTarget: BASELINE_OF[transport],
      unit,
      better,
      lab: lab ?? null,
      baseline: baseline ?? null,
      ratio: r.ratio,
      worseBy: r.worseBy,
      flagged: r.flagged,
      withinSpread: r.withinSpread === true,
      labSpread: spreads.lab,
      baselineSpread: spreads.baseline,
      target: isTarget && TARGET_TRANSPORTS.has(transport),
      ...(finalNote ? { note: finalNote } : {}),
    })
  }
  for (const transport of transports) {
    const base = BASELINE_OF[transport]
    for (const row of results.throughput?.rows ?? []) {
      if (row.target !== 'lab' || row.transport !== transport) continue
      const other = results.throughput!.rows.find(
        (r) => r.target === base && r.transport === transport && r.fanout === row.fanout,
      )
      if (!other) continue
      const bound =
        row.clientBound || other.clientBound
          ? 'the load client was near a full core: the figure may be its limit'
          : undefined
      add(
        transport,
        `throughput, fan-out ${row.fanout}`,
        'deliveries/s',
        'higher',
        row.deliveriesPerSecond,
        other.deliveriesPerSecond,
        true,
        { lab: row.spread.deliveriesPerSecond, baseline: other.spread.deliveriesPerSecond },
        bound,
      )
      add(
        transport,
        `deliveries per server CPU-second, fan-out ${row.fanout}`,
        'deliveries/CPU-s',
        'higher',
        row.deliveriesPerServerCpuSecond,
        other.deliveriesPerServerCpuSecond,
        false,
        { lab: row.spread.deliveriesPerServerCpuSecond, baseline: other.spread.deliveriesPerServerCpuSecond },
      )
    }
    for (const row of results.throughput?.http ?? []) {
      if (row.target !== 'lab' || row.transport !== transport) continue
      const other = results.throughput!.http.find(
        (r) => r.target === base && r.transport === transport && r.endpoint === row.endpoint,
      )
      if (!other) continue
      add(
        transport,
        `${row.endpoint} requests/s (autocannon)`,
        'requests/s',
        'higher',
        row.requestsPerSecond,
        other.requestsPerSecond,
        true,
        { lab: row.spread.requestsPerSecond, baseline: other.spread.requestsPerSecond },
      )
    }
    const idle = results.idle?.rows.find((r) => r.target === 'lab' && r.transport === transport)
    const idleBase = results.idle?.rows.find((r) => r.target === base && r.transport === transport)
    if (idle && idleBase) {
      add(
        transport,
        'heap per connection',
        'bytes',
        'lower',
        idle.heapPerConnectionBytes,
        idleBase.heapPerConnectionBytes,
        true,
        { lab: idle.spread.heapPerConnectionBytes, baseline: idleBase.spread.heapPerConnectionBytes },
      )
      add(
        transport,
        'RSS per connection',
        'bytes',
        'lower',
        idle.rssPerConnectionBytes,
        idleBase.rssPerConnectionBytes,
        true,
        { lab: idle.spread.rssPerConnectionBytes, baseline: idleBase.spread.rssPerConnectionBytes },
      )
      add(
        transport,
        'server CPU per idle minute',
        'CPU-s/min',
        'lower',
        idle.serverCpuSecondsPerMinute,
        idleBase.serverCpuSecondsPerMinute,
        false,
        { lab: idle.spread.serverCpuSecondsPerMinute, baseline: idleBase.spread.serverCpuSecondsPerMinute },
      )
    }
  }
  return list
}
