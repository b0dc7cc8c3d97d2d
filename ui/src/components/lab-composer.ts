// One composer for the whole race: type once, send over one transport or over
// all five, and see how many panels have it so far.
import { LitElement, css, html } from 'lit'
import { TRANSPORTS, type TransportName } from '../../../server/core/protocol.ts'
import { TRANSPORT_LABELS } from '../clients/index.ts'
import type { Lab } from '../state/lab.ts'

export class LabComposer extends LitElement {
  static override properties = {
    lab: { attribute: false },
    _via: { state: true },
    _status: { state: true },
  }

  declare lab: Lab
  declare _via: TransportName | 'all'
  declare _status: string

  constructor() {
    super()
    this._via = 'all'
    this._status = ''
  }

  private async _onSubmit(event: SubmitEvent): Promise<void> {
    event.preventDefault()
    const input = this.renderRoot.querySelector('input')!
    const text = input.value
    if (!text.trim()) return
    input.value = ''
    const via = this._via
    try {
      await this.lab.send(text, via)
      this._status = `Sent over ${via === 'all' ? 'all five transports' : TRANSPORT_LABELS[via]}.`
    } catch (error) {
      input.value = text
      this._status = `Not sent: ${(error as Error).message}`
    }
  }

  private _onViaChange(event: Event): void {
    this._via = (event.target as HTMLSelectElement).value as TransportName | 'all'
  }

  override render() {
    return html`
      <form @submit=${this._onSubmit}>
        <label class="visually-hidden" for="text">Message</label>
        <input id="text" autocomplete="off" maxlength="8192" placeholder="Type a message and press Enter" />
        <label for="via">over</label>
        <select id="via" @change=${this._onViaChange}>
          <option value="all" ?selected=${this._via === 'all'}>all five</option>
          ${TRANSPORTS.map((t) => html`<option value=${t} ?selected=${this._via === t}>${TRANSPORT_LABELS[t]}</option>`)}
        </select>
        <button type="submit">Send</button>
        <span class="status" role="status">${this._status}</span>
      </form>
    `
  }

  static override styles = css`
    form { display: flex; align-items: center; gap: 0.5rem; }
    input { flex: 1; min-width: 12rem; font: inherit; font-size: 1.05rem; padding: 0.35rem 0.5rem; }
    select, button { font: inherit; padding: 0.3rem 0.5rem; }
    button { font-weight: 600; }
    .status { min-width: 16rem; color: #3d4450; font-size: 0.9rem; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
    .visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
  `
}

customElements.define('lab-composer', LabComposer)

declare global {
  interface HTMLElementTagNameMap {
    'lab-composer': LabComposer
  }
}
