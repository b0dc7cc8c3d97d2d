// The tables of the report, built once from the results and rendered as
// Markdown (latest.md) or aligned text (the terminal).
import type { BenchResults, Comparison, FloodReport, NoisyRow, WireRow } from '../schema.ts'
import { TARGETS } from '../subjects.ts'
import { TRANSPORT_INFO } from '../../server/core/names.ts'
import {
  formatBytes,
  formatCounts,
  formatDuration,
  formatMicros,
  formatWindow,
  formatNumber,
  formatPercent,
  formatRatio,
  formatSignificant,
  withSpread,
  type Align,
} from './format.ts'

export interface Table {
  headers: string[]
  rows: string[][]
  align: Align[]
}

/** The text size the summary shows wire figures for (the middle one measured). */
export function summaryTextBytes(results: BenchResults): number | undefined {
  const sizes = [...new Set(results.wire?.rows.map((r) => r.textBytes) ?? [])].sort((a, b) => a - b)
  return sizes.includes(256) ? 256 : sizes[Math.floor(sizes.length / 2)]
}

function subjects(results: BenchResults): Array<{ subject: string; label: string }> {
  const seen = new Map<string, string>()
  const sections = [results.wire?.rows, results.latency?.rows, results.throughput?.rows, results.idle?.rows]
  for (const rows of sections)
    for (const row of rows ?? []) if (!seen.has(row.subject)) seen.set(row.subject, row.label)
  // Transport Lab first, then the baselines, each in the order measured.
  return [...seen]
    .map(([subject, label]) => ({ subject, label }))
    .sort((a, b) => Number(!a.subject.startsWith('lab/')) - Number(!b.subject.startsWith('lab/')))
}

const receiveOverhead = (row: WireRow) =>
  (row.receive.in.overhead + row.receive.out.overhead) / (row.receiveBytesPerMessage || 1)

/** One row per transport and baseline: the figure of each scenario a reader compares first. */
export function summaryTable(results: BenchResults): Table {
  const size = summaryTextBytes(results)
  const fanouts = [...new Set(results.throughput?.rows.map((r) => r.fanout) ?? [])].sort((a, b) => a - b)
  const headers = ['transport']
  if (results.wire) headers.push(`send B/msg`, `receive B/msg`, 'overhead', 'handshake B', `Mbit/s @10k`)
  if (results.latency) headers.push('p50 µs', 'p99 µs')
  if (results.throughput) headers.push(...fanouts.map((f) => `deliv/s ×${f}`), `deliv/CPU-s ×${fanouts[0] ?? 1}`)
  if (results.idle) headers.push('heap/conn', 'RSS/conn', 'idle req/min')
  const rows = subjects(results).map(({ subject, label }) => {
    const cells = [label]
    if (results.wire) {
      const wire = results.wire.rows.find((r) => r.subject === subject && r.textBytes === size)
      const handshake = results.wire.handshakes.find((h) => h.subject === subject)
      const projection = results.wire.projection.find((p) => p.subject === subject && p.textBytes === size)
      cells.push(
        wire ? formatSignificant(wire.send.in.bytes + wire.send.out.bytes) : '—',
        wire ? formatSignificant(wire.receiveBytesPerMessage) : '—',
        wire ? formatPercent(receiveOverhead(wire)) : '—',
        handshake ? formatNumber(handshake.bytesIn + handshake.bytesOut) : '—',
        formatSignificant(projection?.mbps.find((m) => m.clients === 10_000)?.mbps),
      )
    }
    if (results.latency) {
      const latency = results.latency.rows.find((r) => r.subject === subject)
      cells.push(formatMicros(latency?.latency.p50Us), formatMicros(latency?.latency.p99Us))
    }
    if (results.throughput) {
      for (const f of fanouts) {
        const row = results.throughput.rows.find((r) => r.subject === subject && r.fanout === f)
        cells.push(row ? `${formatNumber(row.deliveriesPerSecond)}${row.clientBound ? '*' : ''}` : '—')
      }
      cells.push(
        formatNumber(
          results.throughput.rows.find((r) => r.subject === subject && r.fanout === fanouts[0])
            ?.deliveriesPerServerCpuSecond,
        ),
      )
    }
    if (results.idle) {
      const idle = results.idle.rows.find((r) => r.subject === subject)
      cells.push(
        formatBytes(idle?.heapPerConnectionBytes),
        formatBytes(idle?.rssPerConnectionBytes),
        formatNumber(idle?.requestsPerMinute),
      )
    }
    return cells
  })
  return { headers, rows, align: headers.map((_, i) => (i === 0 ? 'left' : 'right')) }
}

/** A column heading for a comparison's metric. */
export function shortMetric(metric: string): string {
  return metric
    .replace(/^throughput, fan-out (\d+)$/, 'deliv/s ×$1')
    .replace(/^deliveries per server CPU-second, fan-out (\d+)$/, 'per CPU-s ×$1')
    .replace(/^(POST|GET) \w+ requests\/s \(autocannon\)$/, '$1 req/s')
    .replace(/^heap per connection$/, 'heap/conn')
    .replace(/^RSS per connection$/, 'RSS/conn')
    .replace(/^server CPU per idle minute$/, 'idle CPU')
}

/** More than 10% worse: beyond the spread of the repetitions (⚠), or within it (~, not told apart from noise). */
const ratioMark = (c: Comparison) => (c.flagged ? ' ⚠' : c.withinSpread ? ' ~' : '')

/** lab / baseline for each comparison, one row per transport. */
export function ratioTable(results: BenchResults): Table {
  const metrics = [...new Set(results.comparisons.map((c) => c.metric))]
  const transports = [...new Set(results.comparisons.map((c) => c.transport))]
  const headers = ['transport', 'baseline', ...metrics.map(shortMetric)]
  const rows = transports.map((transport) => {
    const mine = results.comparisons.filter((c) => c.transport === transport)
    return [
      TRANSPORT_INFO[transport].short,
      TARGETS[mine[0]!.baselineTarget].label,
      ...metrics.map((metric) => {
        const c = mine.find((m) => m.metric === metric)
        return c ? `${formatRatio(c.ratio)}${ratioMark(c)}` : '—'
      }),
    ]
  })
  return { headers, rows, align: headers.map((_, i) => (i < 2 ? 'left' : 'right')) }
}

function describeRange(c: Comparison, spread: { min: number; max: number }): string {
  return c.unit === 'bytes'
    ? `${formatBytes(spread.min)}–${formatBytes(spread.max)}`
    : `${formatSignificant(spread.min)}–${formatSignificant(spread.max)}`
}

function describeValue(c: Comparison, value: number | null): string {
  if (c.unit === 'bytes') return formatBytes(value)
  return `${formatSignificant(value)} ${c.unit}`
}

/** The 10% check in sentences: each target comparison, plainly. */
export function checkSentences(results: BenchResults): string[] {
  return results.comparisons
    .filter((c) => c.target)
    .map((c) => {
      const who = `${TRANSPORT_INFO[c.transport].short} ${c.metric}`
      const figures = `${describeValue(c, c.lab)} vs ${describeValue(c, c.baseline)} for ${TARGETS[c.baselineTarget].label}`
      if (c.ratio == null) return `${who}: not compared (${c.note ?? 'not measured'}).`
      const spreads =
        c.labSpread && c.baselineSpread && c.labSpread.values.length > 1
          ? ` (readings ${describeRange(c, c.labSpread)} vs ${describeRange(c, c.baselineSpread)})`
          : ''
      const verdict = c.flagged
        ? `**more than 10% worse** (${formatPercent(c.worseBy)} worse, beyond the spread${spreads})`
        : c.withinSpread
          ? `${formatPercent(c.worseBy)} worse, but within the spread of the repetitions${spreads}: not told apart from noise`
          : c.worseBy! > 0
            ? `within 10% (${formatPercent(c.worseBy)} worse)`
            : `within 10% (${formatPercent(-c.worseBy!)} better)`
      // The spread's note is the verdict's own words already.
      const note = c.note
        ?.split('; ')
        .filter((n) => !n.startsWith('within the spread'))
        .join('; ')
      return `${who}: ${figures} = ${formatRatio(c.ratio)}, ${verdict}${note ? ` — ${note}` : ''}.`
    })
}

export function wireTable(results: BenchResults, textBytes: number): Table {
  const headers = [
    'transport',
    'send in',
    'send out',
    'receive out (payload + overhead)',
    'receive in',
    'receive total',
    'overhead',
  ]
  const rows = (results.wire?.rows ?? [])
    .filter((r) => r.textBytes === textBytes)
    .map((r) => [
      r.label,
      formatSignificant(r.send.in.bytes),
      formatSignificant(r.send.out.bytes),
      `${formatSignificant(r.receive.out.bytes)} (${formatSignificant(r.receive.out.payload)} + ${formatSignificant(r.receive.out.overhead)})`,
      formatSignificant(r.receive.in.bytes),
      formatSignificant(r.receiveBytesPerMessage),
      formatPercent(receiveOverhead(r)),
    ])
  return { headers, rows, align: headers.map((_, i) => (i === 0 ? 'left' : 'right')) }
}

export function handshakeTable(results: BenchResults): Table {
  const headers = ['transport', 'what', 'in', 'out', 'payload', 'overhead', 'HTTP requests']
  const rows = (results.wire?.handshakes ?? []).map((h) => [
    h.label,
    h.variant,
    formatNumber(h.bytesIn),
    formatNumber(h.bytesOut),
    formatNumber(h.payloadBytes),
    formatNumber(h.overheadBytes),
    formatNumber(h.httpRequests),
  ])
  return { headers, rows, align: ['left', 'left', 'right', 'right', 'right', 'right', 'right'] }
}

export function projectionTable(results: BenchResults, textBytes: number): Table {
  const clients = results.wire?.projection[0]?.mbps.map((m) => m.clients) ?? []
  const headers = ['transport', 'bytes per message', ...clients.map((n) => `${formatNumber(n)} clients`)]
  const rows = (results.wire?.projection ?? [])
    .filter((p) => p.textBytes === textBytes)
    .map((p) => [
      p.label,
      formatSignificant(p.bytesPerMessage),
      ...p.mbps.map((m) => `${formatSignificant(m.mbps)} Mbit/s`),
    ])
  return { headers, rows, align: headers.map((_, i) => (i === 0 ? 'left' : 'right')) }
}

export function latencyTable(results: BenchResults): Table {
  const headers = [
    'transport',
    'p50 µs',
    'p90 µs',
    'p99 µs',
    'p99.9 µs',
    'max µs',
    'samples',
    'delivered / expected',
    'lost',
  ]
  const rows = (results.latency?.rows ?? []).map((r) => [
    r.label,
    withSpread(formatMicros(r.latency.p50Us), r.spread?.p50Us, r.latency.p50Us),
    formatMicros(r.latency.p90Us),
    withSpread(formatMicros(r.latency.p99Us), r.spread?.p99Us, r.latency.p99Us),
    formatMicros(r.latency.p999Us),
    formatMicros(r.latency.maxUs),
    formatNumber(r.latency.count),
    `${formatNumber(r.accounting.delivered)} / ${formatNumber(r.accounting.expected)}`,
    formatNumber(r.accounting.lost),
  ])
  return { headers, rows, align: headers.map((_, i) => (i === 0 ? 'left' : 'right')) }
}

export function throughputTable(results: BenchResults): Table {
  const headers = [
    'transport',
    'fan-out',
    'messages/s',
    'deliveries/s',
    'server CPU',
    'deliveries/CPU-s',
    'requests/msg',
    'load CPU',
    'lost',
  ]
  const rows = (results.throughput?.rows ?? []).map((r) => [
    r.label,
    formatNumber(r.fanout),
    withSpread(formatNumber(r.messagesPerSecond), r.spread.messagesPerSecond, r.messagesPerSecond),
    withSpread(formatNumber(r.deliveriesPerSecond), r.spread.deliveriesPerSecond, r.deliveriesPerSecond),
    formatPercent(r.serverCpuCores),
    withSpread(
      formatNumber(r.deliveriesPerServerCpuSecond),
      r.spread.deliveriesPerServerCpuSecond,
      r.deliveriesPerServerCpuSecond,
    ),
    r.requestsPerMessage === undefined ? '—' : formatNumber(r.requestsPerMessage, 2),
    `${formatPercent(r.loadCpuCores)}${r.clientBound ? '*' : ''}`,
    formatNumber(r.accounting.lost),
  ])
  return { headers, rows, align: headers.map((_, i) => (i === 0 ? 'left' : 'right')) }
}

export function httpTable(results: BenchResults): Table {
  const headers = [
    'transport',
    'endpoint',
    'requests/s',
    'p50 ms',
    'p99 ms',
    'non-2xx',
    'errors',
    'server CPU',
    'requests/CPU-s',
    'load CPU',
  ]
  const rows = (results.throughput?.http ?? []).map((r) => [
    r.label,
    r.endpoint,
    withSpread(formatNumber(r.requestsPerSecond), r.spread.requestsPerSecond, r.requestsPerSecond),
    formatNumber(r.latencyMsP50),
    formatNumber(r.latencyMsP99),
    formatNumber(r.non2xx),
    formatNumber(r.errors),
    formatPercent(r.serverCpuSeconds / (r.measuredMs / 1000)),
    withSpread(
      formatNumber(r.requestsPerServerCpuSecond),
      r.spread.requestsPerServerCpuSecond,
      r.requestsPerServerCpuSecond,
    ),
    `${formatPercent(r.loadCpuCores)}${r.clientBound ? '*' : ''}`,
  ])
  return { headers, rows, align: headers.map((_, i) => (i < 2 ? 'left' : 'right')) }
}

export function idleTable(results: BenchResults): Table {
  const headers = [
    'transport',
    'connected',
    'heap/conn',
    'RSS/conn',
    'server CPU-s/min',
    'requests/min',
    'bytes in/min',
    'bytes out/min',
    'dropped',
  ]
  // Runs before the ninth pass did not read V8's young generation.
  const young = (results.idle?.rows ?? []).some((r) => r.youngAfterBytes !== undefined)
  if (young) headers.push('young gen after')
  // Runs before the nineteenth pass did not read V8's GC pauses.
  const gc = (results.idle?.rows ?? []).some((r) => r.serverGcSecondsPerMinute !== undefined)
  if (gc) headers.splice(headers.indexOf('server CPU-s/min') + 1, 0, 'of which GC-s/min')
  const rows = (results.idle?.rows ?? []).map((r) => [
    r.label,
    `${formatNumber(r.connected)} / ${formatNumber(r.clients)}`,
    withSpread(formatBytes(r.heapPerConnectionBytes), r.spread.heapPerConnectionBytes, r.heapPerConnectionBytes),
    withSpread(formatBytes(r.rssPerConnectionBytes), r.spread.rssPerConnectionBytes, r.rssPerConnectionBytes),
    withSpread(
      formatSignificant(r.serverCpuSecondsPerMinute),
      r.spread.serverCpuSecondsPerMinute,
      r.serverCpuSecondsPerMinute,
    ),
    ...(gc ? [formatSignificant(r.serverGcSecondsPerMinute)] : []),
    formatNumber(r.requestsPerMinute),
    formatBytes(r.bytesInPerMinute),
    formatBytes(r.bytesOutPerMinute),
    formatNumber(r.droppedDuringHold),
    ...(young ? [formatBytes(r.youngAfterBytes)] : []),
  ])
  return { headers, rows, align: headers.map((_, i) => (i === 0 ? 'left' : 'right')) }
}

const right = (headers: string[], left = 1): Align[] => headers.map((_, i) => (i < left ? 'left' : 'right'))

/** What happened to a flooder, in a few words: "closed 1008 LAB_ERR_RATE_LIMIT after 17 ms", "never closed". */
export function floodOutcome(flood: FloodReport): string {
  return flood.closed === null
    ? 'never closed'
    : `closed: ${flood.closed}, after ${formatDuration(flood.closedAfterMs)}`
}

export function noisyTable(results: BenchResults): Table {
  const headers = [
    'phase',
    'p50 µs',
    'p99 µs',
    'p50 × quiet',
    'p99 × quiet',
    'samples',
    'server CPU',
    'flood sent',
    'accepted',
    'refused',
    'flooder',
    'flooder CPU',
    'lost',
  ]
  const rows = (results.noisy?.rows ?? []).map((r) => [
    r.label,
    formatMicros(r.latency.p50Us),
    formatMicros(r.latency.p99Us),
    formatRatio(r.p50Ratio),
    formatRatio(r.p99Ratio),
    formatNumber(r.latency.count),
    formatPercent(r.serverCpuCores),
    r.flood ? formatNumber(r.flood.attempted) : '—',
    r.flood ? formatNumber(r.flood.accepted) : '—',
    r.flood ? formatNumber(r.flood.refused) : '—',
    r.flood ? floodOutcome(r.flood) : '—',
    r.flood ? formatPercent(r.flood.loadCpuCores) : '—',
    formatNumber(r.accounting.lost),
  ])
  return { headers, rows, align: right(headers).map((a, i) => (i === 10 ? 'left' : a)) }
}

function quietOf(rows: NoisyRow[], limit: NoisyRow['limit']): NoisyRow | undefined {
  return rows.find((r) => r.phase === 'quiet' && r.limit === limit)
}

/** Per flooder: what the default limit did to it and what the bystanders saw, with the limit and without. */
export function noisySentences(results: BenchResults): string[] {
  const rows = results.noisy?.rows ?? []
  const floods = [...new Set(rows.filter((r) => r.flood).map((r) => r.flood!.transport))]
  return floods.map((transport) => {
    const on = rows.find((r) => r.limit === 'on' && r.flood?.transport === transport)
    const off = rows.find((r) => r.limit === 'off' && r.flood?.transport === transport)
    const who = (on ?? off)!.label.replace(/ flood, limit \w+$/, '')
    const parts: string[] = []
    if (on?.flood) {
      const f = on.flood
      const fate = f.closed === null ? 'never closed' : `closed (${f.closed}) after ${formatDuration(f.closedAfterMs)}`
      parts.push(
        `with the default limit ` +
          `(MESSAGE_RATE ${formatNumber(on.messageRate)}/s, burst ${formatNumber(on.messageBurst)}) ` +
          `the flooder sent ${formatNumber(f.attempted)}, ` +
          `had ${formatNumber(f.accepted)} accepted and ${formatNumber(f.refused)} refused ` +
          `and was ${fate}; ` +
          `the bystanders' p50/p99 were ${formatMicros(on.latency.p50Us)}/${formatMicros(on.latency.p99Us)} µs, ` +
          `${formatRatio(on.p50Ratio)}/${formatRatio(on.p99Ratio)} of quiet ` +
          `(${formatMicros(quietOf(rows, 'on')?.latency.p50Us)}/` +
          `${formatMicros(quietOf(rows, 'on')?.latency.p99Us)} µs)`,
      )
    }
    if (off?.flood) {
      parts.push(
        `with the limit off it had ${formatNumber(off.flood.accepted)} messages accepted ` +
          `(${formatNumber(off.flood.accepted / (off.flood.durationMs / 1000))}/s) ` +
          `and the bystanders' p50/p99 were ` +
          `${formatMicros(off.latency.p50Us)}/${formatMicros(off.latency.p99Us)} µs, ` +
          `${formatRatio(off.p50Ratio)}/${formatRatio(off.p99Ratio)} of quiet, ` +
          `with the server at ${formatPercent(off.serverCpuCores)} of a core`,
      )
    }
    return `${who} flood: ${parts.join('; ')}.`
  })
}

export function slowReadersTable(results: BenchResults): Table {
  const headers = [
    'transport',
    'stopped readers',
    'flood msgs',
    'all closed after',
    'told',
    'RSS before',
    'peak RSS growth (control)',
    'held growth (control)',
    'held for readers',
    '÷ N × SEND_BUFFER',
    'RSS after GC',
    'bystander lost',
  ]
  const rows = (results.slowReaders?.rows ?? []).map((r) => [
    r.label,
    `${formatNumber(r.closedAsSlow)} of ${formatNumber(r.readers)} closed`,
    formatNumber(r.floodMessages),
    r.allClosedAfterMs === null ? `not within ${formatDuration(r.floodMs)}` : formatDuration(r.allClosedAfterMs),
    formatCounts(r.told),
    formatBytes(r.before.rssBytes),
    `${formatBytes(r.peakRssGrowthBytes)} (${formatBytes(r.controlPeakRssGrowthBytes)})`,
    `${formatBytes(r.heldGrowthBytes)} (${formatBytes(r.controlHeldGrowthBytes)})`,
    formatBytes(r.readersHeldBytes),
    formatRatio(r.readersHeldToBudget),
    `${r.afterRssGrowthBytes >= 0 ? '+' : ''}${formatBytes(r.afterRssGrowthBytes)}`,
    `${formatNumber(r.bystander.lost)} of ${formatNumber(r.bystander.expected)}`,
  ])
  return { headers, rows, align: right(headers).map((a, i) => (i === 4 ? 'left' : a)) }
}

export function slowReadersSentences(results: BenchResults): string[] {
  return (results.slowReaders?.rows ?? []).map((r) => {
    const closed =
      r.allClosedAfterMs === null
        ? `${formatNumber(r.closedAsSlow)} of ${formatNumber(r.readers)} stopped readers were closed as slow ` +
          `before the flood's time limit (${formatDuration(r.floodMs)})`
        : `all ${formatNumber(r.readers)} stopped readers were closed as slow ` +
          `${formatDuration(r.allClosedAfterMs)} into the flood ` +
          `(${formatNumber(r.floodMessages)} messages of ${formatBytes(r.textBytes)})`
    return (
      `${r.label}: ${closed}; told ${formatCounts(r.told)}. ` +
      `At the end of the flood, after a GC, ` +
      `the server held ${formatBytes(r.readersHeldBytes)} more than the same flood without them, ` +
      `${formatRatio(r.readersHeldToBudget)} of ${formatNumber(r.readers)} × SEND_BUFFER_BYTES ` +
      `(${formatBytes(r.budgetBytes)}); ` +
      `its RSS peaked ${formatBytes(r.peakRssGrowthBytes)} above before ` +
      `(the same flood without them: ${formatBytes(r.controlPeakRssGrowthBytes)}). ` +
      `The reading bystander lost ${formatNumber(r.bystander.lost)} of ${formatNumber(r.bystander.expected)}.`
    )
  })
}

export function deadPeersTable(results: BenchResults): Table {
  const headers = [
    'transport',
    'the dead peer',
    'settings',
    'the settings allow',
    'gone from presence',
    'connection closed',
  ]
  const rows = (results.deadPeers?.rows ?? []).map((r) => [
    r.label,
    r.how,
    Object.entries(r.settings)
      .map(([k, v]) => `${k} ${formatNumber(v)}`)
      .join(', '),
    formatWindow(r.expectedMinMs, r.expectedMaxMs),
    r.goneFromPresenceMs === null
      ? `not within ${formatDuration(results.deadPeers!.capMs)}`
      : formatDuration(r.goneFromPresenceMs),
    r.connectionClosedMs === null
      ? `not within ${formatDuration(results.deadPeers!.capMs)}`
      : formatDuration(r.connectionClosedMs),
  ])
  return { headers, rows, align: ['left', 'left', 'left', 'right', 'right', 'right'] }
}

export function tickerTable(results: BenchResults): Table {
  const headers = [
    'transport',
    'updates received',
    'deliveries',
    'updates/delivery',
    'most in one',
    'age p50 µs',
    'age p95 µs',
    'age max µs',
    'lost',
  ]
  const rows = (results.ticker?.rows ?? []).map((r) => [
    r.label,
    `${formatNumber(r.received)} / ${formatNumber(r.published)}`,
    formatNumber(r.deliveries),
    formatSignificant(r.updatesPerDeliveryMean),
    formatNumber(r.updatesPerDeliveryMax),
    formatMicros(r.age.p50Us),
    formatMicros(r.age.p95Us),
    formatMicros(r.age.maxUs),
    formatNumber(r.accounting.lost),
  ])
  return { headers, rows, align: right(headers) }
}

/** The ticker in one sentence: per transport, how updates were bunched and how old they were on arrival. */
export function tickerSentence(results: BenchResults): string | undefined {
  const t = results.ticker
  if (!t || t.rows.length === 0) return undefined
  const each = t.rows.map(
    (r) =>
      `${r.label} ${formatSignificant(r.updatesPerDeliveryMean)} per delivery ` +
      `(at most ${formatNumber(r.updatesPerDeliveryMax)}), ` +
      `${formatMicros(r.age.p50Us)} µs old at the median and ${formatMicros(r.age.p95Us)} µs at p95`,
  )
  return (
    `With the server publishing ${formatSignificant(t.publishedPerSecond)} updates a second ` +
    `(TICKER_HZ ${formatNumber(t.hz)}) for ${formatDuration(t.measuredMs)}, ` +
    `each receiver got them as follows: ${each.join('; ')}.`
  )
}

type ScaleRow = NonNullable<BenchResults['scale']>['rows'][number]

/** Of the deliveries, the share whose receiver was on another instance than the sender: those crossed through Redis. */
export function crossInstanceShare(row: Pick<ScaleRow, 'placements'>): number | null {
  let crossing = 0
  let all = 0
  for (const p of row.placements) {
    for (const [instance, count] of Object.entries(p.receivers)) {
      all += count
      if (p.sender !== null && instance !== p.sender) crossing += count
    }
  }
  return all > 0 ? crossing / all : null
}

export function scaleTable(results: BenchResults): Table {
  const headers = [
    'setup',
    'across instances',
    'deliveries/s',
    'vs alone',
    'p50 µs',
    'vs alone',
    'p99 µs',
    'vs alone',
    'Redis round trips/msg',
    'Redis commands run/msg',
    'lost',
  ]
  const rows = (results.scale?.rows ?? []).map((r) => [
    `${r.label}${r.clientBound ? ' *' : ''}`,
    r.instances > 1 ? formatPercent(crossInstanceShare(r)) : '—',
    withSpread(formatNumber(r.deliveriesPerSecond), r.spread.deliveriesPerSecond, r.deliveriesPerSecond),
    formatRatio(r.vsAlone.deliveriesPerSecond),
    withSpread(formatMicros(r.p50Us), r.spread.p50Us, r.p50Us),
    formatRatio(r.vsAlone.p50Us),
    withSpread(formatMicros(r.p99Us), r.spread.p99Us, r.p99Us),
    formatRatio(r.vsAlone.p99Us),
    formatSignificant(r.redis?.sent.perMessage),
    formatSignificant(r.redis?.ran.perMessage),
    formatNumber(r.accounting.lost),
  ])
  return { headers, rows, align: right(headers) }
}

/** The commands of a count per message, most first: "evalsha 1.00, set 0.05". */
function perMessageByCommand(count: NonNullable<ScaleRow['redis']>['sent']): string {
  if (count.messages === 0) return 'no messages'
  return Object.entries(count.byCommand)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([name, calls]) => `${name} ${formatSignificant(calls / count.messages)}`)
    .join(', ')
}

/** The scale scenario in sentences: what each setup costs against one server alone, what Redis did per message, what was not measured. */
export function scaleSentences(results: BenchResults): string[] {
  const s = results.scale
  if (!s) return []
  const sentences = s.rows
    .filter((r) => r.setup !== 'alone')
    .map((r) => {
      const crossing =
        r.instances > 1 ? ` (${formatPercent(crossInstanceShare(r))} of deliveries across instances)` : ''
      const vs =
        r.vsAlone.deliveriesPerSecond === null
          ? 'one server alone was not measured'
          : `${formatRatio(r.vsAlone.deliveriesPerSecond)} the deliveries per second of one server alone, ` +
            `p50 ${formatRatio(r.vsAlone.p50Us)} and p99 ${formatRatio(r.vsAlone.p99Us)} its latency`
      const redis = r.redis
        ? `; per message, ${formatSignificant(r.redis.sent.perMessage)} Redis round trips ` +
          `(${perMessageByCommand(r.redis.sent)}) and ${formatSignificant(r.redis.ran.perMessage)} commands run ` +
          `in Redis, the scripts' own included (${perMessageByCommand(r.redis.ran)})`
        : ''
      return `${r.label}${crossing}: ${vs}${redis}.`
    })
  return [...sentences, ...s.skipped.map((line) => `${line.charAt(0).toUpperCase()}${line.slice(1)}.`)]
}

/** joins: per push transport and N, what joining one room cost the server and what each client was sent. */
export function joinsTable(results: BenchResults): Table {
  const headers = [
    'transport',
    'N',
    'joined',
    'errors',
    'join time',
    'server CPU-s',
    'CPU-ms/join',
    'per join vs smallest N',
    'presence/client',
    'dropped in hold',
  ]
  const rows = (results.joins?.rows ?? []).map((r) => [
    r.label,
    formatNumber(r.clients),
    `${formatNumber(r.joined)} / ${formatNumber(r.clients)}${r.complete ? '' : ' (cut short)'}`,
    formatNumber(r.failed + r.notStarted),
    formatDuration(r.joinMs),
    formatSignificant(r.cpuSeconds),
    formatSignificant(r.cpuMsPerJoin),
    r.perJoinRatio === null ? '—' : formatRatio(r.perJoinRatio),
    formatSignificant(r.presencePerClient),
    formatNumber(r.droppedDuringHold),
  ])
  return { headers, rows, align: right(headers) }
}

/** Per-join cost within this factor of the smallest N's: the total grows linearly in N. */
export const LINEAR_PER_JOIN_MAX = 1.5

/** joins in sentences: per transport, the largest N held and how the cost of a join grew with N. */
export function joinsSentences(results: BenchResults): string[] {
  const j = results.joins
  if (!j) return []
  // One series per transport and setup (alone, + Redis): the label says which.
  const series = [...new Set(j.rows.map((r) => r.label))]
  return series.map((label) => {
    const rows = j.rows.filter((r) => r.label === label)
    const largest = rows.at(-1)!
    const smallest = rows.find((r) => r.complete)
    const held =
      `${label}: ${formatNumber(largest.joined)} of ${formatNumber(largest.clients)} clients joined one room ` +
      `and were held ${formatDuration(j.holdMs)} with ${formatNumber(largest.failed + largest.notStarted + largest.droppedDuringHold)} errors` +
      (largest.complete ? '' : ` (cut short at the ${formatDuration(j.limitMs)} limit)`)
    const growth =
      largest.perJoinRatio !== null && smallest
        ? `; a join cost ${formatSignificant(largest.cpuMsPerJoin)} CPU-ms at ${formatNumber(largest.clients)}, ` +
          `${formatRatio(largest.perJoinRatio)} of its ${formatSignificant(smallest.cpuMsPerJoin)} CPU-ms at ` +
          `${formatNumber(smallest.clients)}: ${largest.perJoinRatio <= LINEAR_PER_JOIN_MAX ? 'linear' : 'not linear'} in N ` +
          `(linear: within ${formatRatio(LINEAR_PER_JOIN_MAX)})`
        : ''
    const presence =
      largest.presencePerClient === null
        ? ''
        : `; each client received ${formatSignificant(largest.presencePerClient)} presence deliveries`
    return `${held}${growth}${presence}.`
  })
}
