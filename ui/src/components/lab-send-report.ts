// What became of the last send, one line per transport it was meant for: a
// send over all five is five sends, and the server may take some and refuse
// others. A refusal shows the server's own code and message, so the class sees
// the same words curl would print.
import { LitElement, css, html, nothing } from 'lit'
import { TRANSPORT_INFO } from '../../../server/core/names.ts'
import type { SendOutcome } from '../clients/chat-client.ts'
import type { SendResult } from '../state/lab.ts'

export class LabSendReport extends LitElement {
  static override properties = {
    results: { attribute: false },
  }

  declare results: SendResult[]

  constructor() {
    super()
    this.results = []
  }

  override render() {
    if (!this.results.length) return nothing
    return html`<ul aria-label="What happened on each transport">
      ${this.results.map(
        ({ transport, outcome }) =>
          html`<li data-transport=${transport} class=${outcome.status} title=${hint(outcome)}>
            <b>${TRANSPORT_INFO[transport].label}:</b> ${describe(outcome)}
          </li>`,
      )}
    </ul>`
  }

  static override styles = css`
    ul {
      display: flex;
      flex-wrap: wrap;
      gap: 0.25rem 0.5rem;
      margin: 0.25rem 0 0;
      padding: 0;
      list-style: none;
      font-size: 0.85rem;
    }
    li {
      padding: 0.05rem 0.45rem;
      border-radius: 4px;
      background: #e8ebf0;
    }
    .sent {
      background: #d9f2e3;
      color: #125c2f;
    }
    .refused {
      background: #f6d7d7;
      color: #7a1c1c;
    }
    .not-joined,
    .no-answer {
      background: #fff1cc;
      color: #6b4d00;
    }
  `
}

/** One short line: what the server said, or why nothing was asked of it. */
function describe(outcome: SendOutcome): string {
  switch (outcome.status) {
    case 'sent':
      return outcome.seq === undefined ? 'sent' : `sent (#${outcome.seq})`
    case 'refused':
      return `refused${outcome.httpStatus ? ` (${outcome.httpStatus})` : ''}: ${outcome.code}: ${outcome.message}`
    case 'not-joined':
      if (outcome.offHere) return 'off in this tab, not sent'
      return outcome.state === 'closed' || outcome.state === 'idle'
        ? 'not joined, not sent'
        : `${outcome.state}, not sent`
    case 'no-answer':
      return `no answer: ${outcome.message}`
  }
}

function hint(outcome: SendOutcome): string {
  switch (outcome.status) {
    case 'sent':
      return 'The server took it: every member of the room gets it'
    case 'refused':
      return 'The server refused it: nobody got it'
    case 'not-joined':
      if (outcome.offHere) return 'Other tabs of the workbench hold the connections this transport needs'
      return 'This panel is not in the room, so nothing went out over it (Join puts it back)'
    case 'no-answer':
      return 'It went out but no answer came back: it may or may not have arrived'
  }
}

customElements.define('lab-send-report', LabSendReport)

declare global {
  interface HTMLElementTagNameMap {
    'lab-send-report': LabSendReport
  }
}
