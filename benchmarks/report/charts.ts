// The report's charts: Vega-Lite specs built from the results and rendered to
// SVG headless (vega's View.toSVG needs no canvas or browser).
import * as vega from 'vega'
import { compile, type TopLevelSpec } from 'vega-lite'
import type { BenchResults } from '../schema.ts'
import { shortLabel } from '../subjects.ts'
import { summaryTextBytes } from './tables.ts'

const kindOf = (target: string) => (target === 'lab' ? 'Transport Lab' : 'bare baseline')
const labelAxis = { title: null, labelAngle: -35, labelLimit: 200 }
const base = { $schema: 'https://vega.github.io/schema/vega-lite/v5.json', background: 'white', config: { font: 'sans-serif', view: { stroke: null } } } as const

export function chartSpecs(results: BenchResults): Record<string, TopLevelSpec> {
  const specs: Record<string, TopLevelSpec> = {}
  const order = [...new Set([...(results.wire?.rows ?? []), ...(results.throughput?.rows ?? []), ...(results.idle?.rows ?? []), ...(results.latency?.rows ?? [])].map((r) => shortLabel(r)))]
  if (results.wire && results.wire.rows.length > 0) {
    const values = results.wire.rows.flatMap((r) => [
      { label: shortLabel(r), size: `${r.textBytes} B of text`, textBytes: r.textBytes, kind: 'payload', bytes: r.receive.out.payload + r.receive.in.payload },
      { label: shortLabel(r), size: `${r.textBytes} B of text`, textBytes: r.textBytes, kind: 'overhead', bytes: r.receive.out.overhead + r.receive.in.overhead },
    ])
    specs['wire.svg'] = {
      ...base,
      title: 'Bytes on the wire per delivered message (receiver\'s link)',
      data: { values },
      facet: { column: { field: 'size', type: 'ordinal', title: null, sort: { field: 'textBytes' } } },
      spec: {
        width: 220,
        height: 220,
        mark: 'bar',
        encoding: {
          x: { field: 'label', type: 'nominal', sort: order, axis: labelAxis },
          y: { field: 'bytes', type: 'quantitative', title: 'bytes per message', stack: 'zero' },
          color: { field: 'kind', type: 'nominal', title: null, scale: { domain: ['payload', 'overhead'], range: ['#4c78a8', '#f58518'] } },
          tooltip: [{ field: 'label' }, { field: 'kind' }, { field: 'bytes', format: '.1f' }],
        },
      },
      resolve: { scale: { y: 'independent' } },
    } as TopLevelSpec
    const size = summaryTextBytes(results)
    const projection = results.wire.projection.filter((p) => p.textBytes === size && p.target === 'lab').flatMap((p) => p.mbps.map((m) => ({ label: shortLabel(p), clients: `${m.clients.toLocaleString('en-US')} clients`, n: m.clients, mbps: m.mbps })))
    specs['projection.svg'] = {
      ...base,
      title: `Bandwidth when every client receives one ${size} B message per second`,
      data: { values: projection },
      facet: { column: { field: 'clients', type: 'ordinal', title: null, sort: { field: 'n' } } },
      spec: {
        width: 200,
        height: 220,
        mark: 'bar',
        encoding: {
          x: { field: 'label', type: 'nominal', sort: order, axis: labelAxis },
          y: { field: 'mbps', type: 'quantitative', title: 'Mbit/s' },
          color: { field: 'label', type: 'nominal', legend: null, sort: order },
          tooltip: [{ field: 'label' }, { field: 'mbps', format: '.1f' }],
        },
      },
      resolve: { scale: { y: 'independent' } },
    } as TopLevelSpec
  }
  if (results.latency && results.latency.rows.length > 0) {
    const values = results.latency.rows.flatMap((r) => (['p50', 'p90', 'p99', 'p99.9', 'max'] as const).map((p, i) => ({
      label: shortLabel(r),
      percentile: p,
      rank: i,
      us: [r.latency.p50Us, r.latency.p90Us, r.latency.p99Us, r.latency.p999Us, r.latency.maxUs][i],
    })).filter((v) => v.us != null && v.us > 0))
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
    const values = results.throughput.rows.map((r) => ({ label: shortLabel(r), fanout: `fan-out ${r.fanout}`, f: r.fanout, kind: kindOf(r.target), deliveries: r.deliveriesPerSecond }))
    specs['throughput.svg'] = {
      ...base,
      title: 'Deliveries per second at saturation',
      data: { values },
      facet: { column: { field: 'fanout', type: 'ordinal', title: null, sort: { field: 'f' } } },
      spec: {
        width: 300,
        height: 220,
        mark: 'bar',
        encoding: {
          x: { field: 'label', type: 'nominal', sort: order, axis: labelAxis },
          y: { field: 'deliveries', type: 'quantitative', title: 'deliveries/s' },
          color: { field: 'kind', type: 'nominal', title: null },
        },
      },
      resolve: { scale: { y: 'independent' } },
    } as TopLevelSpec
  }
  if (results.idle && results.idle.rows.length > 0) {
    const values = results.idle.rows.flatMap((r) => [
      { label: shortLabel(r), metric: 'heap per connection', kind: kindOf(r.target), bytes: r.heapPerConnectionBytes ?? 0 },
      { label: shortLabel(r), metric: 'RSS per connection', kind: kindOf(r.target), bytes: r.rssPerConnectionBytes ?? 0 },
    ])
    specs['idle.svg'] = {
      ...base,
      title: `Memory per idle connection (${results.idle.clients} clients, after GC)`,
      data: { values },
      facet: { column: { field: 'metric', type: 'nominal', title: null } },
      spec: {
        width: 300,
        height: 220,
        mark: 'bar',
        encoding: {
          x: { field: 'label', type: 'nominal', sort: order, axis: labelAxis },
          y: { field: 'bytes', type: 'quantitative', title: 'bytes' },
          color: { field: 'kind', type: 'nominal', title: null },
        },
      },
      resolve: { scale: { y: 'independent' } },
    } as TopLevelSpec
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
