// How the Charts view's charts look, as Chart.js configurations: their axes,
// fonts, datasets, markers and stripes, and the callbacks that format their
// ticks and tooltips. The elements only put numbers into them.
import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  LogarithmicScale,
  PointElement,
  Tooltip,
  type ChartConfiguration,
  type ChartOptions,
  type PointStyle,
} from 'chart.js'
import { TRANSPORT_INFO, type TransportName, TRANSPORTS } from '../../../server/core/names.ts'
import { formatBytes, formatMs } from '../format.ts'
import type { LatencySample } from '../state/lab.ts'

// Only what these configurations use, so the bundle carries no other chart types.
Chart.register(
  LineController,
  LineElement,
  PointElement,
  LinearScale,
  LogarithmicScale,
  CategoryScale,
  BarController,
  BarElement,
  Tooltip,
  Legend,
)

/** A shape per transport as well as a colour, so the latency series part without colour. */
const MARKERS: Record<TransportName, PointStyle> = {
  'short-polling': 'rect',
  'long-polling': 'triangle',
  sse: 'rectRot',
  websocket: 'circle',
  'socket.io': 'star',
}

/** Latencies under this are drawn at it: a log scale has no zero. */
const LATENCY_FLOOR_MS = 0.05
const INK = '#1b1f24'
const FONT = { size: 14, family: "system-ui, -apple-system, 'Segoe UI', sans-serif" }
const COMPACT = new Intl.NumberFormat('en-US', { notation: 'compact', maximumFractionDigits: 1 })

const colors = TRANSPORTS.map((t) => TRANSPORT_INFO[t].color)
const labels = () => TRANSPORTS.map((t) => [TRANSPORT_INFO[t].label])

export const formatPerMinute = (n: number) => `${n.toFixed(1)}/min`
export const formatBytesPerMinute = (n: number) => `${formatBytes(n)}/min`

export interface LatencyPoint {
  x: number
  y: number
  ms: number
  via: TransportName
}

export function latencyPoint(sample: LatencySample): LatencyPoint {
  return {
    // `at` is on the page clock (timeOrigin + now), so this is seconds since the page opened.
    x: (sample.at - performance.timeOrigin) / 1000,
    y: Math.max(LATENCY_FLOOR_MS, sample.ms),
    ms: sample.ms,
    via: sample.via,
  }
}

export type LatencyChart = Chart<'line', LatencyPoint[]>
export type BarChart = Chart<'bar', Array<number | null>, string[]>
type BarConfiguration = ChartConfiguration<'bar', Array<number | null>, string[]>

/** Pale transport colour with diagonal stripes: overhead reads apart from payload without relying on colour. */
function stripes(color: string): CanvasPattern | string {
  const tile = document.createElement('canvas')
  tile.width = tile.height = 10
  const g = tile.getContext('2d')
  if (!g) return `${color}55`
  g.fillStyle = `${color}40`
  g.fillRect(0, 0, 10, 10)
  g.strokeStyle = color
  g.lineWidth = 2.5
  g.beginPath()
  g.moveTo(-1, 11)
  g.lineTo(11, -1)
  g.moveTo(-1, 1)
  g.lineTo(1, -1)
  g.moveTo(9, 11)
  g.lineTo(11, 9)
  g.stroke()
  return g.createPattern(tile, 'repeat') ?? `${color}55`
}

function axisTitle(text: string) {
  return { display: true, text, color: INK, font: FONT }
}

function barOptions(xTitle: string, tooltipLabel: (value: number, dataset: string) => string): ChartOptions<'bar'> {
  return {
    indexAxis: 'y',
    animation: false,
    responsive: true,
    maintainAspectRatio: false,
    scales: {
      // Compact, unrotated tick labels: rotated ones eat the height the transport names need.
      x: {
        stacked: true,
        beginAtZero: true,
        title: axisTitle(xTitle),
        ticks: { color: INK, font: FONT, maxRotation: 0, callback: (value) => COMPACT.format(Number(value)) },
      },
      y: { stacked: true, ticks: { color: INK, font: FONT, autoSkip: false } },
    },
    plugins: {
      legend: { display: false },
      tooltip: {
        titleFont: FONT,
        bodyFont: FONT,
        callbacks: { label: (ctx) => tooltipLabel(ctx.parsed.x ?? 0, ctx.dataset.label ?? '') },
      },
    },
  }
}

/** One series per receiving transport, in TRANSPORTS order. */
export function latencyConfig(): ChartConfiguration<'line', LatencyPoint[]> {
  return {
    type: 'line',
    data: {
      datasets: TRANSPORTS.map((t) => ({
        label: TRANSPORT_INFO[t].label,
        data: [],
        borderColor: TRANSPORT_INFO[t].color,
        backgroundColor: TRANSPORT_INFO[t].color,
        pointStyle: MARKERS[t],
        pointRadius: 5,
        pointHoverRadius: 7,
        borderWidth: 1.5,
        // The highest point sits on the chart's edge: draw it whole.
        clip: 8,
      })),
    },
    options: {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      parsing: false,
      normalized: true,
      interaction: { mode: 'nearest', intersect: false },
      scales: {
        x: { type: 'linear', title: axisTitle('seconds since this page opened'), ticks: { color: INK, font: FONT } },
        y: {
          type: 'logarithmic',
          // Three decades from the start, so the axis does not rescale under the class as the first messages land.
          suggestedMin: 1,
          suggestedMax: 1000,
          title: axisTitle('delivery latency, ms (log scale)'),
          ticks: {
            color: INK,
            font: FONT,
            // Label 1, 2 and 5 of each decade; the log scale's other ticks only draw a grid line.
            callback: (value) => {
              const v = Number(value)
              const mantissa = v / 10 ** Math.floor(Math.log10(v))
              const labelled = [1, 2, 5].some((m) => Math.abs(mantissa - m) < 1e-6)
              return labelled ? `${v >= 1 ? v : v.toFixed(Math.ceil(-Math.log10(v)))} ms` : ''
            },
          },
        },
      },
      plugins: {
        legend: { labels: { usePointStyle: true, color: INK, font: FONT } },
        tooltip: {
          titleFont: FONT,
          bodyFont: FONT,
          callbacks: {
            title: (items) => (items[0] ? `${items[0].parsed.x?.toFixed(1)} s` : ''),
            label: (ctx) => {
              const point = ctx.raw as LatencyPoint
              return `${ctx.dataset.label}: ${formatMs(point.ms)} (sent over ${TRANSPORT_INFO[point.via].label})`
            },
          },
        },
      },
    },
  }
}

/** Payload (dataset 0) and striped overhead (dataset 1) stacked, one bar per transport. */
export function bytesConfig(tooltipSuffix: string): BarConfiguration {
  const patterns = TRANSPORTS.map((t) => stripes(TRANSPORT_INFO[t].color))
  return {
    type: 'bar',
    data: {
      labels: labels(),
      datasets: [
        { label: 'Payload', data: [], backgroundColor: colors, borderColor: colors, borderWidth: 1.5 },
        { label: 'Overhead', data: [], backgroundColor: patterns, borderColor: colors, borderWidth: 1.5 },
      ],
    },
    options: barOptions('bytes per message', (value, dataset) => `${dataset}: ${formatBytes(value)} ${tooltipSuffix}`),
  }
}

/** One bar per transport; `title` names the axis and the dataset. */
export function idleConfig(title: string, format: (n: number) => string): BarConfiguration {
  return {
    type: 'bar',
    data: {
      labels: labels(),
      datasets: [{ label: title, data: [], backgroundColor: colors, borderColor: colors, borderWidth: 1.5 }],
    },
    options: barOptions(title, (value) => format(value)),
  }
}
