// What each chat message cost on the wire, per transport and per direction:
// payload and overhead stacked, and the same numbers as a table.
import { LitElement, css, html } from 'lit'
import { TRANSPORT_INFO, type TransportName, TRANSPORTS } from '../../../server/core/names.ts'
import { perTransport, type BytesPerMessage, type PerMessage } from '../charts/chart-data.ts'
import { bytesConfig, type BarChart } from '../charts/config.ts'
import { chartSectionStyles } from '../charts/styles.ts'
import { CanvasChart } from '../controllers/canvas-chart.ts'
import { formatBytes } from '../format.ts'

type Direction = keyof BytesPerMessage

export class LabBytesChart extends LitElement {
  static override properties = {
    bytes: { attribute: false },
  }

  declare bytes: Record<TransportName, BytesPerMessage>

  constructor() {
    super()
    this.bytes = perTransport(() => ({ out: undefined, in: undefined }))
    new CanvasChart(
      this,
      'bytes-out-canvas',
      () => bytesConfig('per message delivered'),
      (chart) => this._fill(chart, 'out'),
    )
    new CanvasChart(
      this,
      'bytes-in-canvas',
      () => bytesConfig('per message sent'),
      (chart) => this._fill(chart, 'in'),
    )
  }

  private _fill(chart: BarChart, direction: Direction): void {
    const figures = TRANSPORTS.map((t) => this.bytes[t][direction])
    chart.data.labels = TRANSPORTS.map((t, i) => {
      const f = figures[i]
      return [
        TRANSPORT_INFO[t].label,
        f ? `${formatBytes(f.total)} (${formatBytes(f.overhead)} overhead)` : 'no messages yet',
      ]
    })
    chart.data.datasets[0]!.data = figures.map((f) => f?.payload ?? null)
    chart.data.datasets[1]!.data = figures.map((f) => f?.overhead ?? null)
  }

  override render() {
    return html`
      <section aria-labelledby="bytes-heading">
        <h2 id="bytes-heading">Bytes on the wire per chat message</h2>
        <p class="caption">
          <span class="swatch payload" aria-hidden="true"></span> payload (the chat JSON)
          <span class="swatch overhead" aria-hidden="true"></span> overhead (request and status lines, headers, framing,
          packet prefixes). Idle traffic (pings, empty polls, the headers of empty responses) is included, because it is
          part of what each message costs. All clients of the server count, not just this page.
        </p>
        <div class="pair">
          <figure>
            <figcaption>Server → client, per message delivered</figcaption>
            <div class="chart"><canvas id="bytes-out-canvas" role="img" aria-label=${this._label('out')}></canvas></div>
          </figure>
          <figure>
            <figcaption>Client → server, per message sent</figcaption>
            <div class="chart"><canvas id="bytes-in-canvas" role="img" aria-label=${this._label('in')}></canvas></div>
          </figure>
        </div>
        ${this._table()}
      </section>
    `
  }

  private _label(direction: Direction): string {
    const parts = TRANSPORTS.map((t) => {
      const f = this.bytes[t][direction]
      return `${TRANSPORT_INFO[t].label}: ${f ? `${formatBytes(f.overhead)} overhead and ${formatBytes(f.payload)} payload` : 'no messages yet'}`
    })
    return `Stacked bar chart of bytes per message, ${direction === 'out' ? 'server to client' : 'client to server'}. ${parts.join('; ')}.`
  }

  private _table() {
    const cells = (f: PerMessage | undefined) =>
      f
        ? html`<td class="num">${formatBytes(f.overhead)}</td>
            <td class="num">${formatBytes(f.payload)}</td>
            <td class="num">${f.messages}</td>`
        : html`<td colspan="3">no messages yet</td>`
    return html`
      <details>
        <summary>The numbers</summary>
        <table>
          <thead>
            <tr>
              <td></td>
              <th scope="colgroup" colspan="3">Server → client</th>
              <th scope="colgroup" colspan="3">Client → server</th>
            </tr>
            <tr>
              <th scope="col">Transport</th>
              <th scope="col" class="num">Overhead</th>
              <th scope="col" class="num">Payload</th>
              <th scope="col" class="num">Messages</th>
              <th scope="col" class="num">Overhead</th>
              <th scope="col" class="num">Payload</th>
              <th scope="col" class="num">Messages</th>
            </tr>
          </thead>
          <tbody>
            ${TRANSPORTS.map(
              (t) =>
                html`<tr>
                  <th scope="row">${TRANSPORT_INFO[t].label}</th>
                  ${cells(this.bytes[t].out)}${cells(this.bytes[t].in)}
                </tr>`,
            )}
          </tbody>
        </table>
      </details>
    `
  }

  static override styles = [
    chartSectionStyles,
    css`
      .swatch {
        display: inline-block;
        width: 1.1em;
        height: 0.9em;
        vertical-align: -0.1em;
        border: 1.5px solid #3d4450;
        margin-left: 0.3em;
      }
      .swatch.payload {
        background: #3d4450;
      }
      .swatch.overhead {
        background: repeating-linear-gradient(135deg, #3d4450 0 2px, #d5dbe3 2px 6px);
      }
    `,
  ]
}

customElements.define('lab-bytes-chart', LabBytesChart)

declare global {
  interface HTMLElementTagNameMap {
    'lab-bytes-chart': LabBytesChart
  }
}
