// Who is in the room and on which transport. Refreshed from the server when a
// join or leave notice arrives and every few seconds, so polling clients that
// silently went away disappear too.
import { LitElement, css, html } from 'lit'
import type { Member } from '../../../server/core/protocol.ts'
import type { Lab } from '../state/lab.ts'
import { TRANSPORT_INFO, isTransportName } from '../../../server/core/names.ts'

const REFRESH_MS = 5000
const SHOWN = 30

export class LabPresence extends LitElement {
  static override properties = {
    lab: { attribute: false },
    _members: { state: true },
  }

  declare lab: Lab
  declare _members: Member[]
  private _timer: ReturnType<typeof setInterval> | undefined
  private _offs: Array<() => void> = []

  constructor() {
    super()
    this._members = []
  }

  override connectedCallback(): void {
    super.connectedCallback()
    void this._refresh()
    this._timer = setInterval(() => void this._refresh(), REFRESH_MS)
    // Any one panel hearing a notice is enough; the WebSocket one hears it first.
    this._offs = [
      this.lab.clients.websocket.on('entry', ({ detail }) => {
        if (detail.entry.type === 'notice') void this._refresh()
      }),
      this.lab.clients.websocket.on('welcome', () => void this._refresh()),
    ]
    this.lab.addEventListener('room', this._onRoom)
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback()
    clearInterval(this._timer)
    this._offs.forEach((off) => off())
    this.lab.removeEventListener('room', this._onRoom)
  }

  private _onRoom = () => void this._refresh()

  private async _refresh(): Promise<void> {
    try {
      const res = await fetch(`${this.lab.baseUrl}/api/rooms/${encodeURIComponent(this.lab.room)}/presence`)
      if (res.ok) this._members = (await res.json()) as Member[]
    } catch {
      // Offline for a moment: keep the last list.
    }
  }

  /** A member: a dot in its transport's colour, the name, the transport. */
  private _renderMember(m: Member) {
    const title = `${m.name} on ${isTransportName(m.transport) ? TRANSPORT_INFO[m.transport].label : m.transport}`
    const dot = `background:${isTransportName(m.transport) ? TRANSPORT_INFO[m.transport].color : '#999'}`
    return html`<li title=${title}><span class="dot" style=${dot}></span>${m.name} <small>${m.transport}</small></li>`
  }

  override render() {
    const shown = this._members.slice(0, SHOWN)
    return html`
      <span class="count">In <b>${this.lab.room}</b>: ${this._members.length}</span>
      <ul aria-label="Members of ${this.lab.room}">
        ${shown.map((m) => this._renderMember(m))}
        ${this._members.length > SHOWN ? html`<li>and ${this._members.length - SHOWN} more</li>` : ''}
      </ul>
    `
  }

  static override styles = css`
    :host {
      display: flex;
      align-items: center;
      gap: 0.6rem;
      min-width: 0;
      font-size: 0.85rem;
    }
    .count {
      white-space: nowrap;
    }
    ul {
      display: flex;
      gap: 0.6rem;
      list-style: none;
      margin: 0;
      padding: 0;
      overflow: hidden;
      white-space: nowrap;
      /* One line of whole names: those that do not fit wrap out of sight rather than being cut in half (the count has them all). */
      flex-wrap: wrap;
      max-height: 1.45em;
    }
    li {
      display: inline-flex;
      align-items: center;
      gap: 0.25rem;
    }
    small {
      /* The header is dark: the page's muted grey there would be 2.5:1; --muted is the header's own. */
      color: var(--muted, #5b6370);
      font-size: 0.8rem;
    }
    .dot {
      width: 0.6rem;
      height: 0.6rem;
      border-radius: 50%;
      display: inline-block;
    }
  `
}

customElements.define('lab-presence', LabPresence)

declare global {
  interface HTMLElementTagNameMap {
    'lab-presence': LabPresence
  }
}
