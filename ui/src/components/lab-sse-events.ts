// The page's SSE stream as a table of events, like DevTools' EventStream tab:
// each event's id, type (its event: field), data and the time it arrived.
import { LitElement, css, html } from 'lit'
import type { ChatClient } from '../clients/chat-client.ts'
import type { SseClient } from '../clients/sse.ts'
import { FrameFeed } from '../controllers/frame-feed.ts'
import { formatClock } from '../inspector/inspect.ts'
import { inspectorTable } from '../inspector-table.ts'

export class LabSseEvents extends LitElement {
  static override properties = {
    client: { attribute: false },
  }

  /** The page's SSE client (a SseClient: it keeps the events). */
  declare client: ChatClient | undefined
  // Every event the client receives is also one of its frames: one render per animation frame at most.
  private readonly _feed = new FrameFeed(this)

  constructor() {
    super()
    this.client = undefined
  }

  protected override willUpdate(): void {
    this._feed.follow(this.client)
  }

  override render() {
    const events = (this.client as SseClient | undefined)?.events ?? []
    return html`
      ${
        events.length === 0
          ? html`<p class="placeholder">No events yet: they are listed here as the stream delivers them.</p>`
          : html`<div class="scroller" tabindex="0" role="region" aria-label="Events">
              <table>
                <thead>
                  <tr>
                    <th scope="col">Id</th>
                    <th scope="col">Type</th>
                    <th scope="col">Data</th>
                    <th scope="col">Time</th>
                  </tr>
                </thead>
                <tbody>
                  ${events.map(
                    (event) =>
                      html`<tr>
                        <td><code>${event.id}</code></td>
                        <td>${event.type}</td>
                        <td class="data"><code>${event.data}</code></td>
                        <td>${formatClock(event.at)}</td>
                      </tr>`,
                  )}
                </tbody>
              </table>
            </div>`
      }
      <p class="note">
        The id is EPOCH-SEQ: after a drop, EventSource sends the last one back as Last-Event-ID and the server resumes
        from it. The server's heartbeats are comment lines (": …"), not events: EventSource never hands them to the
        page, so they are not listed here.
      </p>
    `
  }

  static override styles = [
    inspectorTable,
    css`
      table {
        table-layout: fixed;
      }
      td {
        vertical-align: top;
      }
      th:nth-child(1) {
        width: 10rem;
      }
      th:nth-child(2) {
        width: 6rem;
      }
      th:nth-child(4) {
        width: 7.5rem;
      }
      td.data code {
        display: block;
        white-space: nowrap;
        overflow: hidden;
        text-overflow: ellipsis;
      }
      code {
        overflow-wrap: anywhere;
      }
    `,
  ]
}

customElements.define('lab-sse-events', LabSseEvents)

declare global {
  interface HTMLElementTagNameMap {
    'lab-sse-events': LabSseEvents
  }
}
