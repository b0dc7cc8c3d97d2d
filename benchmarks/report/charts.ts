// The report's charts: Vega-Lite specs built from the results and rendered to
// SVG headless (vega's View.toSVG needs no canvas or browser).
import * as vega from 'vega'
import { compile, type TopLevelSpec } from 'vega-lite'
import type { BenchResults } from '../schema.ts'
import { shortLabel } from '../subjects.ts'
import { summaryTextBytes } from './tables.ts'

const kindOf = (target: string) => (target === 'lab' ? 'Transport Lab' : 'bare baseline')
const labelAxis = { title: null, labelAngle: -35, labelLimit: 200 }
const base = {
  $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
  background: 'white',
  config: { font: 'sans-serif', view: { stroke: null } },
} as const

interface FacetedBars {
  title: string
  values: Array<Record<string, unknown>>
  /** The field that splits the chart into columns, and the field that orders them. */
  column: string
  columnOrder?: string
  y: string
  yTitle: string
  /** Colour by this field; by the bar's own label when absent. */
  color?: { field: string; domain?: string[]; range?: string[] }
  order: string[]
  width: number
}

/** Bars per subject, one panel per value of `column`, each panel with its own scale. */
function facetedBars(c: FacetedBars): TopLevelSpec {
  return {
    ...base,
    title: c.title,
    data: { values: c.values },
    facet: {
      column: {
        field: c.column,
        type: 'ordinal',
        title: null,
        ...(c.columnOrder ? { sort: { field: c.columnOrder } } : {}),
      },
    },
    spec: {
      width: c.width,
      height: 220,
      mark: 'bar',
      encoding: {
        x: { field: 'label', type: 'nominal', sort: c.order, axis: labelAxis },
        y: { field: c.y, type: 'quantitative', title: c.yTitle, stack: 'zero' },
        color: c.color
          ? {
              field: c.color.field,
              type: 'nominal',
              title: null,
              ...(c.color.domain ? { scale: { domain: c.color.domain, range: c.color.range } } : {}),
            }
          : { field: 'label', type: 'nominal', legend: null, sort: c.order },
        tooltip: [{ field: 'label' }, { field: c.y, format: ',.1f' }],
      },
    },
    resolve: { scale: { y: 'independent' } },
  }
}

export function chartSpecs(results: BenchResults): Record<string, TopLevelSpec> {
  const specs: Record<string, TopLevelSpec> = {}
  const order = [
    ...new Set(
      [
        ...(results.wire?.rows ?? []),
        ...(results.throughput?.rows ?? []),
        ...(results.idle?.rows ?? []),
        ...(results.latency?.rows ?? []),
      ].map((r) => shortLabel(r)),
    ),
  ]
  if (results.wire && results.wire.rows.length > 0) {
    const values = results.wire.rows.flatMap((r) => [
      {
        label: shortLabel(r),
        size: `${r.textBytes} B of text`,
        textBytes: r.textBytes,
        kind: 'payload',
        bytes: r.receive.out.payload + r.receive.in.payload,
      },
      {
        label: shortLabel(r),
        size: `${r.textBytes} B of text`,
        textBytes: r.textBytes,
        kind: 'overhead',
        bytes: r.receive.out.overhead + r.receive.in.overhead,
      },
    ])
    specs['wire.svg'] = facetedBars({
      title: "Bytes on the wire per delivered message (receiver's link)",
      values,
      column: 'size',
      columnOrder: 'textBytes',
      y: 'bytes',
      yTitle: 'bytes per message',
      color: { field: 'kind', domain: ['payload', 'overhead'], range: ['#4c78a8', '#f58518'] },
      order,
      width: 220,
    })
    const size = summaryTextBytes(results)
    const projection = results.wire.projection
      .filter((p) => p.textBytes === size && p.target === 'lab')
      .flatMap((p) =>
        p.mbps.map((m) => ({
          label: shortLabel(p),
          clients: `${m.clients.toLocaleString('en-US')} clients`,
          n: m.clients,
          mbps: m.mbps,
        })),
      )
    specs['projection.svg'] = facetedBars({
      title: `Bandwidth when every client receives one ${size} B message per second`,
      values: projection,
      column: 'clients',
      columnOrder: 'n',
      y: 'mbps',
      yTitle: 'Mbit/s',
      order,
      width: 200,
    })
  }
  if (results.latency && results.latency.rows.length > 0) {
    const values = results.latency.rows.flatMap((r) =>
      (['p50', 'p90', 'p99', 'p99.9', 'max'] as const)
        .map((p, i) => ({
          label: shortLabel(r),
          percentile: p,
          rank: i,
          us: [r.latency.p50Us, r.latency.p90Us, r.latency.p99Us, r.latency.p999Us, r.latency.maxUs][i],
        }))
        .filter((v) => v.us != null && v.us > 0),
    )
    specs['latency.svg'] = {
      ...base,
      title: `Delivery latency, ${results.latency.rateHz} msg/s to ${results.latency.receivers} receivers`,
      width: 420,
      height: 300,
      data: { values },
      mark: { type: 'line', point: true },
      encoding: {
        x: { field: 'percentile', type: 'ordinal', sort: { field: 'rank' }, title: null },
        y: { field: 'us', type: 'quantitative', scale: { type: 'log' }, title: 'µs (log scale)' },
        color: { field: 'label', type: 'nominal', title: null, sort: order },
      },
    }
  }
  if (results.throughput && results.throughput.rows.length > 0) {
    const values = results.throughput.rows.map((r) => ({
      label: shortLabel(r),
      fanout: `fan-out ${r.fanout}`,
      f: r.fanout,
      kind: kindOf(r.target),
      deliveries: r.deliveriesPerSecond,
    }))
    specs['throughput.svg'] = facetedBars({
      title: 'Deliveries per second at saturation',
      values,
      column: 'fanout',
      columnOrder: 'f',
      y: 'deliveries',
      yTitle: 'deliveries/s',
      color: { field: 'kind' },
      order,
      width: 300,
    })
  }
  if (results.idle && results.idle.rows.length > 0) {
    const values = results.idle.rows.flatMap((r) => [
      {
        label: shortLabel(r),
        metric: 'heap per connection',
        rank: 0,
        kind: kindOf(r.target),
        bytes: r.heapPerConnectionBytes ?? 0,
      },
      {
        label: shortLabel(r),
        metric: 'RSS per connection',
        rank: 1,
        kind: kindOf(r.target),
        bytes: r.rssPerConnectionBytes ?? 0,
      },
    ])
    specs['idle.svg'] = facetedBars({
      title: `Memory per idle connection (${results.idle.clients.toLocaleString('en-US')} clients, after a full GC)`,
      values,
      column: 'metric',
      columnOrder: 'rank',
      y: 'bytes',
      yTitle: 'bytes',
      color: { field: 'kind' },
      order,
      width: 300,
    })
  }
  if (results.noisy && results.noisy.rows.length > 0) {
    const values = results.noisy.rows.flatMap((r) =>
      [
        ['p50', r.latency.p50Us],
        ['p99', r.latency.p99Us],
      ]
        .filter(([, us]) => us != null && (us as number) > 0)
        .map(([percentile, us]) => ({
          who: r.phase === 'quiet' ? 'nobody' : r.label.replace(/ flood, limit \w+$/, ''),
          limit: `limit ${r.limit}`,
          percentile,
          us,
        })),
    )
    specs['noisy.svg'] = {
      ...base,
      title: "Bystanders' delivery latency while one client floods",
      data: { values },
      facet: { column: { field: 'limit', type: 'nominal', title: null, sort: ['limit on', 'limit off'] } },
      spec: {
        width: 260,
        height: 240,
        mark: 'bar',
        encoding: {
          x: {
            field: 'who',
            type: 'nominal',
            title: 'who floods',
            sort: ['nobody', 'WebSocket', 'Socket.IO', 'HTTP POST'],
            axis: { labelAngle: -30 },
          },
          xOffset: { field: 'percentile', type: 'nominal', sort: ['p50', 'p99'] },
          // Bars on a log scale need a floor to start from: 10 µs, below any delivery over loopback.
          y: { field: 'us', type: 'quantitative', scale: { type: 'log', domainMin: 10 }, title: 'µs (log scale)' },
          y2: { datum: 10 },
          color: { field: 'percentile', type: 'nominal', title: null, sort: ['p50', 'p99'] },
          tooltip: [{ field: 'who' }, { field: 'percentile' }, { field: 'us', format: ',.0f' }],
        },
      },
    }
  }
  if (results.slowReaders && results.slowReaders.rows.length > 0) {
    const mib = (bytes: number) => bytes / (1024 * 1024)
    const kinds = [
      'held for the stopped readers',
      `N × SEND_BUFFER_BYTES`,
      'peak RSS growth',
      'peak RSS growth, control',
    ]
    const values = results.slowReaders.rows.flatMap((r) => [
      { label: r.label, kind: kinds[0], mib: mib(r.readersHeldBytes) },
      { label: r.label, kind: kinds[1], mib: mib(r.budgetBytes) },
      { label: r.label, kind: kinds[2], mib: mib(r.peakRssGrowthBytes) },
      { label: r.label, kind: kinds[3], mib: mib(r.controlPeakRssGrowthBytes) },
    ])
    specs['slow-readers.svg'] = {
      ...base,
      title: `${results.slowReaders.readers} stopped readers: memory the server held for them`,
      width: 420,
      height: 260,
      data: { values },
      mark: 'bar',
      encoding: {
        x: {
          field: 'label',
          type: 'nominal',
          title: null,
          sort: ['SSE', 'WebSocket', 'Socket.IO'],
          axis: { labelAngle: 0 },
        },
        xOffset: { field: 'kind', type: 'nominal', sort: kinds },
        y: { field: 'mib', type: 'quantitative', title: 'MiB' },
        color: { field: 'kind', type: 'nominal', title: null, sort: kinds, legend: { labelLimit: 320 } },
        tooltip: [{ field: 'label' }, { field: 'kind' }, { field: 'mib', format: ',.1f' }],
      },
    }
  }
  if (results.deadPeers && results.deadPeers.rows.length > 0) {
    const kinds = ['gone from presence', 'connection closed', 'the settings allow (at most)']
    const values = results.deadPeers.rows.flatMap((r) =>
      [
        { label: r.label, kind: kinds[0], s: r.goneFromPresenceMs === null ? null : r.goneFromPresenceMs / 1000 },
        { label: r.label, kind: kinds[1], s: r.connectionClosedMs === null ? null : r.connectionClosedMs / 1000 },
        { label: r.label, kind: kinds[2], s: r.expectedMaxMs / 1000 },
      ].filter((v) => v.s !== null),
    )
    specs['dead-peers.svg'] = {
      ...base,
      title: `Time to reap a peer that stopped answering${results.deadPeers.shortened ? ' (shortened settings)' : ''}`,
      width: 420,
      height: 220,
      data: { values },
      mark: 'bar',
      encoding: {
        y: { field: 'label', type: 'nominal', title: null },
        yOffset: { field: 'kind', type: 'nominal', sort: kinds },
        x: { field: 's', type: 'quantitative', title: 'seconds after it stopped' },
        color: { field: 'kind', type: 'nominal', title: null, sort: kinds, legend: { labelLimit: 320 } },
        tooltip: [{ field: 'label' }, { field: 'kind' }, { field: 's', format: ',.2f' }],
      },
    }
  }
  return specs
}

export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' })
  try {
    return await view.toSVG()
  } finally {
    view.finalize()
  }
}
