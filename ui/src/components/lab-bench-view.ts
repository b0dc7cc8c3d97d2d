// The latest `npm run bench` results, as the server serves them at /api/bench:
// one table per scenario, typed by benchmarks/schema.ts. A file of another
// version, or one this page cannot read, is still shown, as plain tables
// (bench-tables.ts), so the tab never goes blank over a format change.
import { LitElement, css, html, nothing, type PropertyValues, type ReactiveController, type ReactiveControllerHost, type TemplateResult } from 'lit'
import type { Accounting, BenchResults, Comparison, DeadPeerRow, HandshakeRow, HttpRow, IdleRow, LatencyRow, NoisyRow, ProjectionRow, SlowReadersRow, ThroughputRow, WireRow } from '../../../benchmarks/schema.ts'
import { extractBench, formatCell, formatNumber, formatWorseBy, hasResultsShape, type BenchView, type Cell, type Table } from './bench-tables.ts'
import { TRANSPORT_INFO } from '../../../server/core/names.ts'

/**
 * The results version these tables were written for. Typed from the schema,
 * so bumping RESULTS_VERSION there fails the UI's type check until someone
 * has looked at this page again.
 */
const RESULTS_VERSION: BenchResults['version'] = 1

type BenchState =
  | { status: 'loading' }
  | { status: 'none'; message: string }
  | { status: 'failed'; message: string }
  | { status: 'loaded'; body: unknown }

interface Column<T> {
  label: string
  /** Longer explanation, shown as the header's title. */
  hint?: string
  numeric?: boolean
  cell: (row: T) => string | TemplateResult
}

/** Rows of one subject per table row, led by who the row is about. */
const subject = <T extends { label: string }>(): Column<T> => ({ label: 'Subject', cell: (row) => row.label })
const n = (value: number | null | undefined, digits = 0) => formatNumber(value, digits)
const lost = (a: Accounting) => (a.lost > 0 ? `${n(a.lost)} of ${n(a.expected)}` : '0')
const yesNo = (flag: boolean, yes: string) => (flag ? yes : '')

/** Fetches /api/bench while the host is in the page; a later load cancels an earlier one. */
class BenchLoader implements ReactiveController {
  state: BenchState = { status: 'loading' }
  private readonly host: ReactiveControllerHost
  private baseUrl: string | undefined
  private abort: AbortController | undefined
  private connected = false

  constructor(host: ReactiveControllerHost) {
    this.host = host
    host.addController(this)
  }

  setBaseUrl(baseUrl: string): void {
    if (baseUrl === this.baseUrl) return
    this.baseUrl = baseUrl
    if (this.connected) void this.load()
  }

  hostConnected(): void {
    this.connected = true
    void this.load()
  }

  hostDisconnected(): void {
    this.connected = false
    this.abort?.abort()
  }

  async load(): Promise<void> {
    if (this.baseUrl === undefined) return
    this.abort?.abort()
    const abort = new AbortController()
    this.abort = abort
    this.state = { status: 'loading' }
    this.host.requestUpdate()
    try {
      const res = await fetch(`${this.baseUrl}/api/bench`, { signal: abort.signal, cache: 'no-store' })
      const body: unknown = await res.json().catch(() => undefined)
      if (res.status === 404 && isError(body) && body.code === 'LAB_ERR_NOT_FOUND') {
        this.state = { status: 'none', message: body.message }
      } else if (!res.ok) {
        this.state = { status: 'failed', message: isError(body) ? `${body.code}: ${body.message}` : `the server answered ${res.status} ${res.statusText}` }
      } else if (body === undefined) {
        this.state = { status: 'failed', message: 'the results are not valid JSON' }
      } else {
        this.state = { status: 'loaded', body }
      }
    } catch (error) {
      if (abort.signal.aborted) return
      this.state = { status: 'failed', message: error instanceof Error ? error.message : String(error) }
    }
    this.host.requestUpdate()
  }
}

function isError(body: unknown): body is { type: 'error'; code: string; message: string } {
  return typeof body === 'object' && body !== null && (body as { type?: unknown }).type === 'error'
    && typeof (body as { code?: unknown }).code === 'string' && typeof (body as { message?: unknown }).message === 'string'
}

export class LabBenchView extends LitElement {
  static override properties = {
    baseUrl: { type: String },
  }

  declare baseUrl: string
  private readonly _loader = new BenchLoader(this)

  constructor() {
    super()
    this.baseUrl = ''
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('baseUrl')) this._loader.setBaseUrl(this.baseUrl)
  }

  private _onReloadClick(): void {
    void this._loader.load()
  }

  override render() {
    const state = this._loader.state
    return html`
      <div class="head">
        <h2>Benchmark results</h2>
        <button type="button" @click=${this._onReloadClick} ?disabled=${state.status === 'loading'}>Reload</button>
        <span role="status">${state.status === 'loading' ? 'Loading…' : ''}</span>
      </div>
      ${state.status === 'none' ? this._renderNone() : nothing}
      ${state.status === 'failed' ? html`<p class="problem">Could not load the results: ${state.message}</p>` : nothing}
      ${state.status === 'loaded' ? this._renderBody(state.body) : nothing}
    `
  }

  private _renderNone() {
    return html`
      <div class="none">
        <p><strong>No benchmark results yet.</strong> Run the benchmark in a terminal at the project's root, then press Reload:</p>
        <dl>
          <dt><code>npm run bench</code></dt><dd>the full run, a few minutes</dd>
          <dt><code>npm run bench -- --quick</code></dt><dd>a shorter run, under a minute, for a first look</dd>
        </dl>
      </div>
    `
  }

  private _renderBody(body: unknown) {
    let problem: string
    if (hasResultsShape(body, RESULTS_VERSION)) {
      try {
        return this._renderResults(body as BenchResults)
      } catch {
        problem = `These results say they are version ${RESULTS_VERSION} but some part is not as that version describes, so they are shown as plain tables.`
      }
    } else {
      const version = typeof body === 'object' && body !== null ? (body as { version?: unknown }).version : undefined
      problem = `These results are not in the format this page was written for (results version ${String(version ?? 'unknown')}, expected ${RESULTS_VERSION}), so they are shown as plain tables. Running the benchmark again writes the current format.`
    }
    return html`<p class="problem">${problem}</p>${this._renderView(extractBench(body))}`
  }

  private _renderResults(r: BenchResults) {
    const sections: Array<{ id: string; title: string; content: TemplateResult }> = []
    const add = (id: string, title: string, content: TemplateResult | typeof nothing) => {
      if (content !== nothing) sections.push({ id, title, content })
    }
    add('bench-wire', 'Wire cost per message', r.wire ? this._wire(r.wire.rows) : nothing)
    add('bench-projection', 'Bandwidth for many clients', r.wire ? this._projection(r.wire.projection) : nothing)
    add('bench-handshakes', 'Handshake bytes', r.wire ? this._handshakes(r.wire.handshakes) : nothing)
    add('bench-latency', 'Delivery latency', r.latency ? this._latency(r.latency) : nothing)
    add('bench-throughput', 'Throughput and CPU', r.throughput ? this._throughput(r.throughput.rows, r.throughput.http) : nothing)
    add('bench-idle', 'Idle cost and memory per connection', r.idle ? this._idle(r.idle) : nothing)
    add('bench-noisy', 'Noisy neighbour', r.noisy ? this._noisy(r.noisy) : nothing)
    add('bench-slow-readers', 'Slow readers', r.slowReaders ? this._slowReaders(r.slowReaders) : nothing)
    add('bench-dead-peers', 'Dead peers', r.deadPeers ? this._deadPeers(r.deadPeers) : nothing)
    add('bench-comparisons', 'Against the baselines', this._comparisons(r.comparisons))
    add('bench-accounting', 'Every message accounted for', this._accounting(r.accounting))
    add('bench-environment', 'Environment', this._environment(r))
    return html`
      <p class="run">
        ${r.mode === 'quick' ? html`<strong>Quick run</strong> (fewer clients, shorter windows: a first look, not a measurement to quote).` : html`<strong>Full run.</strong>`}
        Started ${r.startedAt}, took ${n(r.durationMs / 1000, 0)} s: <code>${r.command}</code>
      </p>
      ${r.notes.length > 0 ? html`<ul class="notes">${r.notes.map((note) => html`<li>${note}</li>`)}</ul>` : nothing}
      <nav aria-label="Benchmark sections">
        ${sections.map((sec) => html`<button type="button" class="link" @click=${() => this._scrollTo(sec.id)}>${sec.title}</button>`)}
      </nav>
      ${sections.map((sec) => html`<section id=${sec.id} aria-labelledby="${sec.id}-heading" tabindex="-1"><h3 id="${sec.id}-heading">${sec.title}</h3>${sec.content}</section>`)}
    `
  }

  private _scrollTo(id: string): void {
    const section = this.renderRoot.querySelector<HTMLElement>(`#${id}`)
    section?.scrollIntoView({ block: 'start' })
    section?.focus({ preventScroll: true })
  }

  private _table<T>(caption: string, rows: readonly T[], columns: Array<Column<T>>) {
    if (rows.length === 0) return html`<p class="note">${caption}: no rows in this run.</p>`
    return html`
      <div class="scroll">
        <table>
          <caption>${caption}</caption>
          <thead><tr>${columns.map((c) => html`<th scope="col" class=${c.numeric ? 'num' : ''} title=${c.hint ?? nothing}>${c.label}</th>`)}</tr></thead>
          <tbody>${rows.map((row) => html`<tr>${columns.map((c, i) => i === 0
            ? html`<th scope="row">${c.cell(row)}</th>`
            : html`<td class=${c.numeric ? 'num' : ''}>${c.cell(row)}</td>`)}</tr>`)}</tbody>
        </table>
      </div>
    `
  }

  private _wire(rows: WireRow[]) {
    const sizes = [...new Set(rows.map((row) => row.textBytes))].sort((a, b) => a - b)
    const columns: Array<Column<WireRow>> = [
      subject(),
      { label: 'Send: overhead', hint: 'What the server read for one send, minus the chat JSON', numeric: true, cell: (row) => n(row.send.in.overhead, 1) },
      { label: 'Send: payload', numeric: true, cell: (row) => n(row.send.in.payload, 1) },
      { label: 'Send: answer', hint: "The server's answer to a send (an HTTP response; nothing on push transports)", numeric: true, cell: (row) => n(row.send.out.bytes, 1) },
      { label: 'Delivery: overhead', hint: 'What the server wrote to deliver one message to one receiver, minus the chat JSON', numeric: true, cell: (row) => n(row.receive.out.overhead, 1) },
      { label: 'Delivery: payload', numeric: true, cell: (row) => n(row.receive.out.payload, 1) },
      { label: 'Receiver request', hint: 'What a receiver had to send to get the delivery (a poll request)', numeric: true, cell: (row) => n(row.receive.in.bytes, 1) },
      { label: 'Receiver total', hint: "Both directions of one delivery on the receiver's link: what the projection multiplies", numeric: true, cell: (row) => html`<strong>${n(row.receiveBytesPerMessage, 1)}</strong>` },
      { label: 'Messages', numeric: true, cell: (row) => n(row.messages) },
    ]
    return html`
      <p class="note">Bytes per message at the server's sockets, split into payload (the chat JSON) and overhead (lines, headers, framing, packet prefixes).</p>
      ${sizes.map((size) => this._table(`${n(size)}-byte message text (bytes per message)`, rows.filter((row) => row.textBytes === size), columns))}
    `
  }

  private _projection(rows: ProjectionRow[]) {
    const counts = [...new Set(rows.flatMap((row) => row.mbps.map((m) => m.clients)))].sort((a, b) => a - b)
    return this._table('Mbit/s the server sends and receives when N clients each get one message per second', rows, [
      subject(),
      { label: 'Text (B)', numeric: true, cell: (row) => n(row.textBytes) },
      { label: 'Bytes per message', numeric: true, cell: (row) => n(row.bytesPerMessage, 1) },
      ...counts.map((clients): Column<ProjectionRow> => ({
        label: `${n(clients)} clients (Mbit/s)`,
        numeric: true,
        cell: (row) => n(row.mbps.find((m) => m.clients === clients)?.mbps, 2),
      })),
    ])
  }

  private _handshakes(rows: HandshakeRow[]) {
    const raw = (row: HandshakeRow) => row.request || row.response
      ? html`<details><summary>lines</summary><pre>${[...(row.request ?? []), '', ...(row.response ?? [])].join('\n')}</pre></details>`
      : ''
    return this._table('Bytes from the first byte until the client is ready', rows, [
      subject(),
      { label: 'Connecting means', cell: (row) => row.variant },
      { label: 'Bytes in', numeric: true, cell: (row) => n(row.bytesIn) },
      { label: 'Bytes out', numeric: true, cell: (row) => n(row.bytesOut) },
      { label: 'Payload', numeric: true, cell: (row) => n(row.payloadBytes) },
      { label: 'Overhead', numeric: true, cell: (row) => n(row.overheadBytes) },
      { label: 'HTTP requests', numeric: true, cell: (row) => n(row.httpRequests) },
      { label: 'Request / response', cell: raw },
    ])
  }

  private _latency(latency: NonNullable<BenchResults['latency']>) {
    const us = (pick: (row: LatencyRow) => number | null): Column<LatencyRow>['cell'] => (row) => n(pick(row), 0)
    return html`
      <p class="note">From send to delivery, in microseconds (µs), at ${n(latency.rateHz)} messages/s to ${n(latency.receivers)} receivers; short polling polls every ${n(latency.shortPollIntervalMs)} ms.</p>
      ${this._table('Latency percentiles (µs)', latency.rows, [
        subject(),
        { label: 'Count', numeric: true, cell: (row) => n(row.latency.count) },
        { label: 'p50', numeric: true, cell: us((row) => row.latency.p50Us) },
        { label: 'p90', numeric: true, cell: us((row) => row.latency.p90Us) },
        { label: 'p99', numeric: true, cell: us((row) => row.latency.p99Us) },
        { label: 'p99.9', numeric: true, cell: us((row) => row.latency.p999Us) },
        { label: 'Max', numeric: true, cell: us((row) => row.latency.maxUs) },
        { label: 'Mean', numeric: true, cell: us((row) => row.latency.meanUs) },
        { label: 'Lost', numeric: true, cell: (row) => lost(row.accounting) },
        { label: 'Note', cell: (row) => row.note ?? '' },
      ])}
    `
  }

  private _throughput(rows: ThroughputRow[], http: HttpRow[]) {
    const bound = "The load client used most of a core: the figure may be its limit, not the server's"
    return html`
      ${this._table('Messages through the server as fast as it takes them', rows, [
        subject(),
        { label: 'Fan-out', numeric: true, cell: (row) => n(row.fanout) },
        { label: 'Window', hint: 'Messages allowed in flight', numeric: true, cell: (row) => n(row.window) },
        { label: 'Messages/s', numeric: true, cell: (row) => n(row.messagesPerSecond) },
        { label: 'Deliveries/s', numeric: true, cell: (row) => n(row.deliveriesPerSecond) },
        { label: 'Server CPU (cores)', numeric: true, cell: (row) => n(row.serverCpuCores, 2) },
        { label: 'Deliveries per CPU-second', numeric: true, cell: (row) => n(row.deliveriesPerServerCpuSecond) },
        { label: 'Load CPU (cores)', numeric: true, cell: (row) => n(row.loadCpuCores, 2) },
        { label: 'Client-bound', hint: bound, cell: (row) => yesNo(row.clientBound, 'yes: client-bound') },
        { label: 'Lost', numeric: true, cell: (row) => lost(row.accounting) },
        { label: 'Note', cell: (row) => row.note ?? '' },
      ])}
      ${this._table('HTTP endpoints under autocannon (latency in whole ms, as autocannon reports it)', http, [
        subject(),
        { label: 'Endpoint', cell: (row) => row.endpoint },
        { label: 'Connections', numeric: true, cell: (row) => n(row.connections) },
        { label: 'Requests/s', numeric: true, cell: (row) => n(row.requestsPerSecond) },
        { label: 'p50 (ms)', numeric: true, cell: (row) => n(row.latencyMsP50) },
        { label: 'p99 (ms)', numeric: true, cell: (row) => n(row.latencyMsP99) },
        { label: 'Non-2xx', numeric: true, cell: (row) => n(row.non2xx) },
        { label: 'Errors', numeric: true, cell: (row) => n(row.errors) },
        { label: 'Requests per CPU-second', numeric: true, cell: (row) => n(row.requestsPerServerCpuSecond) },
        { label: 'Client-bound', hint: bound, cell: (row) => yesNo(row.clientBound, 'yes: client-bound') },
      ])}
    `
  }

  private _idle(idle: NonNullable<BenchResults['idle']>) {
    const kib = (bytes: number | null) => n(bytes === null ? null : bytes / 1024, 1)
    return html`
      <p class="note">${n(idle.clients)} clients per transport held open for ${n(idle.holdMs / 1000)} s with nothing to say. Memory per connection is read after a full GC.</p>
      ${this._table('Idle cost per transport (per minute, all clients together)', idle.rows, [
        subject(),
        { label: 'Connected', numeric: true, cell: (row) => `${n(row.connected)} of ${n(row.clients)}` },
        { label: 'Requests/min', numeric: true, cell: (row) => n(row.requestsPerMinute, 1) },
        { label: 'Bytes in/min', numeric: true, cell: (row) => n(row.bytesInPerMinute) },
        { label: 'Bytes out/min', numeric: true, cell: (row) => n(row.bytesOutPerMinute) },
        { label: 'Server CPU s/min', numeric: true, cell: (row) => n(row.serverCpuSecondsPerMinute, 3) },
        { label: 'Heap per connection (KiB)', numeric: true, cell: (row) => kib(row.heapPerConnectionBytes) },
        { label: 'RSS per connection (KiB)', numeric: true, cell: (row) => kib(row.rssPerConnectionBytes) },
        { label: 'Dropped', hint: 'Clients that stopped during the hold', numeric: true, cell: (row: IdleRow) => n(row.droppedDuringHold) },
        { label: 'Note', cell: (row) => row.note ?? '' },
      ])}
    `
  }

  private _noisy(noisy: NonNullable<BenchResults['noisy']>) {
    const ratio = (value: number | null) => (value === null ? '—' : `${n(value, 2)}×`)
    const flood = (pick: (f: NonNullable<NoisyRow['flood']>) => string): Column<NoisyRow>['cell'] => (row) => (row.flood ? pick(row.flood) : '—')
    return html`
      <p class="note">${n(noisy.senders)} senders chat at ${n(noisy.rateHz)} messages/s in all to ${n(noisy.receivers)} receivers over ${TRANSPORT_INFO[noisy.transport].label}; in each phase nobody floods, or one client floods as fast as it can into a room of its own. Two servers differ only in the message limit: the default (on) and MESSAGE_RATE=0 (off). Each flood is compared with the quiet phase on the same server.</p>
      ${this._table('Bystanders\' delivery latency (µs) and what the flooder got', noisy.rows, [
        { label: 'Phase', cell: (row) => row.label },
        { label: 'p50', numeric: true, cell: (row) => n(row.latency.p50Us) },
        { label: 'p99', numeric: true, cell: (row) => n(row.latency.p99Us) },
        { label: 'p50 vs quiet', hint: 'p50 over the quiet phase on the same server', numeric: true, cell: (row) => ratio(row.p50Ratio) },
        { label: 'p99 vs quiet', numeric: true, cell: (row) => ratio(row.p99Ratio) },
        { label: 'Samples', numeric: true, cell: (row) => n(row.latency.count) },
        { label: 'Server CPU (cores)', numeric: true, cell: (row) => n(row.serverCpuCores, 2) },
        { label: 'Flood sent', numeric: true, cell: flood((f) => n(f.attempted)) },
        { label: 'Accepted', hint: "The flooded room's seq on the server", numeric: true, cell: flood((f) => n(f.accepted)) },
        { label: 'Refused', hint: 'LAB_ERR_RATE_LIMIT answers', numeric: true, cell: flood((f) => n(f.refused)) },
        { label: 'Flooder closed', cell: flood((f) => (f.closed === null ? 'no' : `${f.closed}, after ${n(f.closedAfterMs)} ms`)) },
        { label: 'Lost', numeric: true, cell: (row) => lost(row.accounting) },
      ])}
    `
  }

  private _slowReaders(sr: NonNullable<BenchResults['slowReaders']>) {
    const mib = (bytes: number) => n(bytes / 2 ** 20, 1)
    return html`
      <p class="note">${n(sr.readers)} readers per push transport stop reading after their welcome while a sender floods their room with ${n(sr.textBytes)}-byte messages; the slow-consumer policy (SEND_BUFFER_BYTES = ${mib(sr.sendBufferBytes)} MiB) should close them. Held = live memory after a GC at the end of the flood, over the same flood without them (the control).</p>
      ${this._table('Stopped readers: closed, told, and the memory held for them (MiB)', sr.rows, [
        subject(),
        { label: 'Closed as slow', numeric: true, cell: (row: SlowReadersRow) => `${n(row.closedAsSlow)} of ${n(row.readers)}` },
        { label: 'All closed after (ms)', numeric: true, cell: (row) => n(row.allClosedAfterMs) },
        { label: 'Held for readers', hint: 'Live heap + external at the end of the flood, over the control', numeric: true, cell: (row) => mib(row.readersHeldBytes) },
        { label: 'N × SEND_BUFFER_BYTES', numeric: true, cell: (row) => mib(row.budgetBytes) },
        { label: 'Held / budget', numeric: true, cell: (row) => n(row.readersHeldToBudget, 2) },
        { label: 'Peak RSS growth', numeric: true, cell: (row) => mib(row.peakRssGrowthBytes) },
        { label: 'Control peak RSS growth', numeric: true, cell: (row) => mib(row.controlPeakRssGrowthBytes) },
        { label: 'RSS after GC, growth', numeric: true, cell: (row) => mib(row.afterRssGrowthBytes) },
        { label: 'Flood messages', numeric: true, cell: (row) => n(row.floodMessages) },
        { label: 'Told', cell: (row) => row.told.map((t) => `${n(t.count)}× ${t.reason}`).join('; ') },
        { label: 'Bystander lost', numeric: true, cell: (row) => lost(row.bystander) },
      ])}
    `
  }

  private _deadPeers(dp: NonNullable<BenchResults['deadPeers']>) {
    const s = (ms: number | null) => (ms === null ? `over ${n(dp.capMs / 1000, 1)}` : n(ms / 1000, 2))
    return html`
      <p class="note">One peer per transport stops answering with its connection left open${dp.shortened ? html`; <strong>shortened settings</strong> (a quick run)` : ''}. Presence and the server's open connections were read every ${n(dp.pollMs)} ms.</p>
      ${this._table('Seconds from the moment it stopped answering', dp.rows, [
        subject(),
        { label: 'Gone from presence (s)', numeric: true, cell: (row: DeadPeerRow) => s(row.goneFromPresenceMs) },
        { label: 'Connection closed (s)', numeric: true, cell: (row) => s(row.connectionClosedMs) },
        { label: 'Allowed (s)', hint: 'The window the settings give', numeric: true, cell: (row) => (row.expectedMinMs === row.expectedMaxMs ? n(row.expectedMinMs / 1000, 2) : `${n(row.expectedMinMs / 1000, 2)}–${n(row.expectedMaxMs / 1000, 2)}`) },
        { label: 'Settings', cell: (row) => Object.entries(row.settings).map(([k, v]) => `${k} ${n(v)}`).join(', ') },
        { label: 'The dead peer', cell: (row) => row.how },
        { label: 'Note', cell: (row) => row.note ?? '' },
      ])}
    `
  }

  private _comparisons(rows: Comparison[]) {
    const flagged = rows.filter((row) => row.flagged).length
    return html`
      <p class="note">Transport Lab against a bare server doing the same job. A figure more than 10% worse is flagged.
        ${rows.length > 0 ? (flagged > 0 ? `${flagged} of ${rows.length} flagged.` : 'None flagged.') : ''}</p>
      ${this._table('Transport Lab vs baseline', rows, [
        { label: 'Metric', cell: (row) => row.metric },
        { label: 'Transport', cell: (row) => row.transport },
        { label: 'Baseline', cell: (row) => row.baselineTarget },
        { label: 'Lab', numeric: true, cell: (row) => `${n(row.lab, 1)} ${row.unit}` },
        { label: 'Baseline value', numeric: true, cell: (row) => `${n(row.baseline, 1)} ${row.unit}` },
        { label: 'Ratio', hint: 'lab / baseline', numeric: true, cell: (row) => n(row.ratio, 2) },
        { label: 'Lab is', hint: 'Compared with the baseline, counting higher or lower as better as the metric says', numeric: true, cell: (row) => formatWorseBy(row.worseBy) },
        { label: 'Over 10% worse', cell: (row) => (row.flagged ? html`<strong class="flag">⚑ flagged</strong>` : 'no') },
        { label: 'Target', hint: "The issue's target applies to this row", cell: (row) => yesNo(row.target, 'yes') },
        { label: 'Note', cell: (row) => row.note ?? '' },
      ])}
    `
  }

  private _accounting(accounting: BenchResults['accounting']) {
    const rows: Array<[string, Accounting]> = [...Object.entries(accounting.byScenario), ['all scenarios', accounting.total]]
    return this._table('Sent, expected, delivered and lost: delivered + lost = expected', rows, [
      { label: 'Scenario', cell: ([name]) => name },
      { label: 'Receivers', numeric: true, cell: ([, a]) => n(a.receivers) },
      { label: 'Sent', numeric: true, cell: ([, a]) => n(a.sent) },
      { label: 'Failed sends', numeric: true, cell: ([, a]) => n(a.failedSends) },
      { label: 'Expected', numeric: true, cell: ([, a]) => n(a.expected) },
      { label: 'Delivered', numeric: true, cell: ([, a]) => n(a.delivered) },
      { label: 'Lost', numeric: true, cell: ([, a]) => n(a.lost) },
      { label: 'Duplicates', numeric: true, cell: ([, a]) => n(a.duplicates) },
      { label: 'Why lost', cell: ([, a]) => a.losses.map((l) => `${l.reason} (${n(l.count)})`).join(', ') },
    ])
  }

  private _environment(r: BenchResults) {
    const env = r.environment
    const machine: Array<[string, Cell]> = [
      ['CPU', `${env.cpuModel} (${env.cores} cores)`],
      ['Memory', `${n(env.memoryBytes / 2 ** 30, 1)} GiB`],
      ['OS', `${env.platform} ${env.osRelease}`],
      ['Node.js', env.node],
      ['V8', env.v8],
      ['Open files limit', env.fdLimit],
      ['Socket.IO client transports', env.socketIoClientTransports.join(', ')],
    ]
    const options = Object.entries(r.options).map(([key, value]): [string, Cell] => [key, Array.isArray(value) ? value.join(', ') : value])
    return html`
      ${this._pairs(machine)}
      <h4>Libraries</h4>${this._pairs(Object.entries(env.libraries))}
      <h4>Transport Lab settings</h4>${this._pairs(Object.entries(env.settings))}
      ${env.labEnv ? html`<h4>Set by the bench (all load comes from 127.0.0.1, so these limits were put out of reach)</h4>${this._pairs(Object.entries(env.labEnv))}` : nothing}
      <h4>Run options</h4>${this._pairs(options)}
    `
  }

  private _renderView(view: BenchView) {
    if (!view.environment && view.meta.length === 0 && view.tables.length === 0) {
      return html`<p class="problem">The results file holds nothing this page knows how to show.</p>`
    }
    return html`
      ${view.meta.length > 0 ? html`<section aria-labelledby="run-heading"><h3 id="run-heading">This run</h3>${this._pairs(view.meta)}</section>` : nothing}
      ${view.environment ? html`<section aria-labelledby="env-heading"><h3 id="env-heading">Environment</h3>${this._pairs(view.environment)}</section>` : nothing}
      ${view.tables.map((table, i) => this._renderTable(table, i))}
    `
  }

  private _pairs(pairs: Array<[string, Cell]>) {
    return html`<dl class="pairs">${pairs.map(([key, value]) => html`<div><dt>${key}</dt><dd class=${typeof value === 'number' ? 'num' : ''}>${formatCell(value)}</dd></div>`)}</dl>`
  }

  private _renderTable(table: Table, index: number) {
    const id = `table-${index}`
    return html`
      <section aria-labelledby=${id}>
        <h3 id=${id}>${table.title}</h3>
        <div class="scroll">
          <table>
            <thead><tr>${table.columns.map((c) => html`<th scope="col" class=${this._isNumeric(table, c) ? 'num' : ''}>${c}</th>`)}</tr></thead>
            <tbody>
              ${table.rows.map((row) => html`<tr>${table.columns.map((c) => html`<td class=${typeof row[c] === 'number' ? 'num' : ''}>${formatCell(row[c])}</td>`)}</tr>`)}
            </tbody>
          </table>
        </div>
        ${table.omitted > 0 ? html`<p class="note">${table.omitted} more rows are in the JSON file.</p>` : nothing}
      </section>
    `
  }

  private _isNumeric(table: Table, column: string): boolean {
    return table.rows.some((row) => typeof row[column] === 'number')
  }

  static override styles = css`
    :host { display: flex; flex-direction: column; gap: 1rem; font-size: 15px; color: #1b1f24; }
    .head { display: flex; align-items: center; gap: 0.8rem; min-height: 2rem; }
    h2 { font-size: 1.15rem; margin: 0; }
    h3 { font-size: 1rem; margin: 0 0 0.3rem; }
    button { font: inherit; padding: 0.15rem 0.8rem; }
    button:focus-visible { outline: 3px solid #ffbf47; outline-offset: 1px; }
    .none { background: #fff; border: 1px solid #c9d0d9; border-radius: 4px; padding: 0.6rem 0.9rem; max-width: 48rem; }
    .none p { margin: 0 0 0.4rem; }
    .none dl { display: grid; grid-template-columns: max-content 1fr; gap: 0.3rem 1rem; margin: 0; }
    .none dd { margin: 0; }
    code { font-family: ui-monospace, 'SF Mono', Menlo, Consolas, monospace; font-size: 14px; background: #eef1f5; padding: 0.05rem 0.3rem; border-radius: 3px; }
    .problem { margin: 0; padding: 0.5rem 0.8rem; background: #fff1f0; border: 1px solid #e0b4b0; border-radius: 4px; }
    .pairs { display: grid; grid-template-columns: repeat(auto-fill, minmax(18rem, 1fr)); gap: 0.2rem 1.5rem; margin: 0; }
    .pairs div { display: flex; gap: 0.6rem; justify-content: space-between; border-bottom: 1px solid #e3e7ec; padding: 0.15rem 0; min-width: 0; }
    .pairs dt { color: #3d4450; overflow-wrap: anywhere; min-width: 0; }
    .pairs dd { margin: 0; overflow-wrap: break-word; text-align: right; }
    .scroll { overflow-x: auto; }
    table { border-collapse: collapse; background: #fff; }
    th, td { padding: 0.25rem 0.7rem; border-bottom: 1px solid #e3e7ec; text-align: left; white-space: nowrap; }
    thead th { background: #eef1f5; }
    .num { text-align: right; font-variant-numeric: tabular-nums; }
    .note { margin: 0.2rem 0 0.3rem; color: #3d4450; }
    .run { margin: 0; }
    .notes { margin: 0; padding-left: 1.3rem; color: #3d4450; }
    nav { display: flex; flex-wrap: wrap; gap: 0.3rem 0.5rem; }
    button.link { font: inherit; background: #eef1f5; border: 1px solid #c9d0d9; border-radius: 4px; padding: 0.1rem 0.6rem; cursor: pointer; }
    section { scroll-margin-top: 0.5rem; }
    section:focus { outline: none; }
    section:focus-visible { outline: 3px solid #ffbf47; }
    h4 { font-size: 0.95rem; margin: 0.6rem 0 0.2rem; }
    caption { text-align: left; font-weight: 600; padding: 0.3rem 0; caption-side: top; }
    .scroll + .scroll { margin-top: 0.6rem; }
    details summary { cursor: pointer; }
    details pre { margin: 0.3rem 0 0; font-family: ui-monospace, 'SF Mono', Menlo, Consolas, monospace; font-size: 14px; white-space: pre; text-align: left; }
    .flag { color: #a3001b; }
  `
}

customElements.define('lab-bench-view', LabBenchView)

declare global {
  interface HTMLElementTagNameMap {
    'lab-bench-view': LabBenchView
  }
}
