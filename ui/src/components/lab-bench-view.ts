// The latest `npm run bench` results, as the server serves them at /api/bench.
// The results format is read defensively (bench-tables.ts): whatever the
// benchmark writes shows up as an environment block and tables, and a shape
// this page has not seen never breaks the tab.
import { LitElement, css, html, nothing, type PropertyValues, type ReactiveController, type ReactiveControllerHost } from 'lit'
import { extractBench, formatCell, type BenchView, type Cell, type Table } from './bench-tables.ts'

type BenchState =
  | { status: 'loading' }
  | { status: 'none'; message: string }
  | { status: 'failed'; message: string }
  | { status: 'loaded'; body: unknown }

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
    return this._renderView(extractBench(body))
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
