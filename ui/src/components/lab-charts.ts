// The Charts view: three live charts of what the lab measures, namely how fast
// each transport delivered this page's messages, what each delivered message
// cost in bytes (overhead vs payload), and what each transport costs while
// nothing is said (on this page's own connections). It reads the lab at most twice a second and hands each
// chart its figures.
import { LitElement, css, html, nothing } from 'lit'
import { bytesPerMessage, latencyStats, perTransport } from '../charts/chart-data.ts'
import { latencyPoint } from '../charts/config.ts'
import { LabFeed } from '../controllers/lab-feed.ts'
import type { Lab } from '../state/lab.ts'
import './lab-bytes-chart.ts'
import './lab-idle-chart.ts'
import './lab-latency-chart.ts'

export class LabCharts extends LitElement {
  static override properties = {
    lab: { attribute: false },
  }

  declare lab: Lab | undefined
  private readonly _feed = new LabFeed(this)

  constructor() {
    super()
    this.lab = undefined
  }

  protected override willUpdate(): void {
    this._feed.follow(this.lab)
  }

  override render() {
    const lab = this.lab
    if (!lab) return html`<p class="placeholder">No lab to chart.</p>`
    // The latencies are this page's own and stay true; the bytes and idle cost are the server's last answer.
    const stale = !lab.wire.reachable
    const readAt = lab.wire.readAt === undefined ? 'never' : new Date(lab.wire.readAt).toLocaleTimeString()
    return html`
      ${
        stale
          ? html`<p class="stale-note">
              Stale: the server cannot be reached, so the bytes per message and the idle cost below are its last answer,
              read at ${readAt}.
            </p>`
          : nothing
      }
      <lab-latency-chart
        .points=${perTransport((t) => lab.latency.filter((s) => s.transport === t).map(latencyPoint))}
        .stats=${perTransport((t) => latencyStats(lab.latency, t))}
      ></lab-latency-chart>
      <lab-bytes-chart
        ?stale=${stale}
        .bytes=${perTransport((t) => bytesPerMessage(lab.wire.tally(t)))}
      ></lab-bytes-chart>
      <lab-idle-chart
        ?stale=${stale}
        .idle=${perTransport((t) => lab.wire.idleCost(t))}
        .connections=${perTransport((t) => lab.wire.tally(t)?.connectionsOpen)}
        .options=${lab.wire.ownOptions}
      ></lab-idle-chart>
    `
  }

  static override styles = css`
    :host {
      display: flex;
      flex-direction: column;
      gap: 1.2rem;
      font-size: 15px;
      color: #1b1f24;
    }
    .placeholder {
      color: #3d4450;
    }
    .stale-note {
      margin: 0;
      padding: 0.3rem 0.6rem;
      font-weight: 600;
      color: #7a1c1c;
      background: #fdecec;
      border-radius: 4px;
    }
    [stale] {
      opacity: 0.55;
    }
  `
}

customElements.define('lab-charts', LabCharts)

declare global {
  interface HTMLElementTagNameMap {
    'lab-charts': LabCharts
  }
}
