// One transport's live chat client: its messages with measured latency, its
// connection state, its controls and its costs. Five of these stand side by
// side in the race view.
import { LitElement, css, html, nothing, type PropertyValues } from 'lit'
import { repeat } from 'lit/directives/repeat.js'
import type { TransportName } from '../../../server/core/protocol.ts'
import type { ChatClient, ConnectionState, Received } from '../clients/chat-client.ts'
import { formatBytesShort, formatCount, formatRatio, formatSpan } from '../format.ts'
import { describeLatency } from '../latency.ts'
import { ShortPollingClient } from '../clients/polling.ts'
import type { Lab } from '../state/lab.ts'
import {
  PanelRows,
  describeNotices,
  describePresence,
  fastestCopy,
  type ComparisonRow,
  type MessageRow,
  type NoticeRow,
  type PanelRow,
} from '../state/panel-rows.ts'
import { TRANSPORT_INFO, TRANSPORTS, isTransportName } from '../../../server/core/names.ts'
import './lab-sent-away.ts'
import './lab-tab-notice.ts'
import { focusRing } from '../focus-ring.ts'
import './lab-network-badge.ts'
import './lab-instance-pin.ts'

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
    presenter: { type: Boolean, reflect: true },
    _state: { state: true },
    _tick: { state: true },
  }

  declare lab: Lab
  declare transport: TransportName
  /** WebSocket compression, owned by the page (a link can turn it on); the panel asks for changes with `deflate-change`. */
  declare deflate: boolean
  /** Presenter mode, owned by the page: large type and only the main figures. */
  declare presenter: boolean
  declare _state: ConnectionState
  declare _tick: number
  private _unsubscribe: Array<() => void> = []
  private _rows = new PanelRows()
  /** Entries are folded in as they come and drawn once per animation frame: a burst costs a frame, not a render each. */
  private _drawFrame = 0
  /**
   * The newest row stays in view. Scrolling is done once the browser has laid the rows out (a ResizeObserver's
   * moment), since asking for the list's height right after a render makes it lay the page out there and then:
   * five panels, five layouts a frame, seconds of them in a burst.
   */
  private readonly _followRows = new ResizeObserver(() => {
    const list = this.renderRoot.querySelector('.messages')
    if (list) list.scrollTop = list.scrollHeight
  })
  private _rowsObserved: Element | undefined

  constructor() {
    super()
    this._state = 'idle'
    this._tick = 0
    this.deflate = false
    this.presenter = false
  }

  private get _client(): ChatClient {
    return this.lab.clients[this.transport]
  }

  override connectedCallback(): void {
    super.connectedCallback()
    this._subscribe()
    // Back in the page: the rows are followed again from the next render.
    this.requestUpdate()
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback()
    this._unsubscribe.forEach((off) => off())
    this._unsubscribe = []
    cancelAnimationFrame(this._drawFrame)
    this._drawFrame = 0
    this._followRows.disconnect()
    this._rowsObserved = undefined
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
    this.lab.addEventListener('budget', wire)
    this._unsubscribe = [
      client.on('state', ({ detail }) => {
        this._state = detail
      }),
      client.on('entry', ({ detail }) => this._onEntry(detail)),
      client.on('history-lost', () => this._onHistoryLost()),
      client.on('welcome', ({ detail }) => {
        this._rows.welcomed(detail.room)
        this._drawRows()
        this._tick++
      }),
      () => this.lab.wire.removeEventListener('change', wire),
      () => this.lab.clock.removeEventListener('change', clock),
      () => this.lab.removeEventListener('budget', wire),
    ]
  }

  private _onEntry({ entry, receivedAt, backfilled }: Received): void {
    const latency = entry.type === 'message' && !backfilled ? this.lab.latencyOf(entry, receivedAt) : undefined
    this._rows.add({ entry, receivedAt, backfilled, latency })
    this._drawRows()
  }

  private _onClockChange(): void {
    let changed = false
    for (const row of this._rows.awaitingClock()) {
      row.latency = this.lab.latencyOf(row.entry, row.receivedAt)
      row.awaitingClock = !row.latency
      changed ||= !!row.latency
    }
    if (changed) this._drawRows()
  }

  private _onHistoryLost(): void {
    this._rows.lost()
    this._drawRows()
  }

  /** Asks for one render at the next animation frame, however many entries come before it. */
  private _drawRows(): void {
    if (this._drawFrame) return
    this._drawFrame = requestAnimationFrame(() => {
      this._drawFrame = 0
      this.requestUpdate()
    })
  }

  protected override updated(): void {
    // On the host too, so that the page (and a test) can tell stale panels without reading their figures.
    this.toggleAttribute('stale', !!this.lab && !this.lab.wire.reachable)
    const rows = this.renderRoot.querySelector('.rows')
    if (rows && this._rowsObserved !== rows) {
      this._rowsObserved = rows
      this._followRows.observe(rows)
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
    // Off for want of connections (other tabs hold them): never shown as a state this tab's client could be in.
    const off = this.lab.isOffHere(this.transport)
    const state = off ? 'off' : this._state
    return html`
      <section aria-labelledby="title" style="--accent: ${TRANSPORT_INFO[this.transport].color}">
        <header>
          <h2 id="title">${label}</h2>
          <span class="state ${state}" role="status" aria-label="${label} connection ${state}">${state}</span>
        </header>
        <lab-network-badge .network=${this.lab.network}></lab-network-badge>
        <lab-instance-pin .lab=${this.lab} transport=${this.transport} hidden></lab-instance-pin>
        ${off ? html`<lab-tab-notice .lab=${this.lab}></lab-tab-notice>` : nothing}
        <div class="controls">${off ? nothing : this._renderControls(client)}</div>
        <lab-sent-away .reason=${client.sentAway}></lab-sent-away>
        ${this._renderCounters(client)}
        <div class="messages" tabindex="0">
          <ol class="rows" aria-label="Messages received over ${label}">
            ${repeat(
              this._rows.shown,
              (row) => row.key,
              (row) => this._renderRow(row),
            )}
          </ol>
        </div>
      </section>
    `
  }

  private _renderControls(client: ChatClient) {
    // Five panels each have a Drop and a Leave: their names say which transport, for a screen reader's list of buttons.
    const label = TRANSPORT_INFO[this.transport].label
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
        Drop<span class="visually-hidden"> ${label}</span>
      </button>
      <button @click=${this._onToggleMembership} title="Leave or rejoin the room">
        ${this._state === 'closed' ? 'Join' : 'Leave'}<span class="visually-hidden"> ${label}</span>
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
          <tr class="secondary" title="Bodies and frames this panel handled (page scripts cannot see headers)">
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
              ? html`<tr
                  class="secondary"
                  title="The chat JSON before compression, and what permessage-deflate saved (plain − payload)"
                >
                  <th scope="row">Saved by deflate</th>
                  <td>${formatBytesShort(server.plainIn - server.payloadIn)}</td>
                  <td>${formatBytesShort(server.plainOut - server.payloadOut)}</td>
                </tr>`
              : nothing
          }
          <tr class="secondary" title="Server wire meter: every byte that crossed the TCP socket: overhead + payload">
            <th scope="row">On the wire</th>
            <td>${formatBytesShort(server?.bytesIn)}</td>
            <td>${formatBytesShort(server?.bytesOut)}</td>
          </tr>
        </tbody>
      </table>
      <dl class="facts ${stale ? 'stale' : ''}">
        <dt
          class="secondary"
          title="Requests this panel made / HTTP requests and upgrades the server served for this transport"
        >
          Requests me · all
        </dt>
        <dd class="secondary">${formatCount(client.stats.requests)} · ${formatCount(server?.httpRequests)}</dd>
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
      <dt class="secondary" title=${sinceTitle}>Since ${wire.resetAt === undefined ? 'load' : 'reset'}</dt>
      <dd class="since-reset secondary">${since ? `${formatRatio(since.share, 1)} overhead` : '—'}</dd>
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
      <dt class="secondary" title=${title}>Quiet seconds</dt>
      <dd class="idle-window secondary">
        ${
          idle
            ? `${Math.round(idle.quietSeconds)} of ${Math.round(idle.spanSeconds)} s`
            : `${Math.floor(wire.quietSeconds(this.transport))} s (need ${quietMin})`
        }
      </dd>
    `
  }

  private _renderRow(row: PanelRow) {
    switch (row.kind) {
      case 'lost':
        return html`<li class="lost">History lost: the server could not fill the gap.</li>`
      case 'room':
        return html`<li class="room-divider" role="separator" aria-label=${`Room ${row.room} from here on`}>
          <span>Room <b>${row.room}</b> from here on</span>
        </li>`
      case 'notice':
        return this._renderNotice(row)
      case 'presence':
        return html`<li
          class="notice"
          title=${`seq ${row.entry.seq}: ${row.entry.joins} joined, ${row.entry.leaves} left`}
        >
          <span class="text">${describePresence(row.entry)}</span>
        </li>`
      case 'comparison':
        return this._renderComparison(row)
      case 'message':
        return this._renderMessage(row)
    }
  }

  private _renderNotice(row: NoticeRow) {
    const seqs = row.firstSeq === row.lastSeq ? `seq ${row.firstSeq}` : `seq ${row.firstSeq} to ${row.lastSeq}`
    const each = [...row.changes]
      .map(([t, c]) => `${t}: ${c.count} ${c.count === 1 ? 'notice' : 'notices'}, ${c.first} first, ${c.last} last`)
      .join('\n')
    return html`<li class="notice" title=${`${seqs}\n${each}`}>
      <span class="text">${describeNotices(row)}</span>
    </li>`
  }

  private _renderMessage(row: MessageRow) {
    const entry = row.entry
    const via = entry.from.transport
    return html`<li
      class=${row.backfilled ? 'message backfilled' : 'message'}
      title=${`seq ${entry.seq} · ${entry.from.name} via ${via}${row.backfilled ? ' · filled in after a reconnection' : ''}\n${entry.text}`}
    >
      <span class="meta"
        ><span class="seq">#${entry.seq}</span><b class="from">${entry.from.name}</b>${this._renderLatency(row)}</span
      >
      <span class="line"
        ><span class="via" style=${`--via: ${isTransportName(via) ? TRANSPORT_INFO[via].color : '#999'}`}
          >${isTransportName(via) ? TRANSPORT_INFO[via].short : via}</span
        ><span class="text">${entry.text}</span></span
      >
    </li>`
  }

  /** One message sent over all five: a line per transport it came over, the fastest marked. */
  private _renderComparison(row: ComparisonRow) {
    const fastest = fastestCopy(row)
    const seqs = TRANSPORTS.flatMap((t) => (row.copies[t] ? [`#${row.copies[t].entry.seq} via ${t}`] : []))
    return html`<li class="comparison" title=${`${row.name}, sent over all five: ${seqs.join(', ')}\n${row.text}`}>
      <span class="meta"><b class="from">${row.name}</b><span class="all">over all five</span></span>
      <span class="text">${row.text}</span>
      <table class="copies">
        <caption class="visually-hidden">
          Latency of each copy, by the transport it was sent over
        </caption>
        ${TRANSPORTS.map((t) => {
          const copy = row.copies[t]
          return html`<tr class=${t === fastest ? 'copy fastest' : 'copy'} data-via=${t}>
            <th scope="row" class="label" style=${`--via: ${TRANSPORT_INFO[t].color}`}>${TRANSPORT_INFO[t].label}</th>
            <td>${copy ? this._renderLatency(copy, true) : html`<span class="latency waiting">…</span>`}</td>
            <td class="mark" title=${t === fastest ? 'the fastest of the five' : nothing}>
              ${t === fastest ? html`★<span class="visually-hidden"> fastest</span>` : nothing}
            </td>
          </tr>`
        })}
      </table>
    </li>`
  }

  /** `short` leaves out the kind ("from server"), which the tooltip still gives, where a row is narrow. */
  private _renderLatency(row: MessageRow, short = false) {
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
      >${figure}${kind && !short ? html` <span class="kind">${kind}</span>` : nothing}</span
    >`
  }

  static override styles = css`
    ${focusRing}
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
    .state.off {
      background: #fff1cc;
      color: #4d3800;
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
    .rows {
      list-style: none;
      margin: 0;
      padding: 0;
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
    /* The browser lays out and paints only the rows in view: a burst's hundreds of rows cost what a screenful does. */
    .messages li {
      content-visibility: auto;
      contain-intrinsic-size: auto 2.6rem;
    }
    /* Seq, name, latency. Short of room, the name gives way; the latency never. */
    .meta {
      display: grid;
      grid-template-columns: auto minmax(0, 1fr) auto;
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
    /* The transport a message was sent over, in its colour and full short name, before the text that gives way. */
    .line {
      display: flex;
      align-items: baseline;
      gap: 0.35rem;
      min-width: 0;
    }
    .via {
      flex: none;
      font-size: 0.75rem;
      color: #3d4450;
      white-space: nowrap;
    }
    .via::before {
      content: '';
      display: inline-block;
      width: 0.5rem;
      height: 0.5rem;
      margin-right: 0.2rem;
      border-radius: 50%;
      background: var(--via);
    }
    .line .text {
      min-width: 0;
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
    /* A folded notice says a whole sentence: two lines of the row's height rather than cut off. */
    .notice .text {
      white-space: normal;
      display: -webkit-box;
      -webkit-box-orient: vertical;
      -webkit-line-clamp: 2;
      line-height: 1.2;
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
    /* One message over all five: as tall as its five lines, every transport's label in full. */
    .messages li.comparison {
      height: auto;
      padding: 0.25rem 0.55rem;
      background: #f7f9fc;
    }
    .comparison .meta {
      grid-template-columns: minmax(0, max-content) auto;
    }
    .comparison .all {
      font-size: 0.75rem;
    }
    .copies {
      border-collapse: collapse;
      width: 100%;
      font-size: 0.8rem;
    }
    .copies th,
    .copies td {
      padding: 0;
      line-height: 1.3;
    }
    .copies .label {
      font-weight: normal;
      text-align: left;
      white-space: nowrap;
      color: #3d4450;
    }
    .copies .label::before {
      content: '';
      display: inline-block;
      width: 0.5rem;
      height: 0.5rem;
      margin-right: 0.25rem;
      border-radius: 50%;
      background: var(--via);
    }
    .copies td {
      text-align: right;
      white-space: nowrap;
      padding-left: 0.3rem;
    }
    .copies .latency {
      font-size: 0.8rem;
    }
    .copies .mark {
      width: 1.1rem;
      color: #125c2f;
    }
    .copy.fastest .label,
    .copy.fastest .latency {
      color: #125c2f;
      font-weight: 700;
    }
    .latency.waiting {
      color: #8a919c;
      font-weight: normal;
    }
    /* Where the panel moved to another room: what is above was said there. */
    .messages li.room-divider {
      height: auto;
      padding: 0.3rem 0.55rem;
      border-top: 2px solid #1d2733;
      border-bottom: none;
      font-size: 0.8rem;
      color: #1d2733;
      background: #e8ebf0;
      text-align: center;
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
    /* The ring would be cut by the panel's edges: the list draws it inside. */
    .messages:focus-visible {
      outline-offset: -3px;
      box-shadow: inset 0 0 0 6px #1b1f24;
    }
    /* Presenter mode: fewer figures, large enough for the back row; the secondary ones stay in the ordinary view. */
    :host([presenter]) .secondary {
      display: none;
    }
    :host([presenter]) h2 {
      font-size: clamp(1.1rem, 1.4vw, 1.8rem);
    }
    :host([presenter]) .state {
      font-size: clamp(0.85rem, 1vw, 1.2rem);
    }
    :host([presenter]) .counters,
    :host([presenter]) .facts {
      font-size: clamp(1rem, 1.35vw, 1.75rem);
    }
    :host([presenter]) .counters td,
    :host([presenter]) .facts dd {
      font-weight: 600;
    }
    :host([presenter]) .counters thead th {
      font-size: clamp(0.8rem, 1vw, 1.3rem);
    }
    /* A figure too long for its cell takes a second line instead of an ellipsis nobody can read from afar. */
    :host([presenter]) .facts dd {
      white-space: normal;
    }
    :host([presenter]) .messages li {
      height: clamp(2.6rem, 3.6vw, 4.6rem);
    }
    :host([presenter]) .meta {
      font-size: clamp(0.8rem, 0.95vw, 1.2rem);
    }
    :host([presenter]) .latency,
    :host([presenter]) .from {
      font-size: clamp(0.9rem, 1.1vw, 1.4rem);
    }
    :host([presenter]) .text {
      font-size: clamp(1rem, 1.25vw, 1.6rem);
    }
  `
}

customElements.define('lab-transport-panel', LabTransportPanel)

declare global {
  interface HTMLElementTagNameMap {
    'lab-transport-panel': LabTransportPanel
  }
}
