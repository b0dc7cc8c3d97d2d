// One composer for the whole race: type once, send over one transport or over
// all five, and see what each transport's server answered. The server's limit
// is in UTF-8 bytes, which an input's maxlength (UTF-16 units) cannot express:
// an emoji is 2 units but 4 bytes, so the composer counts bytes itself, against
// the limit this server was started with.
import { LitElement, css, html } from 'lit'
import { TRANSPORT_INFO, TRANSPORTS, utf8Length, type TransportName } from '../../../server/core/names.ts'
import type { Lab, SendResult } from '../state/lab.ts'
import './lab-send-report.ts'
import { focusRing } from '../focus-ring.ts'

export class LabComposer extends LitElement {
  static override properties = {
    lab: { attribute: false },
    _via: { state: true },
    _status: { state: true },
    _results: { state: true },
  }

  declare lab: Lab
  declare _via: TransportName | 'all'
  declare _status: string
  declare _results: SendResult[]

  constructor() {
    super()
    this._via = 'all'
    this._status = ''
    this._results = []
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
    this._status = 'Sending…'
    this._results = []
    const results = await this.lab.send(text, via)
    this._results = results
    this._status = summary(results, via)
    // Text that went out over any transport is not put back: Enter would send it again.
    const wentOut = results.some((r) => r.outcome.status === 'sent' || r.outcome.status === 'no-answer')
    if (!wentOut && !input.value) input.value = text
  }

  /** True when the text fits the limit; otherwise the input is invalid and says by how much. */
  private _checkLength(input: HTMLInputElement): boolean {
    const bytes = utf8Length(input.value)
    const limit = this.lab.textMaxBytes
    const over = bytes > limit
    input.setCustomValidity(over ? `This message is ${bytes} bytes in UTF-8; the limit is ${limit} bytes.` : '')
    if (over) {
      this._status = `Too long: ${bytes} of ${limit} bytes.`
      this._results = []
    } else if (this._status.startsWith('Too long')) this._status = ''
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
      <lab-send-report .results=${this._results}></lab-send-report>
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

/** The line beside the Send button: how many transports took it; the report below says what each one did. */
function summary(results: SendResult[], via: TransportName | 'all'): string {
  const sent = results.filter((r) => r.outcome.status === 'sent').length
  if (sent === results.length) return `Sent over ${via === 'all' ? 'all five transports' : TRANSPORT_INFO[via].label}.`
  if (sent === 0) return 'Not sent.'
  return `Sent over ${sent} of ${results.length} transports.`
}

customElements.define('lab-composer', LabComposer)

declare global {
  interface HTMLElementTagNameMap {
    'lab-composer': LabComposer
  }
}
