// What each figure in a transport panel means, in words on the page: a
// projector and a touch screen show no tooltips. In presenter mode it keeps
// only the figures the panels still show, in large type.
import { LitElement, css, html } from 'lit'

interface Term {
  term: string
  means: string
  /** Shown in presenter mode too; the rest are the panels' secondary numbers, hidden there. */
  primary?: true
}

const TERMS: readonly Term[] = [
  { term: '↑ up · ↓ down', means: 'browser to server · server to browser', primary: true },
  { term: 'My bytes', means: "this panel's messages as the page sees them, no headers" },
  { term: 'Overhead', means: 'bytes that were not chat text: headers, framing, pings', primary: true },
  { term: 'Payload', means: 'the chat text itself, as it crossed the wire', primary: true },
  { term: 'Saved by deflate', means: 'what WebSocket compression saved' },
  { term: 'On the wire', means: 'every byte: overhead + payload' },
  { term: 'Requests me · all', means: "this panel's HTTP requests · everyone's" },
  { term: 'Overhead/msg', means: "the overhead share of this page's last few messages", primary: true },
  { term: 'Since load', means: 'the same share since the page opened (or the reset)' },
  { term: 'Idle per min', means: 'what this page costs a minute while nobody talks', primary: true },
  { term: 'Quiet seconds', means: 'the quiet time that figure was measured over' },
  { term: 'Conns · held', means: 'connections open · requests the server holds open', primary: true },
  { term: 'Latency', means: 'yours: send to arrival; ≈ others’: server to panel', primary: true },
]

export class LabCounterLegend extends LitElement {
  static override properties = {
    presenter: { type: Boolean, reflect: true },
  }

  declare presenter: boolean

  constructor() {
    super()
    this.presenter = false
  }

  override render() {
    const shown = this.presenter ? TERMS.filter((t) => t.primary) : TERMS
    return html`<section aria-labelledby="legend-title">
      <h2 id="legend-title">What the figures mean <span>(server figures: every client of that transport)</span></h2>
      <dl>
        ${shown.map(
          (t) =>
            html`<div>
              <dt>${t.term}</dt>
              <dd>${t.means}</dd>
            </div>`,
        )}
      </dl>
    </section>`
  }

  static override styles = css`
    :host {
      display: block;
      font-size: 0.8rem;
      color: #1b1f24;
    }
    /* Columns of one-line definitions: the whole legend costs the panels a few lines of height. */
    section {
      column-width: 22rem;
      column-gap: 1.5rem;
    }
    h2 {
      margin: 0;
      font-size: inherit;
    }
    h2 span {
      font-weight: normal;
      color: #3d4450;
    }
    dl {
      margin: 0;
    }
    dl > div {
      break-inside: avoid;
    }
    dt {
      display: inline;
      font-weight: 600;
    }
    dt::after {
      content: ':';
    }
    dd {
      display: inline;
      margin: 0 0 0 0.3rem;
      color: #3d4450;
    }
    /* Read from the back of a classroom: large type, in two columns. */
    :host([presenter]) {
      font-size: clamp(1rem, 1.15vw, 1.5rem);
    }
    :host([presenter]) section {
      column-count: 2;
      column-width: auto;
    }
    :host([presenter]) dd {
      color: #1b1f24;
    }
  `
}

customElements.define('lab-counter-legend', LabCounterLegend)

declare global {
  interface HTMLElementTagNameMap {
    'lab-counter-legend': LabCounterLegend
  }
}
