// The workbench: a name prompt, then five transports racing side by side,
// with an inspector, live charts and the benchmark results one tab away.
import { LitElement, css, html, nothing } from 'lit'
import { TRANSPORTS } from '../../../server/core/protocol.ts'
import { Lab } from '../state/lab.ts'
import './lab-bench-view.ts'
import './lab-charts.ts'
import './lab-composer.ts'
import './lab-inspector.ts'
import './lab-name-prompt.ts'
import './lab-presence.ts'
import './lab-transport-panel.ts'

const TABS = [
  { id: 'race', label: 'Race' },
  { id: 'inspector', label: 'Inspector' },
  { id: 'charts', label: 'Charts' },
  { id: 'bench', label: 'Benchmarks' },
] as const
type TabId = (typeof TABS)[number]['id']

export class LabApp extends LitElement {
  static override properties = {
    _tab: { state: true },
    _named: { state: true },
    _room: { state: true },
  }

  declare _tab: TabId
  declare _named: boolean
  declare _room: string
  readonly lab = new Lab()

  constructor() {
    super()
    this._tab = 'race'
    this._named = false
    this._room = this.lab.room
  }

  private _onNameChosen(event: CustomEvent<string>): void {
    this.lab.start(event.detail)
    this._named = true
  }

  private async _onRoomSubmit(event: SubmitEvent): Promise<void> {
    event.preventDefault()
    const input = this.renderRoot.querySelector<HTMLInputElement>('#room')!
    const room = input.value.trim()
    if (!/^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$/.test(room)) {
      input.setCustomValidity('1–32 letters, digits, - or _')
      input.reportValidity()
      return
    }
    input.setCustomValidity('')
    await this.lab.switchRoom(room)
    this._room = room
  }

  private _onTabKey(event: KeyboardEvent): void {
    const index = TABS.findIndex((t) => t.id === this._tab)
    const step = event.key === 'ArrowRight' ? 1 : event.key === 'ArrowLeft' ? -1 : 0
    if (!step) return
    event.preventDefault()
    this._tab = TABS[(index + step + TABS.length) % TABS.length]!.id
    void this.updateComplete.then(() => this.renderRoot.querySelector<HTMLButtonElement>(`#tab-${this._tab}`)?.focus())
  }

  override render() {
    return html`
      ${this._named ? nothing : html`<lab-name-prompt @name-chosen=${this._onNameChosen}></lab-name-prompt>`}
      <header>
        <h1>Transport Lab</h1>
        <form class="room" @submit=${this._onRoomSubmit}>
          <label for="room">Room</label>
          <input id="room" .value=${this._room} size="10" maxlength="32" />
          <button type="submit">Switch</button>
        </form>
        <lab-presence .lab=${this.lab}></lab-presence>
        <nav role="tablist" aria-label="Views" @keydown=${this._onTabKey}>
          ${TABS.map((t) => html`<button role="tab" id="tab-${t.id}" aria-controls="view-${t.id}" aria-selected=${this._tab === t.id ? 'true' : 'false'} tabindex=${this._tab === t.id ? 0 : -1} @click=${() => { this._tab = t.id }}>${t.label}</button>`)}
        </nav>
      </header>
      <main>
        <section id="view-race" role="tabpanel" aria-labelledby="tab-race" ?hidden=${this._tab !== 'race'}>
          <lab-composer .lab=${this.lab}></lab-composer>
          <div class="panels">
            ${TRANSPORTS.map((t) => html`<lab-transport-panel .lab=${this.lab} transport=${t}></lab-transport-panel>`)}
          </div>
          <p class="note">
            Connection budget: browsers open about 6 HTTP/1.1 connections per origin. This page holds at most two
            (the long poll and the SSE stream); the WebSockets (raw and Socket.IO) do not count against that pool, and the
            short poll, sends and the meter's once-a-second read use the rest. So no panel waits for another's connection.
            Latency is the sender's <code>sentAt</code> to this panel's receipt on this page's clock, for messages this page sent.
          </p>
        </section>
        ${this._tab === 'inspector' ? html`<section id="view-inspector" role="tabpanel" aria-labelledby="tab-inspector"><lab-inspector .lab=${this.lab}></lab-inspector></section>` : nothing}
        ${this._tab === 'charts' ? html`<section id="view-charts" role="tabpanel" aria-labelledby="tab-charts"><lab-charts .lab=${this.lab}></lab-charts></section>` : nothing}
        ${this._tab === 'bench' ? html`<section id="view-bench" role="tabpanel" aria-labelledby="tab-bench"><lab-bench-view .baseUrl=${this.lab.baseUrl}></lab-bench-view></section>` : nothing}
      </main>
    `
  }

  static override styles = css`
    :host { display: flex; flex-direction: column; height: 100vh; }
    header { display: flex; align-items: center; gap: 1rem; padding: 0.4rem 0.8rem; background: #1d2733; color: #fff; }
    h1 { margin: 0; font-size: 1.15rem; white-space: nowrap; }
    .room { display: flex; align-items: center; gap: 0.3rem; }
    .room input, .room button { font: inherit; padding: 0.15rem 0.4rem; }
    lab-presence { flex: 1; color: #dfe6ee; --muted: #b8c2cf; }
    nav { display: flex; gap: 0.2rem; }
    nav button { font: inherit; background: transparent; color: #dfe6ee; border: 1px solid transparent; border-radius: 4px; padding: 0.25rem 0.7rem; cursor: pointer; }
    nav button[aria-selected='true'] { background: #fff; color: #1d2733; font-weight: 600; }
    nav button:focus-visible, button:focus-visible, input:focus-visible, select:focus-visible { outline: 3px solid #ffbf47; outline-offset: 1px; }
    main { flex: 1; min-height: 0; display: flex; flex-direction: column; }
    main > section { flex: 1; min-height: 0; display: flex; flex-direction: column; gap: 0.5rem; padding: 0.5rem 0.8rem; overflow: auto; }
    main > section[hidden] { display: none; }
    #view-race { overflow: hidden; }
    .panels { flex: 1; min-height: 0; display: grid; grid-template-columns: repeat(5, minmax(0, 1fr)); grid-template-rows: minmax(0, 1fr); gap: 0.5rem; }
    .note { margin: 0; font-size: 0.78rem; color: #4a5260; }
  `
}

customElements.define('lab-app', LabApp)

declare global {
  interface HTMLElementTagNameMap {
    'lab-app': LabApp
  }
}
