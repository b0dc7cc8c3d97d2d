// The Cluster tab: the instances alive behind the balancer, which of this
// page's panels is connected to which, and the last messages with the instance
// each was sent on and the one that delivered it to each panel, so a class sees
// a message cross from one server to another through Redis.
import { LitElement, css, html, nothing } from 'lit'
import { TRANSPORT_INFO, TRANSPORTS, type TransportName } from '../../../server/core/names.ts'
import type { ChatClient } from '../clients/chat-client.ts'
import { SourceFollower, renderOn } from '../controllers/follow.ts'
import { crossed, type Crossing } from '../state/crossings.ts'
import type { Lab } from '../state/lab.ts'

/** Rows the table shows, newest first: what a projector can hold beside the instances. */
const SHOWN = 12

export class LabClusterView extends LitElement {
  static override properties = {
    lab: { attribute: false },
  }

  declare lab: Lab | undefined
  private readonly _lab = new SourceFollower<Lab>(this, (lab) => {
    const offs = [
      renderOn(this, 'change')(lab.cluster),
      renderOn(this, 'crossing')(lab),
      renderOn(this, 'pins')(lab),
      ...Object.values(lab.clients).flatMap((client: ChatClient) => [
        renderOn(this, 'welcome')(client),
        renderOn(this, 'state')(client),
      ]),
    ]
    return () => offs.forEach((off) => off())
  })

  constructor() {
    super()
    this.lab = undefined
  }

  protected override willUpdate(): void {
    this._lab.follow(this.lab)
  }

  /** The instance each panel is connected to now (a panel not connected is on none). */
  private _panelsOn(lab: Lab): Map<string, TransportName[]> {
    const on = new Map<string, TransportName[]>()
    for (const transport of TRANSPORTS) {
      const client = lab.clients[transport]
      const instance = client.welcome?.instance
      if (client.state !== 'open' || instance === undefined) continue
      on.set(instance, [...(on.get(instance) ?? []), transport])
    }
    return on
  }

  override render() {
    const lab = this.lab
    if (!lab) return nothing
    const cluster = lab.cluster
    if (!cluster.clustered) {
      return html`<p class="alone">
        This server runs alone (no <code>REDIS_URL</code>): there is one instance and nothing to show here. Start
        <code>npm run cluster</code> and open its URL to see several.
      </p>`
    }
    const on = this._panelsOn(lab)
    // A panel may still be on an instance that just died, before its alive key runs out: list it too.
    const ids = [...new Set([...cluster.instances, ...on.keys()])].sort()
    const rows = lab.crossings.rows.slice(-SHOWN).reverse()
    return html`
      <h2>Cluster</h2>
      <p>
        ${cluster.instances.length} instance${cluster.instances.length === 1 ? '' : 's'} alive, sharing one log in
        Redis${cluster.redis ? html` at <code>${cluster.redis}</code>` : nothing}. Each panel sends its own
        <code>?sticky=</code> value, so the balancer spreads this page's five connections over the instances; a panel's
        <b>pin</b> select puts it on one (<code>?node=</code>).
      </p>
      <table class="instances">
        <caption>
          Instances and this page's panels
        </caption>
        <thead>
          <tr>
            <th scope="col">Instance</th>
            <th scope="col">Alive</th>
            <th scope="col">Panels connected to it</th>
          </tr>
        </thead>
        <tbody>
          ${ids.map((id) => {
            const alive = cluster.instances.includes(id)
            const panels = on.get(id) ?? []
            return html`<tr data-instance=${id}>
              <th scope="row">${id}</th>
              <td class=${alive ? 'alive' : 'dead'}>${alive ? 'alive' : 'not seen'}</td>
              <td class="panels">
                ${
                  panels.length === 0
                    ? html`<span class="none">none</span>`
                    : panels.map(
                        (t) =>
                          html`<span class="panel" style="--accent: ${TRANSPORT_INFO[t].color}"
                            >${TRANSPORT_INFO[t].label}${lab.pins[t] === id ? ' (pinned)' : ''}</span
                          >`,
                      )
                }
              </td>
            </tr>`
          })}
        </tbody>
      </table>
      ${this._renderCrossings(rows)}
    `
  }

  private _renderCrossings(rows: Crossing[]) {
    if (rows.length === 0)
      return html`<p class="waiting">
        Send a message: it shows here with the instance it was sent on and the one that delivered it to each panel.
      </p>`
    const crossing = rows.filter((row) => TRANSPORTS.some((t) => crossed(row, t))).length
    return html`
      <table class="messages">
        <caption>
          The last messages: sent on → delivered by, for each panel of this page (${crossing} of ${rows.length} crossed
          from one instance to another)
        </caption>
        <thead>
          <tr>
            <th scope="col">#</th>
            <th scope="col">From</th>
            <th scope="col">Text</th>
            ${TRANSPORTS.map((t) => html`<th scope="col">${TRANSPORT_INFO[t].label}</th>`)}
          </tr>
        </thead>
        <tbody>
          ${rows.map(
            (row) =>
              html`<tr data-seq=${row.seq}>
                <td>${row.seq}</td>
                <td>${row.name}</td>
                <td class="text">${row.text}</td>
                ${TRANSPORTS.map((t) => {
                  const by = row.deliveredBy[t]
                  if (by === undefined) return html`<td class="none" data-via=${t}>–</td>`
                  const across = crossed(row, t)
                  return html`<td
                    class=${across ? 'crossed' : 'same'}
                    data-via=${t}
                    title=${`sent on ${row.sentOn ?? '?'}, delivered by ${by}${across ? ': it crossed instances through Redis' : ''}`}
                  >
                    ${row.sentOn} → ${by}
                  </td>`
                })}
              </tr>`,
          )}
        </tbody>
      </table>
    `
  }

  static override styles = css`
    :host {
      display: block;
      color: #1d2733;
    }
    h2 {
      margin: 0 0 0.4rem;
      font-size: 1.1rem;
    }
    p {
      margin: 0 0 0.6rem;
      max-width: 70rem;
    }
    table {
      border-collapse: collapse;
      margin: 0 0 1rem;
      font-size: 0.9rem;
    }
    caption {
      text-align: left;
      font-weight: 600;
      padding: 0 0 0.3rem;
    }
    th,
    td {
      border: 1px solid #d5d9e0;
      padding: 0.2rem 0.5rem;
      text-align: left;
      vertical-align: top;
    }
    thead th {
      background: #eef1f5;
    }
    .alive {
      color: #1b5e20;
    }
    .dead {
      color: #8a1c1c;
    }
    .panel {
      display: inline-block;
      margin: 0 0.3rem 0.2rem 0;
      padding: 0 0.4rem;
      border-left: 4px solid var(--accent);
      background: #f5f7fa;
    }
    .none {
      color: #4a5260;
    }
    .text {
      max-width: 24rem;
      overflow-wrap: anywhere;
    }
    td.crossed {
      background: #fff3c4;
      color: #5a4500;
      font-weight: 600;
      white-space: nowrap;
    }
    td.same {
      white-space: nowrap;
    }
  `
}

customElements.define('lab-cluster-view', LabClusterView)

declare global {
  interface HTMLElementTagNameMap {
    'lab-cluster-view': LabClusterView
  }
}
