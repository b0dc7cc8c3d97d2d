// The instructor's Invite button and the card it opens: the URL students type
// in large type and its QR code, big enough to read from the back of a room on
// the projector, and still whole on a phone. The code is drawn here from the
// qrcode library's modules, so nothing leaves the classroom's network.
import { LitElement, css, html, nothing } from 'lit'
import { create } from 'qrcode'
import { fetchInvitation, type Invitation } from '../state/invitation.ts'
import { headerButton } from '../header-button.ts'

/** Light modules around the code, as the QR standard asks, so a camera finds its edges. */
const QUIET_ZONE = 4
const DEFAULT_PORT = 3000

export class LabJoinCard extends LitElement {
  static override properties = {
    baseUrl: {},
    _invitation: { state: true },
    _error: { state: true },
  }

  /** The page's origin: where it asks for the addresses, and an address in itself. */
  declare baseUrl: string
  declare _invitation: Invitation | undefined
  declare _error: string | undefined

  constructor() {
    super()
    this.baseUrl = location.origin
    this._invitation = undefined
    this._error = undefined
  }

  // Asked again at every opening: a laptop can change networks between two classes.
  private async _onOpen(): Promise<void> {
    this._invitation = undefined
    this._error = undefined
    this.renderRoot.querySelector('dialog')!.showModal()
    try {
      this._invitation = await fetchInvitation(this.baseUrl)
    } catch (error) {
      this._error = error instanceof Error ? error.message : String(error)
    }
  }

  private _onClose(): void {
    this.renderRoot.querySelector('dialog')!.close()
  }

  private _renderBody() {
    if (this._error !== undefined)
      return html`<p role="alert">Could not ask the server for its addresses: ${this._error}.</p>`
    const invitation = this._invitation
    if (!invitation) return html`<p>Looking up this server's addresses…</p>`
    if (invitation.kind === 'this-machine-only') {
      const port = invitation.port === DEFAULT_PORT ? '' : `PORT=${invitation.port} `
      return html`<div class="problem">
        <p>
          <strong>Only this computer can open the lab.</strong> The server listens on ${invitation.host}, which other
          machines cannot reach.
        </p>
        <p>To let the class join, stop the server and start it again with:</p>
        <pre><code>${port}HOST=0.0.0.0 npm start</code></pre>
        <p>Then press Invite again.</p>
      </div>`
    }
    if (invitation.kind === 'no-network')
      return html`<div class="problem">
        <p><strong>This computer has no network address the class can reach.</strong></p>
        <p>Connect it to the classroom's network (Wi-Fi or cable), then press Invite again.</p>
      </div>`
    return html`<p class="lead">On a phone or laptop on this network, open</p>
      <p class="url">${invitation.url}</p>
      <div class="scan">
        <div class="qr">${qrCode(invitation.url)}</div>
        <div class="aside">
          <p>or scan this code with a phone's camera.</p>
          ${
            invitation.others.length > 0
              ? html`<p class="others">This computer's other addresses: ${invitation.others.join(', ')}</p>`
              : nothing
          }
        </div>
      </div>`
  }

  override render() {
    return html`
      <button
        type="button"
        class="header-button"
        @click=${this._onOpen}
        title="Show the address and QR code students open"
      >
        Invite
      </button>
      <dialog aria-labelledby="join-heading">
        <h2 id="join-heading">Join this lab</h2>
        ${this._renderBody()}
        <button type="button" class="close" @click=${this._onClose}>Close</button>
      </dialog>
    `
  }

  static override styles = [
    headerButton,
    css`
      button:focus-visible {
        outline: 3px solid #ffbf47;
        outline-offset: 1px;
      }
      dialog {
        box-sizing: border-box;
        width: min(90rem, calc(100vw - 1rem));
        max-width: calc(100vw - 1rem);
        max-height: calc(100vh - 1rem);
        border: none;
        border-radius: 8px;
        padding: 1rem 1.5rem;
        color: #1d2733;
        box-shadow: 0 10px 40px rgba(0, 0, 0, 0.3);
      }
      dialog::backdrop {
        background: rgba(20, 24, 30, 0.7);
      }
      h2 {
        margin: 0 0 0.5rem;
        font-size: 1.6rem;
      }
      .lead,
      .aside {
        font-size: 1.3rem;
      }
      p {
        margin: 0.3rem 0;
      }
      /* Readable from the back of a room on a projector; on a phone, one line for a usual address. */
      .url {
        font-family: ui-monospace, 'DejaVu Sans Mono', monospace;
        font-size: clamp(1.1rem, 4.2vw, 4rem);
        font-weight: 700;
        line-height: 1.2;
        overflow-wrap: anywhere;
      }
      .scan {
        display: flex;
        flex-wrap: wrap;
        align-items: center;
        gap: 0.5rem 2rem;
        margin-top: 0.5rem;
      }
      /* As large as the screen's height allows under the address, and the card's width on a phone. */
      .qr {
        flex: none;
        width: min(calc(100vh - 20rem), 45vw);
        background: #fff;
      }
      @media (max-width: 40rem) {
        .qr {
          width: 100%;
        }
      }
      .qr svg {
        display: block;
        width: 100%;
        height: auto;
      }
      .aside {
        flex: 1 1 12rem;
        min-width: 0;
      }
      .others {
        font-size: 1rem;
        color: #4a5868;
        overflow-wrap: anywhere;
      }
      .problem {
        font-size: 1.2rem;
      }
      pre {
        background: #f1f3f5;
        padding: 0.5rem 0.8rem;
        border-radius: 4px;
        font-size: 1.3rem;
        white-space: pre-wrap;
        overflow-wrap: anywhere;
      }
      .close {
        font: inherit;
        font-size: 1.1rem;
        margin-top: 0.8rem;
        padding: 0.3rem 1rem;
      }
    `,
  ]
}

/** The QR code of `text` as SVG: one square per dark module, on a white ground with its quiet zone. */
function qrCode(text: string) {
  const { modules } = create(text, { errorCorrectionLevel: 'M' })
  let path = ''
  for (let row = 0; row < modules.size; row++)
    for (let col = 0; col < modules.size; col++)
      if (modules.get(row, col)) path += `M${col + QUIET_ZONE} ${row + QUIET_ZONE}h1v1h-1z`
  const side = modules.size + 2 * QUIET_ZONE
  return html`<svg
    viewBox="0 0 ${side} ${side}"
    role="img"
    aria-label="QR code of ${text}"
    shape-rendering="crispEdges"
  >
    <rect width=${side} height=${side} fill="#fff"></rect>
    <path d=${path} fill="#000"></path>
  </svg>`
}

customElements.define('lab-join-card', LabJoinCard)

declare global {
  interface HTMLElementTagNameMap {
    'lab-join-card': LabJoinCard
  }
}
