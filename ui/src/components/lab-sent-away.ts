// A panel's line saying its client was sent away by the instructor, so that a
// student whose panel went quiet on the projector knows why, and how back.
import { LitElement, css, html, nothing } from 'lit'
import type { ErrorMessage } from '../../../server/core/protocol.ts'

export class LabSentAway extends LitElement {
  static override properties = {
    reason: { attribute: false },
  }

  /** The server's LAB_ERR_DISCONNECTED, or undefined while the client is not sent away. */
  declare reason: ErrorMessage | undefined

  constructor() {
    super()
    this.reason = undefined
  }

  override render() {
    if (!this.reason) return nothing
    return html`<p role="status" title=${`${this.reason.code}: ${this.reason.message}`}>
      The instructor disconnected this client. Press Join to come back.
    </p>`
  }

  static override styles = css`
    :host {
      display: block;
    }
    p {
      margin: 0.3rem 0;
      padding: 0.3rem 0.5rem;
      border-left: 4px solid #b35c00;
      background: #fff4e5;
      color: #5c2e00;
      font-size: 0.9rem;
    }
  `
}

customElements.define('lab-sent-away', LabSentAway)

declare global {
  interface HTMLElementTagNameMap {
    'lab-sent-away': LabSentAway
  }
}
