// What each transport costs while nothing is said: HTTP requests and bytes
// per quiet minute, and the same numbers as a table.
import { LitElement, html } from 'lit'
import { TRANSPORT_INFO, type TransportName, TRANSPORTS } from '../../../server/core/names.ts'
import { perTransport } from '../charts/chart-data.ts'
import { formatBytesPerMinute, formatPerMinute, idleConfig, type BarChart } from '../charts/config.ts'
import { chartSectionStyles } from '../charts/styles.ts'
import { CanvasChart } from '../controllers/canvas-chart.ts'
import { formatBytes } from '../format.ts'
import type { IdleCost } from '../state/wire-store.ts'

const MEASURES = {
  requests: { pick: (c: IdleCost) => c.requestsPerMinute, format: formatPerMinute },
  bytes: { pick: (c: IdleCost) => c.bytesPerMinute, format: formatBytesPerMinute },
} as const

type Measure = keyof typeof MEASURES

export class LabIdleChart extends LitElement {
  static override properties = {
    idle: { attribute: false },
    connections: { attribute: false },
  }

  /** Per transport, its last quiet minute; undefined until it had one. */
  declare idle: Record<TransportName, IdleCost | undefined>
  declare connections: Record<TransportName, number | undefined>

  constructor() {
    super()
    this.idle = perTransport(() => undefined)
    this.connections = perTransport(() => undefined)
    new CanvasChart(
      this,
      'idle-requests-canvas',
      () => idleConfig('HTTP requests per idle minute', formatPerMinute),
      (chart) => this._fill(chart, 'requests'),
    )
    new CanvasChart(
      this,
      'idle-bytes-canvas',
      () => idleConfig('bytes per idle minute', formatBytesPerMinute),
      (chart) => this._fill(chart, 'bytes'),
    )
  }

  private _fill(chart: BarChart, measure: Measure): void {
    const { pick, format } = MEASURES[measure]
    chart.data.labels = TRANSPORTS.map((t) => {
      const cost = this.idle[t]
      return [TRANSPORT_INFO[t].label, cost ? format(pick(cost)) : 'no quiet window yet']
    })
    chart.data.datasets[0]!.data = TRANSPORTS.map((t) => {
      const cost = this.idle[t]
      return cost ? pick(cost) : null
    })
  }

  override render() {
    const anyIdle = TRANSPORTS.some((t) => this.idle[t])
    return html`
      <section aria-labelledby="idle-heading">
        <h2 id="idle-heading">Idle cost: keeping the line open with nothing to say</h2>
        <p class="caption">
          Measured over the last minute (at least 54 s of the page's once-a-second samples) in which a transport carried
          no chat message, for all its clients on the server.
          ${anyIdle ? 'While messages flow, the last quiet figure is kept.' : 'Nothing yet: a transport needs a quiet minute first.'}
        </p>
        <div class="pair">
          <figure>
            <figcaption>HTTP requests per minute</figcaption>
            <div class="chart">
              <canvas id="idle-requests-canvas" role="img" aria-label=${this._label('requests')}></canvas>
            </div>
          </figure>
          <figure>
            <figcaption>Bytes per minute, both directions</figcaption>
            <div class="chart">
              <canvas id="idle-bytes-canvas" role="img" aria-label=${this._label('bytes')}></canvas>
            </div>
          </figure>
        </div>
        ${this._table()}
      </section>
    `
  }

  private _label(measure: Measure): string {
    const { pick, format } = MEASURES[measure]
    const parts = TRANSPORTS.map((t) => {
      const cost = this.idle[t]
      return `${TRANSPORT_INFO[t].label}: ${cost ? format(pick(cost)) : 'no quiet window yet'}`
    })
    return `Bar chart of ${measure === 'requests' ? 'HTTP requests' : 'bytes'} per idle minute. ${parts.join('; ')}.`
  }

  private _table() {
    return html`
      <details>
        <summary>The numbers</summary>
        <table>
          <thead>
            <tr>
              <th scope="col">Transport</th>
              <th scope="col" class="num">Requests/min</th>
              <th scope="col" class="num">Bytes/min</th>
              <th scope="col" class="num">Quiet window</th>
              <th scope="col" class="num">Open connections</th>
            </tr>
          </thead>
          <tbody>
            ${TRANSPORTS.map((t) => {
              const c = this.idle[t]
              const open = html`<td class="num">${this.connections[t] ?? '—'}</td>`
              return c
                ? html`<tr>
                    <th scope="row">${TRANSPORT_INFO[t].label}</th>
                    <td class="num">${c.requestsPerMinute.toFixed(1)}</td>
                    <td class="num">${formatBytes(c.bytesPerMinute)}</td>
                    <td class="num">${c.windowSeconds.toFixed(0)} s</td>
                    ${open}
                  </tr>`
                : html`<tr>
                    <th scope="row">${TRANSPORT_INFO[t].label}</th>
                    <td colspan="3">no quiet window yet</td>
                    ${open}
                  </tr>`
            })}
          </tbody>
        </table>
      </details>
    `
  }

  static override styles = chartSectionStyles
}

customElements.define('lab-idle-chart', LabIdleChart)

declare global {
  interface HTMLElementTagNameMap {
    'lab-idle-chart': LabIdleChart
  }
}
