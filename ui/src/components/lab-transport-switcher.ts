// On a phone the race shows one transport at a time, full width: these five
// buttons pick which one. Wider screens show all five side by side and do
// without it.
import { LitElement, css, html } from 'lit'
import { TRANSPORT_INFO, TRANSPORTS, type TransportName } from '../../../server/core/names.ts'
import { focusRing } from '../focus-ring.ts'

export class LabTransportSwitcher extends LitElement {
  static override properties = {
    shown: { type: String },
  }

  declare shown: TransportName

  constructor() {
    super()
    this.shown = TRANSPORTS[0]
  }

  private _show(transport: TransportName): void {
    this.dispatchEvent(new CustomEvent('transport-shown', { detail: transport, bubbles: true, composed: true }))
  }

  override render() {
    return html`<div role="group" aria-label="Transport shown">
      ${TRANSPORTS.map(
        (t) =>
          html`<button
            type="button"
            aria-pressed=${t === this.shown ? 'true' : 'false'}
            style="--accent: ${TRANSPORT_INFO[t].color}"
            @click=${() => this._show(t)}
          >
            ${t === 'sse' ? 'SSE' : TRANSPORT_INFO[t].label}
          </button>`,
      )}
    </div>`
  }

  static override styles = [
    focusRing,
    css`
      :host {
        display: none;
      }
      @media (max-width: 700px) {
        :host {
          display: block;
        }
      }
      div {
        display: flex;
        flex-wrap: wrap;
        gap: 0.35rem;
      }
      button {
        flex: 1 1 auto;
        font: inherit;
        font-size: 0.95rem;
        min-height: 2.75rem;
        padding: 0.3rem 0.6rem;
        color: #1b1f24;
        background: #fff;
        border: 1px solid #c9d0d9;
        border-top: 4px solid var(--accent);
        border-radius: 6px;
        cursor: pointer;
      }
      button[aria-pressed='true'] {
        background: #1d2733;
        color: #fff;
        font-weight: 600;
      }
    `,
  ]
}

customElements.define('lab-transport-switcher', LabTransportSwitcher)

declare global {
  interface HTMLElementTagNameMap {
    'lab-transport-switcher': LabTransportSwitcher
  }
}
