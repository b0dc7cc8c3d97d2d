// Under the hood of one transport: this page's handshake as the server read and
// wrote it (the request that opened the stream of this page's client, asked for
// by the connection its welcome names, never another client's), the
// Sec-WebSocket-Accept proof worked out by hand, and the client's frames.
import { LitElement, css, html, nothing, type PropertyValues } from 'lit'
import { Task, TaskStatus, initialState } from '@lit/task'
import { TRANSPORT_INFO, type TransportName, TRANSPORTS } from '../../../server/core/names.ts'
import type { Handshake, HandshakeSide } from '../../../server/wire/types.ts'
import type { Lab } from '../state/lab.ts'
import {
  WEBSOCKET_GUID,
  acceptSteps,
  formatClock,
  headerNote,
  headerValue,
  statusNote,
  tokenLine,
} from '../inspector/inspect.ts'
import './lab-frame-log.ts'
import './lab-wire-frames.ts'
import './lab-sse-events.ts'
import './lab-raw-composer.ts'

/** One read of the server's record: the handshake of the connection a client's welcome named. */
interface Inspected {
  transport: TransportName
  connectionId: string
  /** Undefined when the server keeps nothing for it any more (a long-closed connection) or never did. */
  handshake: Handshake | undefined
}

export class LabInspector extends LitElement {
  static override properties = {
    lab: { attribute: false },
    transport: { type: String },
  }

  declare lab: Lab | undefined
  /** The transport shown; the page sets it (a link can name one) and hears of the reader's choice through `transport-change`. */
  declare transport: TransportName
  /** The last handshake read, kept while a refresh loads and after one fails, so Refresh never blanks it. */
  private _inspected: Inspected | undefined
  private readonly _loader = new Task(this, {
    task: async ([baseUrl, transport, connectionId], { signal }): Promise<Inspected | typeof initialState> => {
      if (baseUrl === undefined || connectionId === undefined) return initialState
      const url = `${baseUrl}/api/wire/handshakes/${encodeURIComponent(connectionId)}`
      const res = await fetch(this.lab?.clients[transport].withQuery(url) ?? url, { signal, cache: 'no-store' })
      if (res.status === 404) return { transport, connectionId, handshake: undefined }
      if (!res.ok) throw new Error(`the server answered ${res.status} ${res.statusText}`)
      const handshakes = (await res.json()) as Record<string, Handshake>
      return { transport, connectionId, handshake: handshakes[transport] }
    },
    args: () => [this.lab?.baseUrl, this.transport, this.lab?.clients[this.transport].connectionId] as const,
    onComplete: (inspected) => {
      this._inspected = inspected
    },
  })
  private _offWelcome: (() => void) | undefined

  constructor() {
    super()
    this.lab = undefined
    this.transport = 'websocket'
  }

  override connectedCallback(): void {
    super.connectedCallback()
    this._followWelcomes()
    // Clients may have reconnected while the inspector was out of the page.
    if (this.hasUpdated) void this._loader.run()
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback()
    this._offWelcome?.()
    this._offWelcome = undefined
    this._loader.abort()
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if ((changed.has('lab') || changed.has('transport')) && this.isConnected) this._followWelcomes()
  }

  /** A welcome means the inspected client (re)connected, which is a new handshake (and connection) to read. */
  private _followWelcomes(): void {
    this._offWelcome?.()
    this._offWelcome = this.lab?.clients[this.transport].on('welcome', () => void this._loader.run())
  }

  private _select(transport: TransportName, focus: boolean): void {
    if (transport !== this.transport) {
      this.transport = transport
      this.dispatchEvent(new CustomEvent('transport-change', { detail: transport, bubbles: true, composed: true }))
    }
    if (focus)
      void this.updateComplete.then(() =>
        this.renderRoot.querySelector<HTMLElement>(`#tab-${CSS.escape(transport)}`)?.focus(),
      )
  }

  private _onTabKeydown(event: KeyboardEvent): void {
    const index = TRANSPORTS.indexOf(this.transport)
    const last = TRANSPORTS.length - 1
    const target = { ArrowRight: index + 1, ArrowLeft: index - 1, Home: 0, End: last }[event.key]
    if (target === undefined) return
    event.preventDefault()
    this._select(TRANSPORTS[(target + TRANSPORTS.length) % TRANSPORTS.length]!, true)
  }

  private _onRefreshClick(): void {
    void this._loader.run()
  }

  override render() {
    const transport = this.transport
    const label = TRANSPORT_INFO[transport].label
    return html`
      <div role="tablist" aria-label="Transport to inspect" @keydown=${this._onTabKeydown}>
        ${TRANSPORTS.map(
          (t) =>
            html` <button
              role="tab"
              type="button"
              id="tab-${t}"
              aria-controls="inspected"
              aria-selected=${t === transport ? 'true' : 'false'}
              tabindex=${t === transport ? 0 : -1}
              style="--accent: ${TRANSPORT_INFO[t].color}"
              @click=${() => this._select(t, false)}
            >
              ${TRANSPORT_INFO[t].label}
            </button>`,
        )}
      </div>
      <div
        id="inspected"
        role="tabpanel"
        aria-labelledby="tab-${transport}"
        style="--accent: ${TRANSPORT_INFO[transport].color}"
      >
        <section class="handshake" aria-labelledby="handshake-heading">
          <div class="section-head">
            <h2 id="handshake-heading">${label}: this page's handshake as the server saw it</h2>
            <button type="button" @click=${this._onRefreshClick} ?disabled=${!this.lab}>Refresh</button>
            <span class="load-status" role="status">${this._renderLoadStatus()}</span>
          </div>
          ${this._renderHandshake(transport)}
        </section>
        <section class="frames" aria-labelledby="frames-heading">
          <h2 id="frames-heading">${label}: frames as this page's client saw them</h2>
          <lab-frame-log .client=${this.lab?.clients[transport]}></lab-frame-log>
        </section>
        ${transport === 'websocket' || transport === 'socket.io' ? this._renderWireFrames(label) : nothing}
        ${transport === 'sse' ? this._renderSseEvents(label) : nothing}
        <section class="raw" aria-labelledby="raw-heading">
          <h2 id="raw-heading">Raw composer: send anything and see what the server answers</h2>
          <p class="about">
            It uses connections of its own, not this page's clients: an error here never stops the race.
          </p>
          <lab-raw-composer .lab=${this.lab}></lab-raw-composer>
        </section>
      </div>
    `
  }

  private _renderWireFrames(label: string) {
    return html`<section class="wire-frames" aria-labelledby="wire-frames-heading">
      <h2 id="wire-frames-heading">${label}: frame headers as the server read them</h2>
      <lab-wire-frames
        .client=${this.lab?.clients[this.transport]}
        .baseUrl=${this.lab?.baseUrl ?? location.origin}
      ></lab-wire-frames>
    </section>`
  }

  private _renderSseEvents(label: string) {
    return html`<section class="sse-events" aria-labelledby="sse-events-heading">
      <h2 id="sse-events-heading">${label}: the event stream, event by event</h2>
      <lab-sse-events .client=${this.lab?.clients.sse}></lab-sse-events>
    </section>`
  }

  private _renderLoadStatus() {
    return this._loader.render({
      pending: () => 'Loading…',
      error: (error) => `Could not load the handshake: ${error instanceof Error ? error.message : String(error)}`,
    })
  }

  private _renderHandshake(transport: TransportName) {
    const label = TRANSPORT_INFO[transport].label
    if (!this.lab?.clients[transport].connectionId) {
      return html`<p class="placeholder">
        This page's ${label} client has not been welcomed yet: its handshake shows here once it has connected (join the
        lab, or wait for it to reconnect).
      </p>`
    }
    const inspected = this._inspected?.transport === transport ? this._inspected : undefined
    if (!inspected)
      return html`<p class="placeholder">
        ${this._loader.status === TaskStatus.ERROR ? 'No handshake to show.' : 'Loading the handshake…'}
      </p>`
    const handshake = inspected.handshake
    if (!handshake) {
      return html`<p class="placeholder">
        The server keeps no ${label} handshake for connection ${inspected.connectionId} any more: it keeps those of open
        connections and of the last closed ones. Drop the client to open a new connection, then look again.
      </p>`
    }
    const isUpgrade = handshake.upgrade && headerValue(handshake.request, 'Sec-WebSocket-Key') !== undefined
    const where =
      handshake.connectionId === inspected.connectionId
        ? `on connection ${handshake.connectionId}, the one this page's client was welcomed on.`
        : `on connection ${handshake.connectionId}: the session began on connection ${inspected.connectionId}, ` +
          'the one its welcome names, and moved here.'
    return html`
      <p class="about">${this._describe(transport, handshake)} Captured at ${formatClock(handshake.at)} ${where}</p>
      ${handshake.auth ? html`<p class="token">${tokenLine(handshake.auth)}</p>` : nothing}
      <div class="exchange">
        ${this._renderSide('Request', handshake.request, 'request')}
        <div class="column">
          ${
            handshake.response
              ? this._renderSide('Response', handshake.response, 'response')
              : html`<div class="side">
                  <h3>Response</h3>
                  <p class="placeholder">
                    No response written yet: a long poll is held until something arrives or it times out.
                  </p>
                </div>`
          }
          ${isUpgrade ? this._renderAccept(handshake) : nothing}
        </div>
      </div>
    `
  }

  private _describe(transport: TransportName, handshake: Handshake): string {
    if (handshake.upgrade)
      return 'One HTTP request asks to switch protocols; the 101 answer turns the same TCP connection into a WebSocket.'
    if (transport === 'socket.io')
      return 'Socket.IO has not upgraded to WebSocket (yet): this is the HTTP long-polling request that opened its session.'
    if (transport === 'sse') return 'One GET whose response never ends: events follow the headers on the same response.'
    if (transport === 'websocket') return 'This request asked for no upgrade, so it got no WebSocket.'
    return (
      'There is no handshake to speak of: every request is a whole HTTP request and response, headers included. ' +
      "This is the join that made this page's client a member (its answer was the welcome); every poll pays such a head again."
    )
  }

  /** A line of a handshake, with the note that explains it, if there is one. */
  private _renderLine({ text, note }: { text: string; note: string | undefined }) {
    const noteBelow = note ? html`<span class="note">↑ ${note}</span>` : nothing
    return html`<div class="line ${note ? 'marked' : ''}">${text}${noteBelow}</div>`
  }

  private _renderSide(title: string, side: HandshakeSide, which: 'request' | 'response') {
    const lines = [
      { text: side.startLine, note: which === 'response' ? statusNote(side) : undefined },
      ...side.headers.map(([name, value]) => ({ text: `${name}: ${value}`, note: headerNote(name, value, which) })),
    ]
    // One block per line rather than newlines in a <pre>, so that a note can sit under the line it explains.
    return html`
      <div class="side">
        <h3>${title}</h3>
        <div class="http">${lines.map((line) => this._renderLine(line))}</div>
      </div>
    `
  }

  private _renderAccept(handshake: Handshake) {
    const key = headerValue(handshake.request, 'Sec-WebSocket-Key') ?? ''
    const sent = headerValue(handshake.response, 'Sec-WebSocket-Accept')
    const steps = acceptSteps(key)
    const matches = sent !== undefined && sent === steps.accept
    return html`
      <section class="accept" aria-labelledby="accept-heading">
        <h3 id="accept-heading">Sec-WebSocket-Accept, recomputed in this page</h3>
        <ol>
          <li><span class="step">The client's Sec-WebSocket-Key</span> <code>${steps.key}</code></li>
          <li>
            <span class="step">followed by the GUID of RFC 6455</span>
            <code>${steps.key}<mark>${WEBSOCKET_GUID}</mark></code>
          </li>
          <li><span class="step">SHA-1 of that text (20 bytes, hex)</span> <code>${steps.sha1Hex}</code></li>
          <li><span class="step">those 20 bytes in base64</span> <code>${steps.accept}</code></li>
          <li>
            <span class="step">the server's Sec-WebSocket-Accept</span> <code>${sent ?? '(none in the response)'}</code>
            <p class="verdict ${matches ? 'ok' : 'bad'}">
              ${
                matches
                  ? html`<span aria-hidden="true">✓</span> Matches: the server read this client's key, so it speaks
                      WebSocket and is not a cache replaying an old answer.`
                  : html`<span aria-hidden="true">✗</span> Does not match: a browser would refuse this connection.`
              }
            </p>
          </li>
        </ol>
      </section>
    `
  }

  static override styles = css`
    :host {
      display: flex;
      flex-direction: column;
      gap: 0.6rem;
      font-size: 15px;
      color: #1b1f24;
    }
    [role='tablist'] {
      display: flex;
      gap: 0.3rem;
      border-bottom: 2px solid #c9d0d9;
    }
    [role='tab'] {
      font: inherit;
      padding: 0.35rem 0.9rem;
      background: #eef1f5;
      color: #1b1f24;
      border: 1px solid #c9d0d9;
      border-bottom: none;
      border-radius: 4px 4px 0 0;
      cursor: pointer;
      border-top: 4px solid var(--accent);
    }
    [role='tab'][aria-selected='true'] {
      background: #fff;
      font-weight: 700;
      margin-bottom: -2px;
      padding-bottom: calc(0.35rem + 2px);
    }
    button:focus-visible {
      outline: 3px solid #ffbf47;
      outline-offset: 1px;
    }
    [role='tabpanel'] {
      display: flex;
      flex-direction: column;
      gap: 0.8rem;
    }
    h2 {
      font-size: 1.05rem;
      margin: 0;
    }
    h3 {
      font-size: 0.95rem;
      margin: 0 0 0.25rem;
    }
    .section-head {
      display: flex;
      align-items: center;
      gap: 0.8rem;
      margin-bottom: 0.3rem;
    }
    .section-head button {
      font: inherit;
      padding: 0.15rem 0.8rem;
    }
    .load-status {
      color: #4a5260;
      min-width: 6rem;
    }
    .about,
    .token {
      margin: 0 0 0.4rem;
    }
    .placeholder {
      margin: 0;
      padding: 0.6rem;
      color: #4a5260;
      background: #fff;
      border: 1px dashed #c9d0d9;
      border-radius: 4px;
    }
    .exchange {
      display: grid;
      grid-template-columns: repeat(auto-fit, minmax(26rem, 1fr));
      gap: 0.6rem;
      align-items: start;
    }
    .column {
      display: flex;
      flex-direction: column;
      gap: 0.6rem;
      min-width: 0;
    }
    .side {
      min-width: 0;
    }
    .http {
      padding: 0.5rem 0.6rem;
      background: #fff;
      border: 1px solid #c9d0d9;
      border-left: 4px solid var(--accent);
      border-radius: 4px;
      font-family: ui-monospace, 'SF Mono', Menlo, Consolas, monospace;
      font-size: 14px;
      line-height: 1.45;
    }
    .line {
      white-space: pre-wrap;
      overflow-wrap: anywhere;
      padding-left: 2ch;
      text-indent: -2ch;
    }
    .line.marked {
      font-weight: 700;
      background: #fff4d6;
    }
    .note {
      display: block;
      text-indent: 0;
      font-weight: 400;
      font-style: italic;
      color: #4a5260;
      font-family:
        system-ui,
        -apple-system,
        'Segoe UI',
        sans-serif;
    }
    .accept {
      padding: 0.5rem 0.7rem;
      background: #fff;
      border: 1px solid #c9d0d9;
      border-radius: 4px;
    }
    .accept ol {
      margin: 0;
      padding-left: 1.6rem;
      display: grid;
      gap: 0.3rem;
    }
    .step {
      display: block;
      color: #4a5260;
    }
    code {
      font-family: ui-monospace, 'SF Mono', Menlo, Consolas, monospace;
      font-size: 14px;
      overflow-wrap: anywhere;
    }
    mark {
      background: #fff4d6;
      color: inherit;
    }
    .verdict {
      margin: 0.3rem 0 0;
      font-weight: 700;
    }
    .verdict.ok {
      color: #00663f;
    }
    .verdict.bad {
      color: #a3001b;
    }
  `
}

customElements.define('lab-inspector', LabInspector)

declare global {
  interface HTMLElementTagNameMap {
    'lab-inspector': LabInspector
  }
}
