// The targets of issue 14 in sentences: for each, the figure measured, its
// ratio to the bare baseline measured in the same run, and whether it is met.
// A ratio worse than the target is "not met" only when every repetition of
// Transport Lab's is worse than every one of the baseline's (the spread
// machinery of metrics.ts compare()); when the readings overlap it is "not
// shown to be met (within noise)". Bundled into the page with sections.ts:
// nothing here may need Node.
import { compare, type Better, type Spread } from '../metrics.ts'
import type { BenchResults } from '../schema.ts'
import { BASELINE_OF, TARGETS } from '../subjects.ts'
import { TRANSPORT_INFO, type TransportName } from '../../server/core/names.ts'
import { formatNumber, formatRatio, formatSignificant } from './format.ts'

/** At least this much of the baseline's throughput: the raw push transports, and the HTTP transports against bare Fastify. */
export const THROUGHPUT_TARGET: Record<TransportName, number> = {
  websocket: 0.9,
  'socket.io': 0.9,
  'short-polling': 0.85,
  'long-polling': 0.85,
  sse: 0.85,
}
/** At most this much of the baseline's. */
export const MEMORY_TARGET = 1.2
export const IDLE_CPU_TARGET = 1.5
export const LATENCY_TARGET = 1.3
/** Joins: the largest N the issue asks to hold, and a per-join cost within this factor of the smallest N's is linear. */
export const JOINS_TARGET_N = 10_000
export const LINEAR_TARGET = 1.5

type Verdict = 'met' | 'within noise' | 'not met'
/** How a sentence ends when a target is missed (see missedTargets). */
const NOT_MET = 'not met'

interface Figure {
  /** "deliveries/s", "heap per idle connection" */
  what: string
  ratio: number
  verdict: Verdict
}

export interface TargetGroup {
  heading: string
  items: string[]
}

/** lab / baseline against a target ratio (`limit`): at least it for 'higher' figures, at most it for 'lower' ones. */
function figure(
  what: string,
  lab: number | null | undefined,
  baseline: number | null | undefined,
  better: Better,
  limit: number,
  spreads?: { lab: Spread | null; baseline: Spread | null },
): Figure | null {
  const tolerance = better === 'higher' ? 1 - limit : limit - 1
  const r = compare(lab, baseline, better, tolerance, spreads)
  if (r.ratio === null) return null
  const verdict: Verdict = r.withinSpread ? 'within noise' : r.flagged ? 'not met' : 'met'
  return { what, ratio: r.ratio, verdict }
}

/** The worst verdict of a sentence's figures. */
function overall(figures: Figure[]): string {
  if (figures.some((f) => f.verdict === 'not met')) return NOT_MET
  if (figures.some((f) => f.verdict === 'within noise')) return 'not shown to be met (within noise)'
  return 'met'
}

const label = (t: TransportName) => TRANSPORT_INFO[t].short
const baselineLabel = (t: TransportName) => TARGETS[BASELINE_OF[t]].label

/** "0.93x of bare ws deliveries/s and 0.91x per CPU-second (target at least 0.90x): met" */
function sentence(t: TransportName, subject: string, figures: Figure[], better: Better, limit: number): string {
  const ratios = figures.map((f, i) => `${formatRatio(f.ratio)} ${i === 0 ? `of ${baselineLabel(t)} ` : ''}${f.what}`)
  const target = `${better === 'higher' ? 'at least' : 'at most'} ${formatRatio(limit)}`
  return `${subject}: ${ratios.join(' and ')} (target ${target}): ${overall(figures)}.`
}

function throughputGroup(results: BenchResults): TargetGroup {
  const items: string[] = []
  const t = results.throughput
  if (!t) return { heading: '1. Throughput, against the bare baselines', items: ['Not measured in this run.'] }
  const labRows = t.rows.filter((r) => r.target === 'lab')
  for (const row of labRows) {
    const base = t.rows.find(
      (r) => r.target === BASELINE_OF[row.transport] && r.transport === row.transport && r.fanout === row.fanout,
    )
    const limit = THROUGHPUT_TARGET[row.transport]
    const subject = `${label(row.transport)} fan-out ${formatNumber(row.fanout)}`
    if (!base) {
      items.push(`${subject}: no baseline measured in this run.`)
      continue
    }
    const figures = [
      figure('deliveries/s', row.deliveriesPerSecond, base.deliveriesPerSecond, 'higher', limit, {
        lab: row.spread.deliveriesPerSecond,
        baseline: base.spread.deliveriesPerSecond,
      }),
      figure(
        'per server CPU-second',
        row.deliveriesPerServerCpuSecond,
        base.deliveriesPerServerCpuSecond,
        'higher',
        limit,
        { lab: row.spread.deliveriesPerServerCpuSecond, baseline: base.spread.deliveriesPerServerCpuSecond },
      ),
    ].filter((f): f is Figure => f !== null)
    items.push(
      figures.length > 0 ? sentence(row.transport, subject, figures, 'higher', limit) : `${subject}: not measured.`,
    )
  }
  for (const row of t.http.filter((r) => r.target === 'lab')) {
    const base = t.http.find(
      (r) => r.target === BASELINE_OF[row.transport] && r.transport === row.transport && r.endpoint === row.endpoint,
    )
    if (!base) continue
    const limit = THROUGHPUT_TARGET[row.transport]
    const f = figure('requests/s', row.requestsPerSecond, base.requestsPerSecond, 'higher', limit, {
      lab: row.spread.requestsPerSecond,
      baseline: base.spread.requestsPerSecond,
    })
    const subject = `${label(row.transport)} ${row.endpoint} (autocannon)`
    items.push(f ? sentence(row.transport, subject, [f], 'higher', limit) : `${subject}: not measured.`)
  }
  return { heading: '1. Throughput, against the bare baselines', items }
}

function idleGroup(results: BenchResults): TargetGroup {
  const heading = '2. Memory per idle connection and idle CPU'
  const idle = results.idle
  if (!idle) return { heading, items: ['Not measured in this run.'] }
  const items: string[] = []
  for (const row of idle.rows.filter((r) => r.target === 'lab')) {
    const base = idle.rows.find((r) => r.target === BASELINE_OF[row.transport] && r.transport === row.transport)
    if (!base) {
      items.push(`${label(row.transport)}: no baseline measured in this run.`)
      continue
    }
    const memory = [
      figure(
        'heap per idle connection',
        row.heapPerConnectionBytes,
        base.heapPerConnectionBytes,
        'lower',
        MEMORY_TARGET,
        {
          lab: row.spread.heapPerConnectionBytes,
          baseline: base.spread.heapPerConnectionBytes,
        },
      ),
      figure('RSS', row.rssPerConnectionBytes, base.rssPerConnectionBytes, 'lower', MEMORY_TARGET, {
        lab: row.spread.rssPerConnectionBytes,
        baseline: base.spread.rssPerConnectionBytes,
      }),
    ].filter((f): f is Figure => f !== null)
    items.push(
      memory.length > 0
        ? sentence(row.transport, label(row.transport), memory, 'lower', MEMORY_TARGET)
        : `${label(row.transport)} memory per idle connection: not measured.`,
    )
    const cpu = figure(
      'idle CPU',
      row.serverCpuSecondsPerMinute,
      base.serverCpuSecondsPerMinute,
      'lower',
      IDLE_CPU_TARGET,
      { lab: row.spread.serverCpuSecondsPerMinute, baseline: base.spread.serverCpuSecondsPerMinute },
    )
    if (cpu) items.push(sentence(row.transport, label(row.transport), [cpu], 'lower', IDLE_CPU_TARGET))
  }
  return { heading, items }
}

function latencyGroup(results: BenchResults): TargetGroup {
  const heading = '3. Delivery latency'
  const latency = results.latency
  if (!latency) return { heading, items: ['Not measured in this run.'] }
  const items: string[] = []
  for (const row of latency.rows.filter((r) => r.target === 'lab')) {
    const base = latency.rows.find((r) => r.target === BASELINE_OF[row.transport] && r.transport === row.transport)
    if (!base) continue
    // Repeated, a miss whose readings overlap the baseline's is noise; a single window (older runs) has no spread.
    const spreads = (key: 'p50Us' | 'p99Us') => ({
      lab: row.spread?.[key] ?? null,
      baseline: base.spread?.[key] ?? null,
    })
    const figures = [
      figure('p50', row.latency.p50Us, base.latency.p50Us, 'lower', LATENCY_TARGET, spreads('p50Us')),
      figure('p99', row.latency.p99Us, base.latency.p99Us, 'lower', LATENCY_TARGET, spreads('p99Us')),
    ].filter((f): f is Figure => f !== null)
    if (figures.length > 0) items.push(sentence(row.transport, label(row.transport), figures, 'lower', LATENCY_TARGET))
  }
  return { heading, items }
}

function joinsGroup(results: BenchResults): TargetGroup {
  const heading = `4. Joins: ${formatNumber(JOINS_TARGET_N)} connections per push transport, and joins that scale`
  const joins = results.joins
  if (!joins) return { heading, items: ['Not measured in this run (it has no joins section).'] }
  const items: string[] = []
  // One series per transport and setup (alone, + Redis): the label says which.
  for (const series of [...new Set(joins.rows.map((r) => r.label))]) {
    const rows = joins.rows.filter((r) => r.label === series)
    const largest = rows.at(-1)!
    const errors = largest.failed + largest.notStarted + largest.droppedDuringHold
    const held =
      largest.clients < JOINS_TARGET_N
        ? `${formatNumber(JOINS_TARGET_N)} not measured (the largest N was ${formatNumber(largest.clients)})`
        : `${formatNumber(largest.joined)} of ${formatNumber(largest.clients)} held with ${formatNumber(errors)} errors: ` +
          (largest.complete && errors === 0 ? 'met' : NOT_MET)
    const smallest = rows.find((r) => r.complete)
    const growth =
      largest.perJoinRatio !== null && smallest
        ? `a join at ${formatNumber(largest.clients)} cost ${formatRatio(largest.perJoinRatio)} of one at ` +
          `${formatNumber(smallest.clients)} (${formatSignificant(largest.cpuMsPerJoin)} against ` +
          `${formatSignificant(smallest.cpuMsPerJoin)} CPU-ms; linear: at most ${formatRatio(LINEAR_TARGET)}): ` +
          (largest.perJoinRatio <= LINEAR_TARGET ? 'met' : NOT_MET)
        : `the per-join cost at ${formatNumber(largest.clients)}: not measured (it did not finish)`
    items.push(`${rows[0]!.setup === 'redis' ? series : label(rows[0]!.transport)}: ${held}; ${growth}.`)
  }
  return { heading, items }
}

/** Every target of issue 14, grouped as the issue numbers them, each a sentence. */
export function targetGroups(results: BenchResults): TargetGroup[] {
  return [throughputGroup(results), idleGroup(results), latencyGroup(results), joinsGroup(results)]
}

/** The sentences of targetGroups with a target missed (a figure whose every reading was worse). */
export function missedTargets(results: BenchResults): string[] {
  return targetGroups(results).flatMap((group) => group.items.filter((item) => item.includes(`: ${NOT_MET}`)))
}
