// How fast each transport delivered the messages this page sent: one point
// per delivered message on a log scale, and the same numbers as a table.
import { LitElement, css, html, nothing } from 'lit'
import { TRANSPORT_INFO, type TransportName, TRANSPORTS } from '../../../server/core/names.ts'
import { perTransport, type LatencyStats } from '../charts/chart-data.ts'
import { latencyConfig, type LatencyPoint } from '../charts/config.ts'
import { chartSectionStyles } from '../charts/styles.ts'
import { CanvasChart } from '../controllers/canvas-chart.ts'
import { formatMs } from '../format.ts'

export class LabLatencyChart extends LitElement {
  static override properties = {
    points: { attribute: false },
    stats: { attribute: false },
  }

  /** Per receiving transport, its deliveries in the order they came. */
  declare points: Record<TransportName, LatencyPoint[]>
  declare stats: Record<TransportName, LatencyStats | undefined>

  constructor() {
    super()
    this.points = perTransport(() => [])
    this.stats = perTransport(() => undefined)
    new CanvasChart(this, 'latency-canvas', latencyConfig, (chart) => {
      chart.data.datasets.forEach((dataset, i) => {
        dataset.data = this.points[TRANSPORTS[i]!]
      })
    })
  }

  override render() {
    const anyLatency = TRANSPORTS.some((t) => this.stats[t])
    return html`
      <section aria-labelledby="latency-heading">
        <h2 id="latency-heading">Delivery latency per receiving transport</h2>
        <p class="caption">
          From this page's <code>sentAt</code> to each panel handling the message, on this page's clock, for the
          messages this page sent: one point per delivered message, one message at a time, with the browser's timers,
          event loop and rendering in it. (Others' messages show in the panels only, as ≈ server-to-page times.) Not the
          Benchmarks tab's µs: those are a Node load client's <code>perf_hooks</code> timings on the server's machine,
          under load.
        </p>
        <div class="chart tall">
          <canvas id="latency-canvas" role="img" aria-label=${this._label()}></canvas>
          ${anyLatency ? nothing : html`<p class="empty">No measurements yet: send a message from the Race tab.</p>`}
        </div>
        ${this._table()}
      </section>
    `
  }

  private _label(): string {
    const parts = TRANSPORTS.map((t) => {
      const s = this.stats[t]
      return `${TRANSPORT_INFO[t].label}: ${s ? `median ${formatMs(s.median)} over ${s.count}` : 'no messages yet'}`
    })
    return `Line chart of delivery latency. ${parts.join('; ')}. The numbers are in the table below.`
  }

  private _table() {
    return html`
      <details>
        <summary>The numbers</summary>
        <table>
          <thead>
            <tr>
              <th scope="col">Receiving transport</th>
              <th scope="col" class="num">Messages</th>
              <th scope="col" class="num">Min</th>
              <th scope="col" class="num">Median</th>
              <th scope="col" class="num">p95</th>
              <th scope="col" class="num">Max</th>
              <th scope="col" class="num">Last</th>
            </tr>
          </thead>
          <tbody>
            ${TRANSPORTS.map((t) => {
              const s = this.stats[t]
              return s
                ? html`<tr>
                    <th scope="row">${TRANSPORT_INFO[t].label}</th>
                    <td class="num">${s.count}</td>
                    <td class="num">${formatMs(s.min)}</td>
                    <td class="num">${formatMs(s.median)}</td>
                    <td class="num">${formatMs(s.p95)}</td>
                    <td class="num">${formatMs(s.max)}</td>
                    <td class="num">${formatMs(s.last)}</td>
                  </tr>`
                : html`<tr>
                    <th scope="row">${TRANSPORT_INFO[t].label}</th>
                    <td colspan="6">no messages yet</td>
                  </tr>`
            })}
          </tbody>
        </table>
      </details>
    `
  }

  static override styles = [
    chartSectionStyles,
    css`
      .empty {
        position: absolute;
        inset: 0;
        display: flex;
        align-items: center;
        justify-content: center;
        margin: 0;
        color: #3d4450;
        font-size: 16px;
        pointer-events: none;
      }
    `,
  ]
}

customElements.define('lab-latency-chart', LabLatencyChart)

declare global {
  interface HTMLElementTagNameMap {
    'lab-latency-chart': LabLatencyChart
  }
}
