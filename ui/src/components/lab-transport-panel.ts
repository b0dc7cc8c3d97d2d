// One transport's live chat client: its messages with measured latency, its
// connection state, its controls and its costs. Five of these stand side by
// side in the race view.
import { LitElement, css, html, nothing, type PropertyValues } from 'lit'
import type { LogEntry, TransportName } from '../../../server/core/protocol.ts'
import type { ChatClient, ConnectionState, Received } from '../clients/chat-client.ts'
import { formatBytesShort, formatCount, formatRatio, formatSpan } from '../format.ts'
import { describeLatency, type ReceivedLatency } from '../latency.ts'
import { ShortPollingClient } from '../clients/polling.ts'
import type { Lab } from '../state/lab.ts'
import './lab-network-badge.ts'
import { TRANSPORT_INFO } from '../../../server/core/names.ts'

interface Row {
  key: string
  entry?: LogEntry
  receivedAt?: number
  backfilled?: boolean
  latency?: ReceivedLatency
  /** Someone else's message that came before the server's clock was known: its latency comes with the first estimate. */
  awaitingClock?: boolean
  lost?: boolean
}

const ROWS_KEPT = 200
const CONNS_TITLE =
  "TCP connections open that this transport used last, from every client (a browser's keep-alive connection counts " +
  "for the transport that polled on it, even while it also carries the page's other requests such as /api/wire) · " +
  'requests the server is holding open: long polls waiting and SSE streams (a short poll is never held)'
const POLL_INTERVALS = [250, 500, 1000, 2000, 5000]
const LONG_POLL_TIMEOUTS = [1000, 5000, 10000, 25000, 60000]

const pollIntervalOption = (ms: number, selected: boolean) =>
  html`<option value=${ms} ?selected=${selected}>${ms < 1000 ? `${ms} ms` : `${ms / 1000} s`}</option>`

export class LabTransportPanel extends LitElement {
  static override properties = {
    lab: { attribute: false },
    transport: { type: String },
    deflate: { type: Boolean },
    _rows: { state: true },
    _state: { state: true },
    _tick: { state: true },
  }

  declare lab: Lab
  declare transport: TransportName
  /** WebSocket compression, owned by the page (a link can turn it on); the panel asks for changes with `deflate-change`. */
  declare deflate: boolean
  declare _rows: Row[]
  declare _state: ConnectionState
  declare _tick: number
  private _unsubscribe: Array<() => void> = []
  private _lostCount = 0

  constructor() {
    super()
    this._rows = []
    this._state = 'idle'
    this._tick = 0
    this.deflate = false
  }

  private get _client(): ChatClient {
    return this.lab.clients[this.transport]
  }

  override connectedCallback(): void {
    super.connectedCallback()
    this._subscribe()
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback()
    this._unsubscribe.forEach((off) => off())
    this._unsubscribe = []
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if ((changed.has('lab') || changed.has('transport')) && this.isConnected) this._subscribe()
  }

  private _subscribe(): void {
    this._unsubscribe.forEach((off) => off())
    if (!this.lab || !this.transport) return
    const client = this._client
    this._state = client.state
    const wire = () => {
      this._tick++
    }
    this.lab.wire.addEventListener('change', wire)
    const clock = () => this._onClockChange()
    this.lab.clock.addEventListener('change', clock)
    this._unsubscribe = [
      client.on('state', ({ detail }) => {
        this._state = detail
      }),
      client.on('entry', ({ detail }) => this._onEntry(detail)),
      client.on('history-lost', () => this._onHistoryLost()),
      client.on('welcome', () => {
        this._tick++
      }),
      () => this.lab.wire.removeEventListener('change', wire),
      () => this.lab.clock.removeEventListener('change', clock),
    ]
  }

  private _onEntry({ entry, receivedAt, backfilled }: Received): void {
    const latency = entry.type === 'message' && !backfilled ? this.lab.latencyOf(entry, receivedAt) : undefined
    const awaitingClock = entry.type === 'message' && !backfilled && !latency
    this._push({ key: `${entry.epoch}-${entry.seq}`, entry, receivedAt, backfilled, latency, awaitingClock })
  }

  private _onClockChange(): void {
    if (!this._rows.some((row) => row.awaitingClock)) return
    this._rows = this._rows.map((row) => {
      if (!row.awaitingClock || row.entry?.type !== 'message') return row
      const latency = this.lab.latencyOf(row.entry, row.receivedAt!)
      return latency ? { ...row, latency, awaitingClock: false } : row
    })
  }

  private _onHistoryLost(): void {
    this._push({ key: `lost-${++this._lostCount}`, lost: true })
  }

  private _push(row: Row): void {
    const rows = [...this._rows, row]
    this._rows = rows.length > ROWS_KEPT ? rows.slice(rows.length - ROWS_KEPT) : rows
  }

  protected override updated(changed: PropertyValues<this>): void {
    // On the host too, so that the page (and a test) can tell stale panels without reading their figures.
    this.toggleAttribute('stale', !!this.lab && !this.lab.wire.reachable)
    if (changed.has('_rows')) {
      const list = this.renderRoot.querySelector('.messages')
      if (list) list.scrollTop = list.scrollHeight
    }
  }

  private _onIntervalChange(event: Event): void {
    this._client.pollIntervalMs = Number((event.target as HTMLSelectElement).value)
    // The wait for the next poll was set with the old interval: it follows the new one at once.
    if (this._client instanceof ShortPollingClient) this._client.gapChanged()
    this._tick++
  }

  private _onTimeoutChange(event: Event): void {
    this._client.longPollTimeoutMs = Number((event.target as HTMLSelectElement).value)
    // The poll being held still has the old timeout: start a fresh one so the change shows at once.
    this._client.reconnect()
  }

  private _onCompressionChange(event: Event): void {
    const input = event.target as HTMLInputElement
    const on = input.checked
    // The box shows the page's setting until the page takes the change and passes it back down.
    input.checked = this.deflate
    this.dispatchEvent(new CustomEvent('deflate-change', { detail: on, bubbles: true, composed: true }))
  }

  private _onDrop(): void {
    this._client.drop()
  }

  private async _onToggleMembership(): Promise<void> {
    const client = this._client
    if (client.state === 'closed') client.start()
    else await client.stop()
  }

  override render() {
    if (!this.lab || !this.transport) return nothing
    const client = this._client
    const label = TRANSPORT_INFO[this.transport].label
    return html`
      <section aria-labelledby="title" style="--accent: ${TRANSPORT_INFO[this.transport].color}">
        <header>
          <h2 id="title">${label}</h2>
          <span class="state ${this._state}" role="status" aria-label="${label} connection ${this._state}"
            >${this._state}</span
          >
        </header>
        <lab-network-badge .network=${this.lab.network}></lab-network-badge>
        <div class="controls">${this._renderControls(client)}</div>
        ${this._renderCounters(client)}
        <ol class="messages" aria-label="Messages received over ${label}">
          ${this._rows.map((row) => this._renderRow(row))}
        </ol>
      </section>
    `
  }

  private _renderControls(client: ChatClient) {
    const specific = (() => {
      switch (this.transport) {
        case 'short-polling':
          return html`<label
            >every
            <select @change=${this._onIntervalChange} aria-label="Short-poll interval">
              ${POLL_INTERVALS.map((ms) => pollIntervalOption(ms, ms === client.pollIntervalMs))}
            </select></label
          >`
        case 'long-polling':
          return html`<label
            >hold
            <select @change=${this._onTimeoutChange} aria-label="Long-poll timeout">
              ${LONG_POLL_TIMEOUTS.map((ms) => html`<option value=${ms} ?selected=${ms === client.longPollTimeoutMs}>${ms / 1000} s</option>`)}
            </select></label
          >`
        case 'websocket':
          return html`<label
            ><input type="checkbox" .checked=${this.deflate} @change=${this._onCompressionChange} /> deflate</label
          >`
        default:
          return nothing
      }
    })()
    return html`
      ${specific}
      <button
        @click=${this._onDrop}
        ?disabled=${this._state === 'closed'}
        title="Cut the connection as a network failure would; it comes back and resumes"
      >
        Drop
      </button>
      <button @click=${this._onToggleMembership} title="Leave or rejoin the room">
        ${this._state === 'closed' ? 'Join' : 'Leave'}
      </button>
    `
  }

  private _renderCounters(client: ChatClient) {
    const wire = this.lab.wire
    const server = wire.tally(this.transport)
    const stale = !wire.reachable
    const readAt = wire.readAt === undefined ? 'never' : new Date(wire.readAt).toLocaleTimeString()
    return html`
      ${
        stale
          ? html`<p class="stale-note" title="The server cannot be reached: these figures are its last answer">
              stale: server figures from ${readAt}
            </p>`
          : nothing
      }
      <table class="counters ${stale ? 'stale' : ''}">
        <caption class="visually-hidden">
          Costs of ${TRANSPORT_INFO[this.transport].label}: this panel's own, and the server's for all clients of this
          transport
        </caption>
        <thead>
          <tr>
            <th scope="col"></th>
            <th scope="col">↑ up</th>
            <th scope="col">↓ down</th>
          </tr>
        </thead>
        <tbody>
          <tr title="Bodies and frames this panel handled (page scripts cannot see headers)">
            <th scope="row">My bytes</th>
            <td>${formatBytesShort(client.stats.bytesUp)}</td>
            <td>${formatBytesShort(client.stats.bytesDown)}</td>
          </tr>
          <tr title="Server wire meter, all clients of this transport: bytes that were not chat JSON">
            <th scope="row">Overhead</th>
            <td>${formatBytesShort(server?.overheadIn)}</td>
            <td>${formatBytesShort(server?.overheadOut)}</td>
          </tr>
          <tr
            title="Server wire meter, all clients of this transport: the chat JSON as carried (compressed, where permessage-deflate is on)"
          >
            <th scope="row">Payload</th>
            <td>${formatBytesShort(server?.payloadIn)}</td>
            <td>${formatBytesShort(server?.payloadOut)}</td>
          </tr>
          ${
            server && (server.plainIn !== server.payloadIn || server.plainOut !== server.payloadOut)
              ? html`<tr title="The chat JSON before compression, and what permessage-deflate saved (plain − payload)">
                  <th scope="row">Saved by deflate</th>
                  <td>${formatBytesShort(server.plainIn - server.payloadIn)}</td>
                  <td>${formatBytesShort(server.plainOut - server.payloadOut)}</td>
                </tr>`
              : nothing
          }
          <tr title="Server wire meter: every byte that crossed the TCP socket: overhead + payload">
            <th scope="row">On the wire</th>
            <td>${formatBytesShort(server?.bytesIn)}</td>
            <td>${formatBytesShort(server?.bytesOut)}</td>
          </tr>
        </tbody>
      </table>
      <dl class="facts ${stale ? 'stale' : ''}">
        <dt title="Requests this panel made / HTTP requests and upgrades the server served for this transport">
          Requests me · all
        </dt>
        <dd>${formatCount(client.stats.requests)} · ${formatCount(server?.httpRequests)}</dd>
        ${this._renderShares()} ${this._renderIdle()}
        <dt title=${CONNS_TITLE}>Conns · held</dt>
        <dd class="conns">${formatCount(server?.connectionsOpen)} · ${formatCount(server?.requestsHeld)}</dd>
      </dl>
    `
  }

  /** This page's own connection on the wire meter: what its messages cost, and what it cost since the reset. */
  private _renderShares() {
    const wire = this.lab.wire
    const perMessage = wire.perMessage(this.transport)
    const since = wire.sinceReset(this.transport)
    const { perMessageCount } = wire.ownOptions
    const from =
      wire.resetAt === undefined
        ? 'since this page opened it'
        : `since the reset at ${new Date(wire.resetAt).toLocaleTimeString()}`
    const sinceTitle =
      `This page's own ${this.transport} connection, server wire meter: the share of all its bytes that were not ` +
      `chat JSON, quiet keep-alives included, ${from}`
    const perMessageTitle =
      `This page's own ${this.transport} connection, server wire meter: the share of its bytes that were not chat ` +
      `JSON, in the seconds in which its last ${perMessageCount} or so messages in or out (sends, acks, deliveries) ` +
      'crossed it, the polls or keep-alives of those seconds included. It does not move while nothing is said.'
    return html`
      <dt title=${perMessageTitle}>Overhead/msg</dt>
      <dd class="per-message" title=${perMessageTitle}>
        ${perMessage ? `${formatRatio(perMessage.share, 1)} · ${formatCount(perMessage.messages)} msgs` : 'no msg yet'}
      </dd>
      <dt title=${sinceTitle}>Since ${wire.resetAt === undefined ? 'load' : 'reset'}</dt>
      <dd class="since-reset">${since ? `${formatRatio(since.share, 1)} overhead` : '—'}</dd>
    `
  }

  /** What this page's own connection costs while it carries no message, and the window that was measured. */
  private _renderIdle() {
    const wire = this.lab.wire
    const idle = wire.idleCost(this.transport)
    const quietMin = wire.ownOptions.idleQuietMinMs / 1000
    const title =
      `This page's own ${this.transport} connection, server wire meter: requests and bytes per minute over the ` +
      `seconds in which it carried no message, among the last ${formatSpan(wire.ownOptions.idleSpanMs)} of the ` +
      `page's readings, shown once there are ${quietMin} s of them (Quiet seconds: how many, of how many looked at). ` +
      'Messages elsewhere on the server do not matter; a message in this room does.'
    return html`
      <dt title=${title}>Idle per min</dt>
      <dd class="idle">
        ${idle ? `${formatCount(idle.requestsPerMinute)} req · ${formatBytesShort(idle.bytesPerMinute)}` : 'measuring…'}
      </dd>
      <dt title=${title}>Quiet seconds</dt>
      <dd class="idle-window">
        ${
          idle
            ? `${Math.round(idle.quietSeconds)} of ${Math.round(idle.spanSeconds)} s`
            : `${Math.floor(wire.quietSeconds(this.transport))} s (need ${quietMin})`
        }
      </dd>
    `
  }

  private _renderRow(row: Row) {
    if (row.lost) return html`<li class="lost">History lost: the server could not fill the gap.</li>`
    const entry = row.entry!
    if (entry.type === 'notice') {
      return html`<li class="notice" title=${`seq ${entry.seq}`}>
        <span class="meta"><span class="seq">#${entry.seq}</span></span
        ><span class="text"
          >${entry.who.name} ${entry.event === 'join' ? 'joined' : 'left'} · ${entry.who.transport}</span
        >
      </li>`
    }
    return html`<li
      class=${row.backfilled ? 'message backfilled' : 'message'}
      title=${`seq ${entry.seq} · ${entry.from.name} via ${entry.from.transport}${row.backfilled ? ' · filled in after a reconnection' : ''}\n${entry.text}`}
    >
      <span class="meta"
        ><span class="seq">#${entry.seq}</span><b class="from">${entry.from.name}</b
        ><span class="via">${entry.from.transport}</span>${this._renderLatency(row)}</span
      >
      <span class="text">${entry.text}</span>
    </li>`
  }

  private _renderLatency(row: Row) {
    if (row.backfilled)
      return html`<span
        class="latency"
        title="Sent while this panel was disconnected and filled in when it reconnected: it has no delivery time"
        >filled in</span
      >`
    if (!row.latency)
      return html`<span class="latency" title="Waiting for the server's clock, to time a message from someone else"
        >—</span
      >`
    const { figure, kind, title } = describeLatency(row.latency)
    return html`<span class="latency ${row.latency.kind}" title=${title}
      >${figure}${kind ? html` <span class="kind">${kind}</span>` : nothing}</span
    >`
  }

  static override styles = css`
    :host {
      display: block;
      min-width: 0;
    }
    section {
      display: flex;
      flex-direction: column;
      height: 100%;
      background: #fff;
      border: 1px solid #d5d9e0;
      border-top: 4px solid var(--accent);
      border-radius: 6px;
      overflow: hidden;
    }
    header {
      display: flex;
      align-items: baseline;
      justify-content: space-between;
      gap: 0.5rem;
      padding: 0.35rem 0.55rem 0.15rem;
    }
    h2 {
      margin: 0;
      font-size: 1rem;
      white-space: nowrap;
      overflow: hidden;
      text-overflow: ellipsis;
    }
    .state {
      font-size: 0.8rem;
      padding: 0 0.4rem;
      border-radius: 1rem;
      background: #e8ebf0;
      white-space: nowrap;
    }
    .state.open {
      background: #d9f2e3;
      color: #125c2f;
    }
    .state.reconnecting,
    .state.connecting {
      background: #fff1cc;
      color: #6b4d00;
    }
    .state.closed {
      background: #f6d7d7;
      color: #7a1c1c;
    }
    .controls {
      display: flex;
      flex-wrap: nowrap;
      align-items: center;
      gap: 0.3rem;
      padding: 0 0.55rem 0.3rem;
      height: 1.9rem;
      font-size: 0.8rem;
      overflow: hidden;
      white-space: nowrap;
    }
    .controls button,
    .controls select {
      font: inherit;
      padding: 0.05rem 0.3rem;
    }
    .controls label {
      display: inline-flex;
      align-items: center;
      gap: 0.2rem;
    }
    .counters {
      width: 100%;
      border-collapse: collapse;
      background: #f3f5f8;
      font-size: 0.8rem;
      border-top: 1px solid #e3e6eb;
    }
    .counters th,
    .counters td {
      padding: 0 0.55rem;
      font-weight: normal;
      line-height: 1.35;
    }
    .counters thead th {
      color: #4a5260;
      text-align: right;
      font-size: 0.75rem;
    }
    .counters tbody th {
      color: #4a5260;
      text-align: left;
      white-space: nowrap;
    }
    .counters td {
      text-align: right;
      font-variant-numeric: tabular-nums;
    }
    .facts {
      display: grid;
      grid-template-columns: auto 1fr;
      gap: 0 0.4rem;
      margin: 0;
      padding: 0 0.55rem 0.3rem;
      background: #f3f5f8;
      font-size: 0.8rem;
      border-bottom: 1px solid #e3e6eb;
    }
    dt {
      color: #4a5260;
      white-space: nowrap;
    }
    dd {
      margin: 0;
      text-align: right;
      font-variant-numeric: tabular-nums;
      white-space: nowrap;
      overflow: hidden;
      text-overflow: ellipsis;
    }
    /* The server's last answer, kept in view but plainly not live while the server cannot be reached. */
    .counters.stale,
    .facts.stale {
      opacity: 0.55;
    }
    .stale-note {
      margin: 0;
      padding: 0 0.55rem;
      font-size: 0.75rem;
      font-weight: 600;
      color: #7a1c1c;
      background: #fdecec;
    }
    .messages {
      flex: 1;
      min-height: 0;
      overflow-y: auto;
      list-style: none;
      margin: 0;
      padding: 0.2rem 0;
    }
    /* Fixed-height rows: streaming messages never move what is already on screen. */
    .messages li {
      display: flex;
      flex-direction: column;
      justify-content: center;
      height: 2.6rem;
      padding: 0 0.55rem;
      border-bottom: 1px solid #f0f2f5;
    }
    /* Seq, name, transport, latency. Short of room, the transport gives way first, then the name; the latency never. */
    .meta {
      display: grid;
      grid-template-columns: auto minmax(0, max-content) minmax(0, 1fr) auto;
      column-gap: 0.35rem;
      align-items: baseline;
      font-size: 0.75rem;
      color: #5b6370;
      white-space: nowrap;
    }
    .from {
      color: #1b1f24;
      font-size: 0.8rem;
      overflow: hidden;
      text-overflow: ellipsis;
    }
    .via {
      overflow: hidden;
      text-overflow: ellipsis;
    }
    .seq {
      font-variant-numeric: tabular-nums;
    }
    .latency {
      font-variant-numeric: tabular-nums;
      font-size: 0.85rem;
      font-weight: 600;
      color: #17324d;
    }
    .text {
      font-size: 0.95rem;
      white-space: nowrap;
      overflow: hidden;
      text-overflow: ellipsis;
    }
    .notice .text {
      color: #5b6370;
      font-style: italic;
      font-size: 0.85rem;
    }
    .backfilled {
      background: #fff8e1;
    }
    .latency.from-server {
      color: #3d4f66;
      font-weight: normal;
    }
    .latency .kind {
      font-size: 0.68rem;
    }
    .backfilled .latency {
      color: #8a6d00;
      font-weight: normal;
    }
    .lost {
      color: #8a1c1c;
      background: #fdecec;
      font-weight: 600;
      font-size: 0.85rem;
    }
    .visually-hidden {
      position: absolute;
      width: 1px;
      height: 1px;
      overflow: hidden;
      clip: rect(0 0 0 0);
      white-space: nowrap;
    }
  `
}

customElements.define('lab-transport-panel', LabTransportPanel)

declare global {
  interface HTMLElementTagNameMap {
    'lab-transport-panel': LabTransportPanel
  }
}
