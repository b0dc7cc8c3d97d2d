// One composer for the whole race: type once, send over one transport or over
// all five, and see how many panels have it so far. The server's limit is in
// UTF-8 bytes, which an input's maxlength (UTF-16 units) cannot express: an
// emoji is 2 units but 4 bytes, so the composer counts bytes itself.
import { LitElement, css, html } from 'lit'
import {
  TEXT_MAX_BYTES,
  TRANSPORT_INFO,
  TRANSPORTS,
  utf8Length,
  type TransportName,
} from '../../../server/core/names.ts'
import type { Lab } from '../state/lab.ts'
import { focusRing } from '../focus-ring.ts'

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
    if (!this._checkLength(input)) {
      input.reportValidity()
      return
    }
    input.value = ''
    const via = this._via
    try {
      await this.lab.send(text, via)
      this._status = `Sent over ${via === 'all' ? 'all five transports' : TRANSPORT_INFO[via].label}.`
    } catch (error) {
      input.value = text
      this._status = `Not sent: ${(error as Error).message}`
    }
  }

  /** True when the text fits the limit; otherwise the input is invalid and says by how much. */
  private _checkLength(input: HTMLInputElement): boolean {
    const bytes = utf8Length(input.value)
    const over = bytes > TEXT_MAX_BYTES
    input.setCustomValidity(
      over ? `This message is ${bytes} bytes in UTF-8; the limit is ${TEXT_MAX_BYTES} bytes.` : '',
    )
    if (over) this._status = `Too long: ${bytes} of ${TEXT_MAX_BYTES} bytes.`
    else if (this._status.startsWith('Too long')) this._status = ''
    return !over
  }

  /** Focusing the composer means focusing its message box, where typing starts. */
  override focus(options?: FocusOptions): void {
    this.renderRoot.querySelector('input')?.focus(options)
  }

  private _onViaChange(event: Event): void {
    this._via = (event.target as HTMLSelectElement).value as TransportName | 'all'
  }

  override render() {
    return html`
      <form @submit=${this._onSubmit}>
        <label class="visually-hidden" for="text">Message</label>
        <input
          id="text"
          autocomplete="off"
          @input=${(e: InputEvent) => this._checkLength(e.target as HTMLInputElement)}
          placeholder="Type a message and press Enter"
        />
        <label for="via">over</label>
        <select id="via" @change=${this._onViaChange}>
          <option value="all" ?selected=${this._via === 'all'}>all five</option>
          ${TRANSPORTS.map((t) => html`<option value=${t} ?selected=${this._via === t}>${TRANSPORT_INFO[t].label}</option>`)}
        </select>
        <button type="submit">Send</button>
        <span class="status" role="status">${this._status}</span>
      </form>
    `
  }

  static override styles = css`
    ${focusRing}
    form {
      display: flex;
      align-items: center;
      gap: 0.5rem;
    }
    input {
      flex: 1;
      min-width: 12rem;
      font: inherit;
      font-size: 1.05rem;
      padding: 0.35rem 0.5rem;
    }
    select,
    button {
      font: inherit;
      padding: 0.3rem 0.5rem;
    }
    button {
      font-weight: 600;
    }
    .status {
      min-width: 16rem;
      color: #3d4450;
      font-size: 0.9rem;
      white-space: nowrap;
      overflow: hidden;
      text-overflow: ellipsis;
    }
    .visually-hidden {
      position: absolute;
      width: 1px;
      height: 1px;
      overflow: hidden;
      clip: rect(0 0 0 0);
      white-space: nowrap;
    }
    /* A phone: the message box takes the first line, the choice of transport and Send the next, the status its own. */
    @media (max-width: 700px) {
      form {
        flex-wrap: wrap;
      }
      input {
        flex-basis: 100%;
        min-width: 0;
      }
      select {
        flex: 1;
        min-width: 0;
      }
      .status {
        flex-basis: 100%;
        min-width: 0;
        white-space: normal;
      }
    }
  `
}

customElements.define('lab-composer', LabComposer)

declare global {
  interface HTMLElementTagNameMap {
    'lab-composer': LabComposer
  }
}
