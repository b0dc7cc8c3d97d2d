// The raw composer: send anything, exactly as typed, and see what the server
// answers in the transport's own idiom: a WebSocket frame (text, or binary
// from hex) and the close code it earns, a Socket.IO event with its
// arguments and the ack or connect_error, an HTTP body to a polling endpoint
// and the status and JSON error. It uses connections of its own (see
// RawConnections), so breaking the rules here never breaks the race.
import { LitElement, css, html, nothing } from 'lit'
import { NAME_MAX_LENGTH, TRANSPORT_INFO } from '../../../server/core/names.ts'
import type { Lab } from '../state/lab.ts'
import { RawConnections, parseHex, type RawEntry } from '../controllers/raw-connections.ts'
import { formatClock } from '../inspector/inspect.ts'

const MODES = {
  websocket: 'WebSocket frame on /ws',
  'socket.io': 'Socket.IO event',
  http: 'HTTP request to a polling endpoint',
} as const
type Mode = keyof typeof MODES
const HTTP_PATHS = [
  TRANSPORT_INFO['short-polling'].path,
  TRANSPORT_INFO['long-polling'].path,
  TRANSPORT_INFO.sse.path,
] as const

export class LabRawComposer extends LitElement {
  static override properties = {
    lab: { attribute: false },
    _mode: { state: true },
    _frameType: { state: true },
    _problem: { state: true },
  }

  declare lab: Lab | undefined
  declare _mode: Mode
  declare _frameType: 'text' | 'binary'
  /** Why the last Send did nothing (the input could not be read), shown beside the button. */
  declare _problem: string
  private readonly _connections = new RawConnections(this)

  constructor() {
    super()
    this.lab = undefined
    this._mode = 'websocket'
    this._frameType = 'text'
    this._problem = ''
  }

  private get _room(): string {
    return this.lab?.room ?? 'lobby'
  }

  private get _name(): string {
    return `${this.lab?.name || 'student'} (raw)`.slice(-NAME_MAX_LENGTH)
  }

  private _value(label: string): string {
    return this.renderRoot.querySelector<HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement>(
      `[data-field="${label}"]`,
    )!.value
  }

  private async _onSubmit(event: SubmitEvent): Promise<void> {
    event.preventDefault()
    const lab = this.lab
    if (!lab) return
    this._problem = ''
    try {
      if (this._mode === 'websocket') await this._sendFrame(lab)
      else if (this._mode === 'socket.io') this._emit(lab)
      else
        await this._connections.request(
          lab.baseUrl,
          this._value('path'),
          this._value('method'),
          this._value('type'),
          this._value('body'),
        )
    } catch (error) {
      this._problem = error instanceof Error ? error.message : String(error)
    }
  }

  private async _sendFrame(lab: Lab): Promise<void> {
    const payload = this._value('payload')
    const query = new URLSearchParams({ room: this._room, name: this._name, compress: '0' })
    if (this._frameType === 'text') return this._connections.sendFrame(lab.baseUrl, query, payload)
    const bytes = parseHex(payload)
    if (!bytes) throw new Error('Not hex: write bytes as pairs of hex digits, e.g. ca fe 01.')
    return this._connections.sendFrame(lab.baseUrl, query, bytes)
  }

  private _emit(lab: Lab): void {
    const event = this._value('event')
    if (!event) throw new Error('Name the event, e.g. send.')
    const args = parseJson(this._value('args'), 'The arguments are')
    if (!Array.isArray(args)) throw new Error('The arguments must be a JSON array: [ first, second, … ].')
    const auth = parseJson(this._value('auth'), 'The auth is')
    if (typeof auth !== 'object' || auth === null || Array.isArray(auth))
      throw new Error('The auth must be a JSON object, e.g. { "protocol": "lab" }.')
    const ack = this.renderRoot.querySelector<HTMLInputElement>('[data-field="ack"]')!.checked
    this._connections.emit(lab.baseUrl, auth as Record<string, unknown>, event, args, ack)
  }

  private _onModeChange(event: Event): void {
    this._mode = (event.target as HTMLSelectElement).value as Mode
    this._problem = ''
  }

  override render() {
    return html`
      <form @submit=${this._onSubmit}>
        <div class="row">
          <label
            >Send
            <select @change=${this._onModeChange} aria-label="Send a">
              ${Object.entries(MODES).map(([mode, label]) => html`<option value=${mode} ?selected=${mode === this._mode}>${label}</option>`)}
            </select></label
          >
          ${this._renderFields()}
        </div>
        <div class="row">
          <button type="submit" ?disabled=${!this.lab}>Send</button>
          <button type="button" @click=${() => this._connections.closeAll()}>Close its connections</button>
          <button type="button" @click=${() => this._connections.clear()}>Clear</button>
          <span class="problem" role="status">${this._problem}</span>
        </div>
      </form>
      ${this._renderEntries(this._connections.entries)}
    `
  }

  private _renderFields() {
    const send = JSON.stringify({ type: 'send', room: this._room, text: 'hello from the raw composer' })
    if (this._mode === 'websocket')
      return html`
        <label
          >Frame
          <select
            aria-label="Frame"
            @change=${(e: Event) => (this._frameType = (e.target as HTMLSelectElement).value as 'text' | 'binary')}
          >
            <option value="text" ?selected=${this._frameType === 'text'}>text</option>
            <option value="binary" ?selected=${this._frameType === 'binary'}>binary (hex)</option>
          </select></label
        >
        <label class="wide"
          >${this._frameType === 'text' ? 'Text' : 'Bytes in hex'}
          <textarea
            data-field="payload"
            rows="2"
            spellcheck="false"
            .value=${this._frameType === 'text' ? send : 'ca fe'}
          ></textarea>
        </label>
      `
    if (this._mode === 'socket.io')
      return html`
        <label>Event <input data-field="event" .value=${'send'} spellcheck="false" /></label>
        <label class="wide"
          >Arguments (JSON array)
          <textarea
            data-field="args"
            rows="2"
            spellcheck="false"
            .value=${JSON.stringify([{ room: this._room, text: 'hello from the raw composer' }])}
          ></textarea>
        </label>
        <label><input type="checkbox" data-field="ack" checked /> Ask for an ack</label>
        <label class="wide"
          >Auth (JSON; a change opens a new connection)
          <input
            data-field="auth"
            spellcheck="false"
            .value=${JSON.stringify({ protocol: 'lab', name: this._name, room: this._room })}
          />
        </label>
      `
    return html`
      <label
        >Method
        <select data-field="method">
          <option>POST</option>
          <option>GET</option>
        </select></label
      >
      <label
        >Endpoint
        <select data-field="path">
          ${HTTP_PATHS.map((path) => html`<option>${path}</option>`)}
        </select></label
      >
      <label>Content type <input data-field="type" value="application/json" spellcheck="false" /></label>
      <label class="wide"
        >Body <textarea data-field="body" rows="2" spellcheck="false" .value=${send}></textarea>
      </label>
    `
  }

  private _renderEntries(entries: RawEntry[]) {
    if (entries.length === 0)
      return html`<p class="placeholder">Nothing sent yet. What you send and what comes back are listed here.</p>`
    return html`
      <ol class="entries" reversed aria-label="What was sent and what came back, newest first">
        ${[...entries].reverse().map(
          (entry) =>
            html`<li class="${entry.dir} ${entry.bad ? 'bad' : ''}">
              <span class="time">${formatClock(entry.at)}</span>
              <span class="dir" aria-label=${DIRS[entry.dir].label}>${DIRS[entry.dir].mark}</span>
              <span class="kind">${entry.kind}</span>
              ${entry.text ? html`<code>${entry.text}</code>` : nothing}
            </li>`,
        )}
      </ol>
    `
  }

  static override styles = css`
    :host {
      display: flex;
      flex-direction: column;
      gap: 0.5rem;
    }
    form {
      display: flex;
      flex-direction: column;
      gap: 0.4rem;
    }
    .row {
      display: flex;
      flex-wrap: wrap;
      align-items: end;
      gap: 0.6rem;
    }
    label {
      display: flex;
      flex-direction: column;
      gap: 0.15rem;
      font-size: 0.9rem;
      color: #4a5260;
    }
    label:has(input[type='checkbox']) {
      flex-direction: row;
      align-items: center;
    }
    .wide {
      flex: 1 1 18rem;
    }
    input,
    select,
    textarea,
    button {
      font: inherit;
      color: #1b1f24;
    }
    textarea,
    input:not([type='checkbox']) {
      font-family: ui-monospace, 'SF Mono', Menlo, Consolas, monospace;
      font-size: 14px;
    }
    button {
      padding: 0.2rem 0.9rem;
    }
    button:focus-visible,
    input:focus-visible,
    select:focus-visible,
    textarea:focus-visible {
      outline: 3px solid #ffbf47;
      outline-offset: 1px;
    }
    .problem {
      color: #a3001b;
      font-weight: 700;
    }
    .placeholder {
      margin: 0;
      padding: 0.5rem;
      color: #4a5260;
      border: 1px dashed #c9d0d9;
      border-radius: 4px;
      background: #fff;
    }
    .entries {
      list-style: none;
      margin: 0;
      padding: 0;
      max-height: 16rem;
      overflow: auto;
      background: #fff;
      border: 1px solid #c9d0d9;
      border-radius: 4px;
      font-size: 14px;
    }
    .entries li {
      display: grid;
      grid-template-columns: 7.5rem 1.5rem 13rem 1fr;
      gap: 0.4rem;
      padding: 0.2rem 0.5rem;
      border-bottom: 1px solid #eef1f5;
    }
    .entries li.bad {
      background: #fde8eb;
    }
    .entries li.bad .kind {
      color: #a3001b;
      font-weight: 700;
    }
    .note {
      color: #4a5260;
    }
    .time {
      color: #4a5260;
      font-variant-numeric: tabular-nums;
    }
    code {
      font-family: ui-monospace, 'SF Mono', Menlo, Consolas, monospace;
      white-space: pre-wrap;
      overflow-wrap: anywhere;
    }
  `
}

const DIRS = {
  up: { mark: '↑', label: 'sent' },
  down: { mark: '↓', label: 'came back' },
  note: { mark: '·', label: 'note' },
} as const

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text) as unknown
  } catch (error) {
    throw new Error(`${what} not JSON: ${error instanceof Error ? error.message : String(error)}`, { cause: error })
  }
}

customElements.define('lab-raw-composer', LabRawComposer)

declare global {
  interface HTMLElementTagNameMap {
    'lab-raw-composer': LabRawComposer
  }
}
