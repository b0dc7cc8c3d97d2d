// What each transport costs while nothing is said: HTTP requests and bytes
// per quiet minute of this page's own connections, and the same numbers as a
// table, each with the quiet seconds and the span it was measured over.
import { LitElement, html } from 'lit'
import { TRANSPORT_INFO, type TransportName, TRANSPORTS } from '../../../server/core/names.ts'
import { perTransport } from '../charts/chart-data.ts'
import { formatBytesPerMinute, formatPerMinute, idleConfig, type BarChart } from '../charts/config.ts'
import { chartSectionStyles } from '../charts/styles.ts'
import { CanvasChart } from '../controllers/canvas-chart.ts'
import { formatBytes, formatSpan } from '../format.ts'
import { OWN_DEFAULTS, type OwnOptions } from '../state/own-connection.ts'
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
    options: { attribute: false },
  }

  /** Per transport, this page's connection's idle cost; undefined until it had enough quiet. */
  declare idle: Record<TransportName, IdleCost | undefined>
  declare connections: Record<TransportName, number | undefined>
  /** How the idle cost is measured (the span searched, the quiet needed), for the caption. */
  declare options: OwnOptions

  constructor() {
    super()
    this.idle = perTransport(() => undefined)
    this.connections = perTransport(() => undefined)
    this.options = OWN_DEFAULTS
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
      return [TRANSPORT_INFO[t].label, cost ? format(pick(cost)) : 'not enough quiet yet']
    })
    chart.data.datasets[0]!.data = TRANSPORTS.map((t) => {
      const cost = this.idle[t]
      return cost ? pick(cost) : null
    })
  }

  override render() {
    const measured = TRANSPORTS.filter((t) => this.idle[t])
    const { idleSpanMs, idleQuietMinMs } = this.options
    return html`
      <section aria-labelledby="idle-heading">
        <h2 id="idle-heading">Idle cost: keeping the line open with nothing to say</h2>
        <p class="caption">
          Measured on this page's own connections, from its once-a-second readings of the server's wire meter: over the
          last ${formatSpan(idleSpanMs)}, the seconds in which a connection carried no message (none sent, none
          delivered in its room), once they add up to ${formatSpan(idleQuietMinMs)}. Messages in other rooms do not
          count.
          ${
            measured.length > 0
              ? `Used now: ${measured.map((t) => `${TRANSPORT_INFO[t].label} ${quietWindow(this.idle[t]!)}`).join('; ')}.`
              : `Nothing yet: a connection needs ${formatSpan(idleQuietMinMs)} of quiet first.`
          }
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
      return `${TRANSPORT_INFO[t].label}: ${cost ? `${format(pick(cost))} (${quietWindow(cost)})` : 'not enough quiet yet'}`
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
              <th scope="col" class="num">Quiet seconds</th>
              <th scope="col" class="num">Over the last</th>
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
                    <td class="num">${c.quietSeconds.toFixed(0)} s</td>
                    <td class="num">${c.spanSeconds.toFixed(0)} s</td>
                    ${open}
                  </tr>`
                : html`<tr>
                    <th scope="row">${TRANSPORT_INFO[t].label}</th>
                    <td colspan="4">not enough quiet yet</td>
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

/** The window a figure was measured over, as the caption and the bars say it. */
function quietWindow(cost: IdleCost): string {
  return `${cost.quietSeconds.toFixed(0)} s quiet over ${cost.spanSeconds.toFixed(0)} s`
}

customElements.define('lab-idle-chart', LabIdleChart)

declare global {
  interface HTMLElementTagNameMap {
    'lab-idle-chart': LabIdleChart
  }
}
