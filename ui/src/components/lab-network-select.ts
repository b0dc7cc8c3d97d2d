// The page's network: straight to the server, or through one of its shaped
// ports. Choosing one reloads the page there, so every transport's client,
// and anything the page opens later, is behind the same network.
import { LitElement, css, html } from 'lit'
import { SourceFollower, renderOn } from '../controllers/follow.ts'
import type { NetworkStore } from '../state/network.ts'

export class LabNetworkSelect extends LitElement {
  static override properties = {
    network: { attribute: false },
  }

  declare network: NetworkStore | undefined
  private readonly _rerender = renderOn(this, 'change')
  private readonly _follower = new SourceFollower<NetworkStore>(this, (network) => {
    const stop = this._rerender(network)
    void network.load()
    return stop
  })

  constructor() {
    super()
    this.network = undefined
  }

  protected override willUpdate(): void {
    this._follower.follow(this.network)
  }

  private _onChange(event: Event): void {
    const value = (event.target as HTMLSelectElement).value
    const address = this.network?.addressFor(value === '' ? undefined : value, new URL(location.href))
    if (address) location.assign(address)
  }

  override render() {
    const network = this.network
    const current = network?.current?.id ?? ''
    return html`<label
      >Network
      <select
        @change=${this._onChange}
        ?disabled=${!network || network.profiles.length === 0}
        title="Put this page behind a slower network: it reloads through a port that delays and limits its bytes"
      >
        <option value="" ?selected=${current === ''}>Direct</option>
        ${network?.profiles.map(
          (p) =>
            html`<option value=${p.id} title=${p.label} ?selected=${p.id === current}>${shortName(p.label)}</option>`,
        )}
      </select></label
    >`
  }

  static override styles = css`
    :host {
      display: block;
      white-space: nowrap;
    }
    select {
      font: inherit;
      padding: 0.15rem 0.3rem;
    }
  `
}

/** "3G 150 ms · 1.6 Mbit/s" as "3G 150 ms": the header has little room; the panels give the whole label. */
function shortName(label: string): string {
  return label.split(' · ')[0]!
}

customElements.define('lab-network-select', LabNetworkSelect)

declare global {
  interface HTMLElementTagNameMap {
    'lab-network-select': LabNetworkSelect
  }
}
