// Who is in the room and on which transports: one entry per person (a page
// is five members, one per transport), as many as fit in the header and then
// "+N more", which opens the whole list. Refreshed from the server when a
// join or leave notice arrives and every few seconds, so polling clients that
// silently went away disappear too.
import { LitElement, css, html, nothing, type PropertyValues } from 'lit'
import type { Member } from '../../../server/core/protocol.ts'
import type { Lab } from '../state/lab.ts'
import { peopleOf, type Person } from '../state/people.ts'
import { TRANSPORT_INFO, isTransportName } from '../../../server/core/names.ts'

const REFRESH_MS = 5000

const signature = (people: Person[]) => people.map((p) => `${p.name}\n${p.transports.join(' ')}`).join('\n\n')
const labelOf = (t: string) => (isTransportName(t) ? TRANSPORT_INFO[t].label : t)

export class LabPresence extends LitElement {
  static override properties = {
    lab: { attribute: false },
    _members: { state: true },
    _fits: { state: true },
    _staleSince: { state: true },
  }

  declare lab: Lab
  declare _members: Member[]
  /** How many people the header has room for; all of them until measured. */
  declare _fits: number
  /** When the list shown was last read, while the server cannot be reached: it is that old. */
  declare _staleSince: number | undefined
  private _readAt: number | undefined
  private _people: Person[] = []
  private _measuring = false
  private _timer: ReturnType<typeof setInterval> | undefined
  private _offs: Array<() => void> = []
  private readonly _resize = new ResizeObserver(() => this._remeasure())

  constructor() {
    super()
    this._members = []
    this._fits = Infinity
  }

  override connectedCallback(): void {
    super.connectedCallback()
    void this._refresh()
    this._timer = setInterval(() => void this._refresh(), REFRESH_MS)
    // Any one panel hearing a notice is enough; the WebSocket one hears it first.
    this._offs = [
      this.lab.clients.websocket.on('entry', ({ detail }) => {
        if (detail.entry.type !== 'message') void this._refresh()
      }),
      this.lab.clients.websocket.on('welcome', () => void this._refresh()),
    ]
    this.lab.addEventListener('room', this._onRoom)
    this.lab.wire.addEventListener('reachability', this._onReachability)
    this._resize.observe(this)
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback()
    clearInterval(this._timer)
    this._offs.forEach((off) => off())
    this.lab.removeEventListener('room', this._onRoom)
    this.lab.wire.removeEventListener('reachability', this._onReachability)
    this._resize.disconnect()
  }

  private _onRoom = () => void this._refresh()

  /** The meter, read every second, is the first to know: the list is marked old at once and read again on return. */
  private _onReachability = () => {
    if (this.lab.wire.reachable) void this._refresh()
    else this._markStale()
  }

  private _markStale(): void {
    this._staleSince ??= this._readAt ?? Date.now()
  }

  private async _refresh(): Promise<void> {
    try {
      const res = await fetch(`${this.lab.baseUrl}/api/rooms/${encodeURIComponent(this.lab.room)}/presence`)
      if (!res.ok) throw new Error(`presence answered ${res.status}`)
      this._members = (await res.json()) as Member[]
      this._readAt = Date.now()
      this._staleSince = undefined
    } catch {
      // Unreachable: keep the last list, and say how old it is rather than show it as live.
      this._markStale()
    }
  }

  /** Show everyone again, then keep those that fit: after the list or the header's width changed. */
  private _remeasure(): void {
    this._measuring = true
    this._fits = Infinity
    this.requestUpdate()
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (!changed.has('_members')) return
    const people = peopleOf(this._members)
    // The list is fetched again every few seconds: measure only when it says something new.
    if (signature(people) === signature(this._people)) return
    this._people = people
    this._measuring = true
    this._fits = Infinity
  }

  protected override updated(): void {
    // On the host too, as the panels do: the page (and a test) can tell a stale list without reading it.
    this.toggleAttribute('stale', this._staleSince !== undefined)
    if (!this._measuring) return
    const list = this.renderRoot.querySelector('ul.shown')
    if (!list) return
    const { right, top } = list.getBoundingClientRect()
    const items = [...list.querySelectorAll<HTMLElement>(':scope > li')]
    // Names that do not fit wrap onto lines out of sight: a name shows when it is whole and on the first line.
    const outOfSight = items.findIndex((li) => {
      const box = li.getBoundingClientRect()
      return box.right > right + 0.5 || box.top >= top + box.height / 2
    })
    const fitting = outOfSight === -1 ? items.length : outOfSight
    // Once "+N more" takes its place the list is narrower: measure again until what is shown fits.
    if (fitting < items.length) this._fits = fitting
    else this._measuring = false
  }

  /** A person: a dot per transport in its colour, then the name. */
  private _renderPerson(person: Person) {
    const on = person.transports.map(labelOf).join(', ')
    return html`<li title=${`${person.name}: ${on}`} aria-label=${`${person.name}, on ${on}`}>
      <span class="dots" aria-hidden="true"
        >${person.transports.map(
          (t) =>
            html`<span
              class="dot"
              style=${`background:${isTransportName(t) ? TRANSPORT_INFO[t].color : '#999'}`}
            ></span>`,
        )}</span
      >${person.name}
    </li>`
  }

  override render() {
    const people = this._people
    const shown = people.slice(0, this._fits)
    const hidden = people.length - shown.length
    const connections = this._members.length
    return html`
      <span
        class="count"
        title=${`${connections} ${connections === 1 ? 'connection' : 'connections'}: one per transport of each page`}
        >In <b>${this.lab.room}</b>: ${people.length} ${people.length === 1 ? 'person' : 'people'}</span
      >${
        this._staleSince === undefined
          ? nothing
          : html`<span
              class="stale-note"
              title="The server cannot be reached: this is who was here when it last answered"
              >as of ${new Date(this._staleSince).toLocaleTimeString()}</span
            >`
      }
      <ul class="shown" aria-label="People in ${this.lab.room}">
        ${shown.map((p) => this._renderPerson(p))}
      </ul>
      ${
        hidden > 0
          ? html`<details class="more">
              <summary>+${hidden} more</summary>
              <ul class="everyone" aria-label="Everyone in ${this.lab.room}">
                ${people.map((p) => this._renderPerson(p))}
              </ul>
            </details>`
          : nothing
      }
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
    .stale-note {
      white-space: nowrap;
      font-style: italic;
    }
    ul {
      display: flex;
      gap: 0.55rem;
      list-style: none;
      margin: 0;
      padding: 0;
      white-space: nowrap;
      /* One line of whole names: those that do not fit wrap out of sight rather than being cut in half (the count has them all). */
      flex-wrap: wrap;
      max-height: 1.45em;
    }
    ul.shown {
      flex: 1;
      min-width: 0;
      overflow: hidden;
    }
    li {
      display: inline-flex;
      align-items: center;
      gap: 0.25rem;
    }
    .dots {
      display: inline-flex;
      gap: 1px;
    }
    small {
      /* The header is dark: the page's muted grey there would be 2.5:1; --muted is the header's own. */
      color: var(--muted, #5b6370);
      font-size: 0.8rem;
    }
    .dot {
      width: 0.5rem;
      height: 0.5rem;
      border-radius: 50%;
      display: inline-block;
    }
    .more {
      position: relative;
      flex: none;
    }
    .more summary {
      cursor: pointer;
      white-space: nowrap;
      font-weight: 600;
    }
    /* The whole list, over the page below the header, until closed again. */
    .everyone {
      position: absolute;
      z-index: 10;
      right: 0;
      top: 1.6rem;
      flex-direction: column;
      gap: 0.2rem;
      max-height: 60vh;
      overflow-y: auto;
      padding: 0.5rem 0.8rem;
      background: #1d2733;
      border: 1px solid #4a5260;
      border-radius: 6px;
      box-shadow: 0 4px 12px rgb(0 0 0 / 30%);
    }
  `
}

customElements.define('lab-presence', LabPresence)

declare global {
  interface HTMLElementTagNameMap {
    'lab-presence': LabPresence
  }
}
