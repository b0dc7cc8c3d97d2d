// Says in a panel that its connection crosses a shaped network: a latency
// read off a projector should not be taken for the transport's alone.
import { LitElement, css, html, nothing } from 'lit'
import { SourceFollower, renderOn } from '../controllers/follow.ts'
import type { NetworkStore } from '../state/network.ts'

export class LabNetworkBadge extends LitElement {
  static override properties = {
    network: { attribute: false },
  }

  declare network: NetworkStore | undefined
  private readonly _follower = new SourceFollower<NetworkStore>(this, renderOn(this, 'change'))

  constructor() {
    super()
    this.network = undefined
  }

  protected override willUpdate(): void {
    this._follower.follow(this.network)
  }

  override render() {
    const shaped = this.network?.current
    if (!shaped) return nothing
    return html`<span
      title="Every byte of this connection waits ${shaped.rttMs / 2} ms each way${
        shaped.kbitps > 0 ? ` and is limited to ${shaped.kbitps} kbit/s` : ''
      }"
      >shaped: ${shaped.label}</span
    >`
  }

  static override styles = css`
    :host {
      display: block;
      padding: 0 0.55rem;
    }
    span {
      font-size: 0.8em;
      padding: 0 0.35em;
      border-radius: 0.3em;
      background: #fff3c4;
      color: #5a4500;
      white-space: nowrap;
    }
  `
}

customElements.define('lab-network-badge', LabNetworkBadge)

declare global {
  interface HTMLElementTagNameMap {
    'lab-network-badge': LabNetworkBadge
  }
}
