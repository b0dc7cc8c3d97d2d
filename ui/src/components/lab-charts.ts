// Three live charts of what the lab measures: how fast each transport
// delivered this page's messages, what each delivered message cost in bytes
// (overhead vs payload), and what each transport costs while nothing is said.
import { LitElement, css, html, nothing, type ReactiveController, type ReactiveControllerHost } from 'lit'
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
import type { Lab } from '../state/lab.ts'
import type { IdleCost } from '../state/wire-store.ts'
import { bytesPerMessage, latencyStats, throttle, type BytesPerMessage, type LatencyStats } from './chart-data.ts'

Chart.register(LineController, LineElement, PointElement, LinearScale, LogarithmicScale, CategoryScale, BarController, BarElement, Tooltip, Legend)

/** A shape per transport as well as a colour, so the latency series part without colour. */
const MARKERS: Record<TransportName, PointStyle> = {
  'short-polling': 'rect',
  'long-polling': 'triangle',
  sse: 'rectRot',
  websocket: 'circle',
  'socket.io': 'star',
}

const UPDATES_EVERY_MS = 500
/** Latencies under this are drawn at it: a log scale has no zero. */
const LATENCY_FLOOR_MS = 0.05
const INK = '#1b1f24'
const FONT = { size: 14, family: "system-ui, -apple-system, 'Segoe UI', sans-serif" }
const COMPACT = new Intl.NumberFormat('en-US', { notation: 'compact', maximumFractionDigits: 1 })

interface LatencyPoint {
  x: number
  y: number
  ms: number
  via: TransportName
}

interface Model {
  latency: Record<TransportName, LatencyPoint[]>
  latencyStats: Record<TransportName, LatencyStats | undefined>
  bytes: Record<TransportName, BytesPerMessage>
  idle: Record<TransportName, IdleCost | undefined>
  connections: Record<TransportName, number | undefined>
}

function perTransport<T>(value: (t: TransportName) => T): Record<TransportName, T> {
  return Object.fromEntries(TRANSPORTS.map((t) => [t, value(t)])) as Record<TransportName, T>
}

function buildModel(lab: Lab): Model {
  return {
    latency: perTransport((t) => lab.latency.filter((s) => s.transport === t).map((s) => ({
      // `at` is on the page clock (timeOrigin + now), so this is seconds since the page opened.
      x: (s.at - performance.timeOrigin) / 1000,
      y: Math.max(LATENCY_FLOOR_MS, s.ms),
      ms: s.ms,
      via: s.via,
    }))),
    latencyStats: perTransport((t) => latencyStats(lab.latency, t)),
    bytes: perTransport((t) => bytesPerMessage(lab.wire.tally(t))),
    idle: perTransport((t) => lab.wire.idleCost(t)),
    connections: perTransport((t) => lab.wire.tally(t)?.connectionsOpen),
  }
}

/**
 * Listens to the Lab's 'latency' and the wire meter's 'change' while the host
 * is in the page, and asks it to render at most twice a second: a burst of
 * messages to five panels must not redraw five charts per message.
 */
class LabFeed implements ReactiveController {
  private readonly throttled: ReturnType<typeof throttle>
  private lab: Lab | undefined
  private connected = false
  private readonly onChange = () => this.throttled.call()

  constructor(host: ReactiveControllerHost) {
    this.throttled = throttle(() => host.requestUpdate(), UPDATES_EVERY_MS)
    host.addController(this)
  }

  follow(lab: Lab | undefined): void {
    if (lab === this.lab) return
    this.detach()
    this.lab = lab
    if (this.connected) this.attach()
  }

  hostConnected(): void {
    this.connected = true
    this.attach()
  }

  hostDisconnected(): void {
    this.connected = false
    this.detach()
  }

  private attach(): void {
    this.lab?.addEventListener('latency', this.onChange)
    this.lab?.wire.addEventListener('change', this.onChange)
  }

  private detach(): void {
    this.lab?.removeEventListener('latency', this.onChange)
    this.lab?.wire.removeEventListener('change', this.onChange)
    this.throttled.cancel()
  }
}

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
      x: { stacked: true, beginAtZero: true, title: axisTitle(xTitle), ticks: { color: INK, font: FONT, maxRotation: 0, callback: (value) => COMPACT.format(Number(value)) } },
      y: { stacked: true, ticks: { color: INK, font: FONT, autoSkip: false } },
    },
    plugins: {
      legend: { display: false },
      tooltip: { titleFont: FONT, bodyFont: FONT, callbacks: { label: (ctx) => tooltipLabel(ctx.parsed.x ?? 0, ctx.dataset.label ?? '') } },
    },
  }
}

const colors = TRANSPORTS.map((t) => TRANSPORT_INFO[t].color)
const perMinute = (n: number) => `${n.toFixed(1)}/min`

interface Charts {
  latency: Chart<'line', LatencyPoint[]>
  bytesOut: Chart<'bar', Array<number | null>, string[]>
  bytesIn: Chart<'bar', Array<number | null>, string[]>
  idleRequests: Chart<'bar', Array<number | null>, string[]>
  idleBytes: Chart<'bar', Array<number | null>, string[]>
}

export class LabCharts extends LitElement {
  static override properties = {
    lab: { attribute: false },
  }

  declare lab: Lab | undefined
  private readonly _feed = new LabFeed(this)
  private _charts: Charts | undefined
  private _model: Model | undefined

  constructor() {
    super()
    this.lab = undefined
  }

  override connectedCallback(): void {
    super.connectedCallback()
    // Charts are destroyed when the element leaves the page; a render brings them back.
    if (this.hasUpdated) this.requestUpdate()
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback()
    for (const chart of Object.values(this._charts ?? {})) chart.destroy()
    this._charts = undefined
  }

  protected override willUpdate(): void {
    this._feed.follow(this.lab)
    this._model = this.lab ? buildModel(this.lab) : undefined
  }

  protected override updated(): void {
    if (!this.isConnected) return
    this._charts ??= this._createCharts()
    if (this._charts && this._model) this._fill(this._charts, this._model)
  }

  private _canvas(id: string): HTMLCanvasElement | null {
    return this.renderRoot.querySelector<HTMLCanvasElement>(`#${id}`)
  }

  private _createCharts(): Charts | undefined {
    const canvases = ['latency-canvas', 'bytes-out-canvas', 'bytes-in-canvas', 'idle-requests-canvas', 'idle-bytes-canvas'].map((id) => this._canvas(id))
    if (canvases.some((c) => !c)) return undefined
    const [latencyCanvas, bytesOutCanvas, bytesInCanvas, idleRequestsCanvas, idleBytesCanvas] = canvases as HTMLCanvasElement[]
    const patterns = TRANSPORTS.map((t) => stripes(TRANSPORT_INFO[t].color))
    const labels = TRANSPORTS.map((t) => [TRANSPORT_INFO[t].label])

    const latencyConfig: ChartConfiguration<'line', LatencyPoint[]> = {
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

    const bytesConfig = (tooltipSuffix: string): ChartConfiguration<'bar', Array<number | null>, string[]> => ({
      type: 'bar',
      data: {
        labels: labels.map((l) => [...l]),
        datasets: [
          { label: 'Payload', data: [], backgroundColor: colors, borderColor: colors, borderWidth: 1.5 },
          { label: 'Overhead', data: [], backgroundColor: patterns, borderColor: colors, borderWidth: 1.5 },
        ],
      },
      options: barOptions('bytes per message', (value, dataset) => `${dataset}: ${formatBytes(value)} ${tooltipSuffix}`),
    })

    const idleConfig = (title: string, format: (n: number) => string): ChartConfiguration<'bar', Array<number | null>, string[]> => ({
      type: 'bar',
      data: {
        labels: labels.map((l) => [...l]),
        datasets: [{ label: title, data: [], backgroundColor: colors, borderColor: colors, borderWidth: 1.5 }],
      },
      options: barOptions(title, (value) => format(value)),
    })

    return {
      latency: new Chart(latencyCanvas!, latencyConfig),
      bytesOut: new Chart(bytesOutCanvas!, bytesConfig('per message delivered')),
      bytesIn: new Chart(bytesInCanvas!, bytesConfig('per message sent')),
      idleRequests: new Chart(idleRequestsCanvas!, idleConfig('HTTP requests per idle minute', perMinute)),
      idleBytes: new Chart(idleBytesCanvas!, idleConfig('bytes per idle minute', (n) => `${formatBytes(n)}/min`)),
    }
  }

  /** New numbers into the existing charts: the datasets stay, so a series hidden from the legend stays hidden. */
  private _fill(charts: Charts, model: Model): void {
    charts.latency.data.datasets.forEach((dataset, i) => {
      dataset.data = model.latency[TRANSPORTS[i]!]
    })
    charts.latency.update('none')

    for (const [chart, direction] of [[charts.bytesOut, 'out'], [charts.bytesIn, 'in']] as const) {
      const figures = TRANSPORTS.map((t) => model.bytes[t][direction])
      chart.data.labels = TRANSPORTS.map((t, i) => {
        const f = figures[i]
        return [TRANSPORT_INFO[t].label, f ? `${formatBytes(f.total)} (${formatBytes(f.overhead)} overhead)` : 'no messages yet']
      })
      chart.data.datasets[0]!.data = figures.map((f) => f?.payload ?? null)
      chart.data.datasets[1]!.data = figures.map((f) => f?.overhead ?? null)
      chart.update('none')
    }

    const idle = TRANSPORTS.map((t) => model.idle[t])
    for (const [chart, pick, format] of [
      [charts.idleRequests, (c: IdleCost) => c.requestsPerMinute, perMinute],
      [charts.idleBytes, (c: IdleCost) => c.bytesPerMinute, (n: number) => `${formatBytes(n)}/min`],
    ] as const) {
      chart.data.labels = TRANSPORTS.map((t, i) => {
        const cost = idle[i]
        return [TRANSPORT_INFO[t].label, cost ? format(pick(cost)) : 'no quiet window yet']
      })
      chart.data.datasets[0]!.data = idle.map((c) => (c ? pick(c) : null))
      chart.update('none')
    }
  }

  override render() {
    const model = this._model
    if (!model) return html`<p class="placeholder">No lab to chart.</p>`
    const anyLatency = TRANSPORTS.some((t) => model.latencyStats[t])
    const anyIdle = TRANSPORTS.some((t) => model.idle[t])
    return html`
      <section aria-labelledby="latency-heading">
        <h2 id="latency-heading">Delivery latency per receiving transport</h2>
        <p class="caption">From this page's <code>sentAt</code> to each panel's receipt, on one clock, for the messages this page sent. One point per delivered message.</p>
        <div class="chart tall">
          <canvas id="latency-canvas" role="img" aria-label=${this._latencyLabel(model)}></canvas>
          ${anyLatency ? nothing : html`<p class="empty">No measurements yet: send a message from the Race tab.</p>`}
        </div>
        ${this._latencyTable(model)}
      </section>

      <section aria-labelledby="bytes-heading">
        <h2 id="bytes-heading">Bytes on the wire per chat message</h2>
        <p class="caption">
          <span class="swatch payload" aria-hidden="true"></span> payload (the chat JSON)
          <span class="swatch overhead" aria-hidden="true"></span> overhead (request and status lines, headers, framing, packet prefixes).
          Idle traffic (pings, empty polls, the headers of empty responses) is included, because it is part of what each message costs.
          All clients of the server count, not just this page.
        </p>
        <div class="pair">
          <figure>
            <figcaption>Server → client, per message delivered</figcaption>
            <div class="chart"><canvas id="bytes-out-canvas" role="img" aria-label=${this._bytesLabel(model, 'out')}></canvas></div>
          </figure>
          <figure>
            <figcaption>Client → server, per message sent</figcaption>
            <div class="chart"><canvas id="bytes-in-canvas" role="img" aria-label=${this._bytesLabel(model, 'in')}></canvas></div>
          </figure>
        </div>
        ${this._bytesTable(model)}
      </section>

      <section aria-labelledby="idle-heading">
        <h2 id="idle-heading">Idle cost: keeping the line open with nothing to say</h2>
        <p class="caption">
          Measured over the last minute (at least 54 s of the page's once-a-second samples) in which a transport carried no chat message, for all its clients on the server.
          ${anyIdle ? 'While messages flow, the last quiet figure is kept.' : 'Nothing yet: a transport needs a quiet minute first.'}
        </p>
        <div class="pair">
          <figure>
            <figcaption>HTTP requests per minute</figcaption>
            <div class="chart"><canvas id="idle-requests-canvas" role="img" aria-label=${this._idleLabel(model, 'requests')}></canvas></div>
          </figure>
          <figure>
            <figcaption>Bytes per minute, both directions</figcaption>
            <div class="chart"><canvas id="idle-bytes-canvas" role="img" aria-label=${this._idleLabel(model, 'bytes')}></canvas></div>
          </figure>
        </div>
        ${this._idleTable(model)}
      </section>
    `
  }

  private _latencyLabel(model: Model): string {
    const parts = TRANSPORTS.map((t) => {
      const s = model.latencyStats[t]
      return `${TRANSPORT_INFO[t].label}: ${s ? `median ${formatMs(s.median)} over ${s.count}` : 'no messages yet'}`
    })
    return `Line chart of delivery latency. ${parts.join('; ')}. The numbers are in the table below.`
  }

  private _bytesLabel(model: Model, direction: 'out' | 'in'): string {
    const parts = TRANSPORTS.map((t) => {
      const f = model.bytes[t][direction]
      return `${TRANSPORT_INFO[t].label}: ${f ? `${formatBytes(f.overhead)} overhead and ${formatBytes(f.payload)} payload` : 'no messages yet'}`
    })
    return `Stacked bar chart of bytes per message, ${direction === 'out' ? 'server to client' : 'client to server'}. ${parts.join('; ')}.`
  }

  private _idleLabel(model: Model, which: 'requests' | 'bytes'): string {
    const parts = TRANSPORTS.map((t) => {
      const c = model.idle[t]
      return `${TRANSPORT_INFO[t].label}: ${c ? (which === 'requests' ? perMinute(c.requestsPerMinute) : `${formatBytes(c.bytesPerMinute)}/min`) : 'no quiet window yet'}`
    })
    return `Bar chart of ${which === 'requests' ? 'HTTP requests' : 'bytes'} per idle minute. ${parts.join('; ')}.`
  }

  private _latencyTable(model: Model) {
    return html`
      <details>
        <summary>The numbers</summary>
        <table>
          <thead><tr><th scope="col">Receiving transport</th><th scope="col" class="num">Messages</th><th scope="col" class="num">Min</th><th scope="col" class="num">Median</th><th scope="col" class="num">p95</th><th scope="col" class="num">Max</th><th scope="col" class="num">Last</th></tr></thead>
          <tbody>
            ${TRANSPORTS.map((t) => {
              const s = model.latencyStats[t]
              return s
                ? html`<tr><th scope="row">${TRANSPORT_INFO[t].label}</th><td class="num">${s.count}</td><td class="num">${formatMs(s.min)}</td><td class="num">${formatMs(s.median)}</td><td class="num">${formatMs(s.p95)}</td><td class="num">${formatMs(s.max)}</td><td class="num">${formatMs(s.last)}</td></tr>`
                : html`<tr><th scope="row">${TRANSPORT_INFO[t].label}</th><td colspan="6">no messages yet</td></tr>`
            })}
          </tbody>
        </table>
      </details>
    `
  }

  private _bytesTable(model: Model) {
    const cells = (f: BytesPerMessage['out']) => f
      ? html`<td class="num">${formatBytes(f.overhead)}</td><td class="num">${formatBytes(f.payload)}</td><td class="num">${f.messages}</td>`
      : html`<td colspan="3">no messages yet</td>`
    return html`
      <details>
        <summary>The numbers</summary>
        <table>
          <thead>
            <tr><td></td><th scope="colgroup" colspan="3">Server → client</th><th scope="colgroup" colspan="3">Client → server</th></tr>
            <tr><th scope="col">Transport</th><th scope="col" class="num">Overhead</th><th scope="col" class="num">Payload</th><th scope="col" class="num">Messages</th><th scope="col" class="num">Overhead</th><th scope="col" class="num">Payload</th><th scope="col" class="num">Messages</th></tr>
          </thead>
          <tbody>
            ${TRANSPORTS.map((t) => html`<tr><th scope="row">${TRANSPORT_INFO[t].label}</th>${cells(model.bytes[t].out)}${cells(model.bytes[t].in)}</tr>`)}
          </tbody>
        </table>
      </details>
    `
  }

  private _idleTable(model: Model) {
    return html`
      <details>
        <summary>The numbers</summary>
        <table>
          <thead><tr><th scope="col">Transport</th><th scope="col" class="num">Requests/min</th><th scope="col" class="num">Bytes/min</th><th scope="col" class="num">Quiet window</th><th scope="col" class="num">Open connections</th></tr></thead>
          <tbody>
            ${TRANSPORTS.map((t) => {
              const c = model.idle[t]
              const open = html`<td class="num">${model.connections[t] ?? '—'}</td>`
              return c
                ? html`<tr><th scope="row">${TRANSPORT_INFO[t].label}</th><td class="num">${c.requestsPerMinute.toFixed(1)}</td><td class="num">${formatBytes(c.bytesPerMinute)}</td><td class="num">${c.windowSeconds.toFixed(0)} s</td>${open}</tr>`
                : html`<tr><th scope="row">${TRANSPORT_INFO[t].label}</th><td colspan="3">no quiet window yet</td>${open}</tr>`
            })}
          </tbody>
        </table>
      </details>
    `
  }

  static override styles = css`
    :host { display: flex; flex-direction: column; gap: 1.2rem; font-size: 15px; color: #1b1f24; }
    section { display: flex; flex-direction: column; gap: 0.35rem; }
    h2 { font-size: 1.1rem; margin: 0; }
    .caption { margin: 0; color: #3d4450; max-width: 75rem; }
    .pair { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); gap: 1rem; }
    figure { margin: 0; min-width: 0; }
    figcaption { font-weight: 600; margin-bottom: 0.2rem; }
    .chart { position: relative; height: 250px; background: #fff; border: 1px solid #d5dbe3; border-radius: 4px; padding: 0.3rem; }
    .chart.tall { height: 300px; }
    .chart canvas { display: block; }
    .empty { position: absolute; inset: 0; display: flex; align-items: center; justify-content: center; margin: 0; color: #3d4450; font-size: 16px; pointer-events: none; }
    .swatch { display: inline-block; width: 1.1em; height: 0.9em; vertical-align: -0.1em; border: 1.5px solid #3d4450; margin-left: 0.3em; }
    .swatch.payload { background: #3d4450; }
    .swatch.overhead { background: repeating-linear-gradient(135deg, #3d4450 0 2px, #d5dbe3 2px 6px); }
    details summary { cursor: pointer; width: fit-content; }
    details summary:focus-visible { outline: 3px solid #ffbf47; outline-offset: 1px; }
    table { border-collapse: collapse; margin-top: 0.3rem; background: #fff; }
    th, td { padding: 0.2rem 0.7rem; border-bottom: 1px solid #e3e7ec; text-align: left; }
    .num { text-align: right; font-variant-numeric: tabular-nums; }
    .placeholder { color: #3d4450; }
  `
}

customElements.define('lab-charts', LabCharts)

declare global {
  interface HTMLElementTagNameMap {
    'lab-charts': LabCharts
  }
}
