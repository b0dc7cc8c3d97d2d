// Behind the cluster: which instance a panel's connection is on (its latest
// welcome's `instance`), and, with more than one instance alive, a select that
// pins the panel to one (`?node=`) or lets its sticky value choose. A server
// alone says no instance, and this renders nothing.
import { LitElement, css, html, nothing } from 'lit'
import { TRANSPORT_INFO, type TransportName } from '../../../server/core/names.ts'
import type { ChatClient } from '../clients/chat-client.ts'
import { SourceFollower, renderOn } from '../controllers/follow.ts'
import { focusRing } from '../focus-ring.ts'
import type { Lab } from '../state/lab.ts'

/** The select's value for "no pin". */
const ANY = ''

export class LabInstancePin extends LitElement {
  static override properties = {
    lab: { attribute: false },
    transport: { type: String },
  }

  declare lab: Lab | undefined
  declare transport: TransportName | undefined
  private readonly _cluster = new SourceFollower<Lab>(this, (lab) => {
    const offs = [renderOn(this, 'change')(lab.cluster), renderOn(this, 'pins')(lab)]
    return () => offs.forEach((off) => off())
  })
  private readonly _client = new SourceFollower<ChatClient>(this, (client) => {
    const offs = [renderOn(this, 'welcome')(client), renderOn(this, 'state')(client)]
    return () => offs.forEach((off) => off())
  })

  constructor() {
    super()
    this.lab = undefined
    this.transport = undefined
  }

  protected override willUpdate(): void {
    this._cluster.follow(this.lab)
    this._client.follow(this.lab && this.transport ? this.lab.clients[this.transport] : undefined)
  }

  private _onPinChange(event: Event): void {
    const value = (event.target as HTMLSelectElement).value
    if (this.lab && this.transport) void this.lab.pin(this.transport, value === ANY ? undefined : value)
  }

  /** Alone, nothing: the panel looks as it does without a cluster. */
  private get _shown(): boolean {
    if (!this.lab || !this.transport) return false
    return this.lab.clients[this.transport].welcome?.instance !== undefined || this.lab.cluster.clustered
  }

  protected override updated(): void {
    this.hidden = !this._shown
  }

  override render() {
    if (!this.lab || !this.transport || !this._shown) return nothing
    const client = this.lab.clients[this.transport]
    const instance = client.welcome?.instance
    const cluster = this.lab.cluster
    const label = TRANSPORT_INFO[this.transport].label
    const pinned = this.lab.pins[this.transport]
    // A pinned instance that died stays in the list: the balancer sends the panel to a backup meanwhile.
    const choices =
      pinned === undefined || cluster.instances.includes(pinned)
        ? cluster.instances
        : [...cluster.instances, pinned].sort()
    const live = client.state === 'open'
    return html`<span
        class="on ${live ? 'live' : 'stale'}"
        data-instance=${instance ?? ''}
        title=${
          live
            ? `${label} is connected to instance ${instance ?? '?'} (its welcome said so)`
            : `${label} is not connected now; it was last welcomed by instance ${instance ?? '(none yet)'}`
        }
        >on <b>${instance ?? '…'}</b></span
      >${
        choices.length > 1 || pinned !== undefined
          ? html`<label
              >pin
              <select aria-label="Pin ${label} to an instance" @change=${this._onPinChange}>
                <option value=${ANY} ?selected=${pinned === undefined}>any (sticky)</option>
                ${choices.map((id) => html`<option value=${id} ?selected=${id === pinned}>${id}</option>`)}
              </select></label
            >`
          : nothing
      }`
  }

  static override styles = [
    focusRing,
    css`
      :host {
        display: flex;
        align-items: center;
        gap: 0.5rem;
        padding: 0 0.55rem;
        font-size: 0.8em;
      }
      :host([hidden]) {
        display: none;
      }
      .on {
        padding: 0 0.35em;
        border-radius: 0.3em;
        background: #e3ecf7;
        color: #1d2733;
        white-space: nowrap;
      }
      .on.stale {
        background: #eceff3;
        color: #4a5260;
      }
      select {
        font: inherit;
      }
    `,
  ]
}

customElements.define('lab-instance-pin', LabInstancePin)

declare global {
  interface HTMLElementTagNameMap {
    'lab-instance-pin': LabInstancePin
  }
}
