// The latest `npm run bench` results, as the server serves them at /api/bench,
// drawn from the report's own sections (benchmarks/report/sections.ts): the
// same tables, in the same order, as latest.md. A file of another version is
// named as such, with how to write a new one, rather than guessed at.
import { LitElement, css, html, nothing, type TemplateResult } from 'lit'
import { Task, TaskStatus } from '@lit/task'
import type { BenchResults } from '../../../benchmarks/schema.ts'
import type { Block, ReportSection } from '../../../benchmarks/report/sections.ts'
import type { Table } from '../../../benchmarks/report/tables.ts'
import { formatNumber } from '../../../benchmarks/report/format.ts'
import { readBenchAnswer, RESULTS_VERSION, type BenchAnswer } from '../bench/results.ts'
import { inlineMarks } from '../bench/inline.ts'

export class LabBenchView extends LitElement {
  static override properties = {
    baseUrl: { type: String },
  }

  declare baseUrl: string

  /** Runs again when baseUrl changes or Reload is pressed; a new run aborts the one before. */
  private readonly _results = new Task(this, {
    task: async ([baseUrl], { signal }): Promise<BenchAnswer> => {
      const res = await fetch(`${baseUrl}/api/bench`, { signal, cache: 'no-store' })
      return readBenchAnswer(res, await res.json().catch(() => undefined))
    },
    args: () => [this.baseUrl] as const,
  })

  constructor() {
    super()
    this.baseUrl = ''
  }

  override connectedCallback(): void {
    super.connectedCallback()
    // Put back in the page after a stay out of it: the file may have been written since, and a fetch may have been cut.
    if (this.hasUpdated) void this._results.run()
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback()
    this._results.abort()
  }

  private _onReloadClick(): void {
    void this._results.run()
  }

  override render() {
    const pending = this._results.status === TaskStatus.PENDING
    return html`
      <div class="head">
        <h2>Benchmark results</h2>
        <button type="button" @click=${this._onReloadClick} ?disabled=${pending}>Reload</button>
        <span role="status">${pending ? 'Loading…' : ''}</span>
      </div>
      ${this._results.render({
        complete: (answer) => this._renderAnswer(answer),
        error: (error) =>
          html`<p class="problem">
            Could not load the results: ${error instanceof Error ? error.message : String(error)}
          </p>`,
      })}
    `
  }

  private _renderAnswer(answer: BenchAnswer) {
    switch (answer.kind) {
      case 'none':
        return this._renderNone()
      case 'other-version':
        return this._renderOtherVersion(answer.version)
      case 'report':
        return this._renderReport(answer.results, answer.intro, answer.sections)
    }
  }

  private _renderNone() {
    return html`
      <div class="none">
        <p>
          <strong>No benchmark results yet.</strong> Run the benchmark in a terminal at the project's root, then press
          Reload:
        </p>
        ${this._runCommands()}
      </div>
    `
  }

  private _renderOtherVersion(version: unknown) {
    const which =
      typeof version === 'number' || typeof version === 'string' ? `results version ${version}` : 'no results version'
    return html`
      <div class="none problem">
        <p>
          <strong>These results were written by another version of the benchmark</strong> (${which}; this page reads
          version ${RESULTS_VERSION}), so this page does not show them. Run <code>npm run bench</code> to write them
          again, then press Reload:
        </p>
        ${this._runCommands()}
      </div>
    `
  }

  private _runCommands() {
    return html`
      <dl>
        <dt><code>npm run bench</code></dt>
        <dd>the full run, a few minutes</dd>
        <dt><code>npm run bench -- --quick</code></dt>
        <dd>a shorter run, under a minute, for a first look</dd>
      </dl>
    `
  }

  private _renderReport(results: BenchResults, intro: string, sections: ReportSection[]) {
    return html`
      <p class="run">${inlineMarks(intro)}</p>
      <nav aria-label="Benchmark sections">
        ${sections.map((sec) => html`<button type="button" class="link" @click=${() => this._scrollTo(sec.id)}>${sec.title}</button>`)}
      </nav>
      ${sections.map(
        (sec) => html`
          <section id="bench-${sec.id}" aria-labelledby="bench-${sec.id}-heading" tabindex="-1">
            <h3 id="bench-${sec.id}-heading">${sec.title}</h3>
            ${sec.id === 'latency' ? this._latencyNote() : nothing}
            ${sec.blocks.map((block) => this._renderBlock(block))}
            ${sec.id === 'environment' ? this._runOptions(results) : nothing}
          </section>
        `,
      )}
    `
  }

  /** Why these figures are not the Race tab's: the page's own words, beside the report's. */
  private _latencyNote() {
    return html`<p class="note">
      Not the Race tab's milliseconds: here a load client in Node, on the server's own machine (over loopback), timed
      every delivery from send to receive with <code>perf_hooks</code>, in µs, while many receivers were being served.
      The Race tab times one message at a time in a browser, on whatever machine and network it runs, from the send to
      its panel handling the message: the browser's timers, event loop and rendering are in that figure.
    </p>`
  }

  private _scrollTo(id: string): void {
    const section = this.renderRoot.querySelector<HTMLElement>(`#bench-${id}`)
    section?.scrollIntoView({ block: 'start' })
    section?.focus({ preventScroll: true })
  }

  private _renderBlock(block: Block): TemplateResult | typeof nothing {
    switch (block.kind) {
      case 'paragraph':
        return html`<p class="note">${inlineMarks(block.text)}</p>`
      case 'heading':
        return html`<h4>${block.text}</h4>`
      case 'table':
        return this._renderTable(block.table)
      case 'list':
        return block.items.length > 0
          ? html`<ul class="notes">
              ${block.items.map((item) => html`<li>${inlineMarks(item)}</li>`)}
            </ul>`
          : nothing
      case 'pairs':
        return this._pairs(block.pairs)
      // The charts are SVG files beside latest.md, which the server does not serve.
      case 'chart':
        return nothing
    }
  }

  private _renderTable(table: Table) {
    const num = (i: number) => (table.align[i] === 'right' ? 'num' : '')
    // A wide table scrolls sideways inside its box: focusable, so a keyboard can scroll it too.
    return html`
      <div class="scroll" tabindex="0">
        <table>
          <thead>
            <tr>
              ${table.headers.map((h, i) => html`<th scope="col" class=${num(i)}>${h}</th>`)}
            </tr>
          </thead>
          <tbody>
            ${table.rows.map(
              (row) =>
                html`<tr>
                  ${row.map((cell, i) =>
                    i === 0 ? html`<th scope="row">${cell}</th>` : html`<td class=${num(i)}>${cell}</td>`,
                  )}
                </tr>`,
            )}
          </tbody>
        </table>
      </div>
    `
  }

  /** How the run was asked for, which the report leaves to latest.json: the scenarios, counts and windows. */
  private _runOptions(results: BenchResults) {
    const value = (v: unknown): string =>
      typeof v === 'number'
        ? formatNumber(v)
        : typeof v === 'boolean'
          ? v
            ? 'yes'
            : 'no'
          : Array.isArray(v)
            ? v.map(value).join(', ')
            : String(v)
    const options = Object.entries(results.options).map(([key, v]): [string, string] => [key, value(v)])
    return html`<h4>Run options</h4>
      ${this._pairs(options)}`
  }

  private _pairs(pairs: Array<[string, string]>) {
    return html`<dl class="pairs">
      ${pairs.map(
        ([key, value]) =>
          html`<div>
            <dt>${key}</dt>
            <dd>${value}</dd>
          </div>`,
      )}
    </dl>`
  }

  static override styles = css`
    :host {
      display: flex;
      flex-direction: column;
      gap: 1rem;
      font-size: 15px;
      color: #1b1f24;
    }
    .head {
      display: flex;
      align-items: center;
      gap: 0.8rem;
      min-height: 2rem;
    }
    h2 {
      font-size: 1.15rem;
      margin: 0;
    }
    h3 {
      font-size: 1rem;
      margin: 0 0 0.3rem;
    }
    button {
      font: inherit;
      padding: 0.15rem 0.8rem;
    }
    button:focus-visible {
      outline: 3px solid #ffbf47;
      outline-offset: 1px;
    }
    .none {
      background: #fff;
      border: 1px solid #c9d0d9;
      border-radius: 4px;
      padding: 0.6rem 0.9rem;
      max-width: 48rem;
    }
    .none p {
      margin: 0 0 0.4rem;
    }
    .none dl {
      display: grid;
      grid-template-columns: max-content 1fr;
      gap: 0.3rem 1rem;
      margin: 0;
    }
    .none dd {
      margin: 0;
    }
    code {
      font-family: ui-monospace, 'SF Mono', Menlo, Consolas, monospace;
      font-size: 14px;
      background: #eef1f5;
      padding: 0.05rem 0.3rem;
      border-radius: 3px;
    }
    .problem {
      margin: 0;
      padding: 0.5rem 0.8rem;
      background: #fff1f0;
      border: 1px solid #e0b4b0;
      border-radius: 4px;
    }
    .pairs {
      display: grid;
      grid-template-columns: repeat(auto-fill, minmax(18rem, 1fr));
      gap: 0.2rem 1.5rem;
      margin: 0;
    }
    .pairs div {
      display: flex;
      gap: 0.6rem;
      justify-content: space-between;
      border-bottom: 1px solid #e3e7ec;
      padding: 0.15rem 0;
      min-width: 0;
    }
    .pairs dt {
      color: #3d4450;
    }
    .pairs dd {
      margin: 0;
      overflow-wrap: break-word;
      text-align: right;
    }
    .scroll {
      overflow-x: auto;
    }
    table {
      border-collapse: collapse;
      background: #fff;
    }
    th,
    td {
      padding: 0.25rem 0.7rem;
      border-bottom: 1px solid #e3e7ec;
      text-align: left;
      white-space: nowrap;
    }
    thead th {
      background: #eef1f5;
    }
    .num {
      text-align: right;
      font-variant-numeric: tabular-nums;
    }
    .note {
      margin: 0.2rem 0 0.3rem;
      color: #3d4450;
      max-width: 70rem;
    }
    .run {
      margin: 0;
    }
    .notes {
      margin: 0.2rem 0 0.3rem;
      padding-left: 1.3rem;
      color: #3d4450;
      max-width: 70rem;
    }
    .notes li + li {
      margin-top: 0.2rem;
    }
    nav {
      display: flex;
      flex-wrap: wrap;
      gap: 0.3rem 0.5rem;
    }
    button.link {
      font: inherit;
      background: #eef1f5;
      border: 1px solid #c9d0d9;
      border-radius: 4px;
      padding: 0.1rem 0.6rem;
      cursor: pointer;
    }
    section {
      scroll-margin-top: 0.5rem;
    }
    section:focus {
      outline: none;
    }
    section:focus-visible {
      outline: 3px solid #ffbf47;
    }
    .scroll:focus-visible {
      outline: 3px solid #ffbf47;
      box-shadow: 0 0 0 6px #1b1f24;
    }
    h4 {
      font-size: 0.95rem;
      margin: 0.6rem 0 0.2rem;
    }
  `
}

customElements.define('lab-bench-view', LabBenchView)

declare global {
  interface HTMLElementTagNameMap {
    'lab-bench-view': LabBenchView
  }
}
