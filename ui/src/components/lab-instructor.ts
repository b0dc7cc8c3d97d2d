// The instructor's tab, like Socket.IO's Admin UI but for all five
// transports: who is in which room, over what, since when, how many bytes
// each connection has carried, the handshake that opened it, and a button to
// send one client away, and a broadcast to a room. Without an instructor code
// the server answers only its own machine, and anywhere else the tab says so;
// with one (GET /api/auth says instructorCode) the tab asks for it first and
// logs in as the instructor under the page's name: the actions then go with
// the instructor's cookie, from any machine.
import { LitElement, css, html, nothing } from 'lit'
import { TRANSPORT_INFO, type TransportName } from '../../../server/core/names.ts'
import type { Handshake, HandshakeSide, StreamTally } from '../../../server/wire/types.ts'
import { formatBytes } from '../format.ts'
import { SourceFollower, renderOn } from '../controllers/follow.ts'
import { refusalText } from '../state/auth.ts'
import type { Lab } from '../state/lab.ts'

/** How often the tab reads the server while it is shown. */
const REFRESH_MS = 1000

interface Member {
  clientId: string
  name: string
  transport: string
  connectedAt: number
  connectionId?: string
  bytes: StreamTally | null
  handshake: string | null
}

interface Room {
  room: string
  seq: number
  members: Member[]
}

interface Shown {
  member: Member
  handshake: Handshake | undefined
}

export class LabInstructor extends LitElement {
  static override properties = {
    lab: { attribute: false },
    _rooms: { state: true },
    _refused: { state: true },
    _failed: { state: true },
    _said: { state: true },
    _shown: { state: true },
    _loginRefused: { state: true },
    _broadcastSaid: { state: true },
  }

  declare lab: Lab | undefined
  declare _rooms: Room[] | undefined
  /** Not the server's own machine: the server refused the instructor's view. */
  declare _refused: boolean
  declare _failed: string | undefined
  /** The outcome of the last disconnect. */
  declare _said: string | undefined
  declare _shown: Shown | undefined
  /** The server's refusal of the instructor code. */
  declare _loginRefused: string | undefined
  /** The outcome of the last broadcast. */
  declare _broadcastSaid: string | undefined
  private readonly _auth = new SourceFollower<Lab>(this, renderOn(this, 'auth'))
  private _timer: ReturnType<typeof setInterval> | undefined
  private _reading = false

  constructor() {
    super()
    this.lab = undefined
    this._rooms = undefined
    this._refused = false
    this._failed = undefined
    this._said = undefined
    this._shown = undefined
    this._loginRefused = undefined
    this._broadcastSaid = undefined
  }

  protected override willUpdate(): void {
    this._auth.follow(this.lab)
  }

  /** There is an instructor code and this page has not logged in with it: its actions would be refused. */
  private get _mustLogIn(): boolean {
    const auth = this.lab?.auth
    return auth?.instructorCode === true && auth.session?.role !== 'instructor'
  }

  override connectedCallback(): void {
    super.connectedCallback()
    void this._refresh()
    this._timer = setInterval(() => void this._refresh(), REFRESH_MS)
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback()
    clearInterval(this._timer)
  }

  private async _refresh(): Promise<void> {
    if (!this.lab || this._reading || this._mustLogIn) return
    this._reading = true
    try {
      const res = await fetch(`${this.lab.baseUrl}/api/instructor/rooms`, { cache: 'no-store' })
      this._refused = res.status === 403
      if (res.ok) this._rooms = ((await res.json()) as { rooms: Room[] }).rooms
      this._failed = res.ok || this._refused ? undefined : `the server answered ${res.status}`
    } catch (error) {
      this._failed = error instanceof Error ? error.message : String(error)
    } finally {
      this._reading = false
    }
  }

  private async _disconnect(member: Member): Promise<void> {
    const who = `${member.name}'s ${labelOf(member.transport)}`
    try {
      const res = await fetch(`${this.lab!.baseUrl}/api/instructor/disconnect`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ clientId: member.clientId }),
      })
      const body = (await res.json()) as { message?: string }
      this._said = res.ok ? `${who} was disconnected.` : `${who} was not disconnected: ${body.message ?? res.status}`
    } catch (error) {
      this._said = `${who} was not disconnected: ${error instanceof Error ? error.message : String(error)}`
    }
    if (this._shown?.member.clientId === member.clientId) this._shown = undefined
    await this._refresh()
  }

  private async _onLogin(event: SubmitEvent): Promise<void> {
    event.preventDefault()
    if (!this.lab) return
    const input = this.renderRoot.querySelector<HTMLInputElement>('#instructor-code')!
    const result = await this.lab.loginAsInstructor(input.value)
    this._loginRefused = result.ok ? undefined : refusalText(result)
    if (result.ok) await this._refresh()
  }

  private async _onBroadcast(event: SubmitEvent): Promise<void> {
    event.preventDefault()
    const form = event.target as HTMLFormElement
    const room = form.querySelector<HTMLInputElement>('#broadcast-room')!.value.trim()
    const text = form.querySelector<HTMLInputElement>('#broadcast-text')!
    try {
      const res = await fetch(`${this.lab!.baseUrl}/api/instructor/broadcast`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ room, text: text.value }),
      })
      const body = (await res.json()) as { seq?: number; message?: string }
      this._broadcastSaid = res.ok
        ? `Sent to ${room} (message ${body.seq ?? '?'} of its log).`
        : `Not sent to ${room}: ${body.message ?? res.status}`
      if (res.ok) text.value = ''
    } catch (error) {
      this._broadcastSaid = `Not sent to ${room}: ${error instanceof Error ? error.message : String(error)}`
    }
  }

  private async _showHandshake(member: Member): Promise<void> {
    if (this._shown?.member.clientId === member.clientId) {
      this._shown = undefined
      return
    }
    let handshake: Handshake | undefined
    if (member.handshake) {
      const res = await fetch(`${this.lab!.baseUrl}${member.handshake}`, { cache: 'no-store' })
      if (res.ok) handshake = ((await res.json()) as Record<string, Handshake>)[member.transport]
    }
    this._shown = { member, handshake }
  }

  override render() {
    return html`
      <h2>Instructor</h2>
      ${
        this._mustLogIn
          ? this._renderLogin()
          : this._refused
            ? html`<p class="refused" role="status">
                These instructor tools work only on the server's own machine, since it was started without an
                INSTRUCTOR_CODE. Open the workbench there, at
                http://localhost:${new URL(this.lab?.baseUrl ?? location.origin).port || '80'}.
              </p>`
            : this._renderRooms()
      }
    `
  }

  private _renderLogin() {
    return html`<form class="login" @submit=${this._onLogin}>
      <p>
        This server has an instructor code: its actions (reset for everyone, disconnect, broadcast) need the
        instructor's login. You log in as ${this.lab?.name || 'this page'}; the lab keeps the login in a cookie this
        page's scripts cannot read.
      </p>
      <label for="instructor-code">Instructor code</label>
      <input id="instructor-code" type="password" required autocomplete="off" />
      <button type="submit">Log in as instructor</button>
      ${this._loginRefused ? html`<p class="failed" role="alert">${this._loginRefused}</p>` : nothing}
    </form>`
  }

  private _renderBroadcast() {
    return html`<form class="broadcast" aria-label="Broadcast" @submit=${this._onBroadcast}>
      <h3>Broadcast</h3>
      <label for="broadcast-room">Room</label>
      <input id="broadcast-room" required size="10" .value=${this.lab?.room ?? 'lobby'} />
      <label for="broadcast-text">Message</label>
      <input id="broadcast-text" required size="40" />
      <button type="submit">Send to the room</button>
      ${this._broadcastSaid ? html`<p class="said" role="status">${this._broadcastSaid}</p>` : nothing}
    </form>`
  }

  private _renderRooms() {
    const rooms = this._rooms
    const occupied = rooms?.filter((room) => room.members.length > 0) ?? []
    const empty = rooms?.filter((room) => room.members.length === 0) ?? []
    return html`
      <p class="about">
        Everyone connected to this server, room by room, read every second. Bytes are each connection's own, both ways,
        headers and framing included.
      </p>
      ${this._failed ? html`<p class="failed" role="status">Could not read the server: ${this._failed}</p>` : nothing}
      ${this._said ? html`<p class="said" role="status">${this._said}</p>` : nothing} ${this._renderBroadcast()}
      ${rooms === undefined ? html`<p>Reading the server…</p>` : nothing}
      ${occupied.map((room) => this._renderRoom(room))}
      ${empty.length > 0 ? html`<p class="empty">Rooms with no one in them: ${empty.map((r) => r.room).join(', ')}</p>` : nothing}
      ${this._shown ? this._renderHandshake(this._shown) : nothing}
    `
  }

  private _renderRoom(room: Room) {
    const own = new Set(Object.values(this.lab?.clients ?? {}).map((client) => client.welcome?.clientId))
    return html`<table>
      <caption>
        ${room.room}: ${room.members.length} ${room.members.length === 1 ? 'member' : 'members'}
      </caption>
      <thead>
        <tr>
          <th scope="col">Name</th>
          <th scope="col">Transport</th>
          <th scope="col">Connection</th>
          <th scope="col">Since</th>
          <th scope="col" class="num">Bytes in</th>
          <th scope="col" class="num">Bytes out</th>
          <th scope="col" aria-label="Actions"></th>
        </tr>
      </thead>
      <tbody>
        ${room.members.map((member) => {
          const who = `${member.name}'s ${labelOf(member.transport)}`
          return html`<tr>
            <td>${member.name}${own.has(member.clientId) ? html` <span class="own">(this page)</span>` : nothing}</td>
            <td>
              <span class="swatch" style="background: ${colorOf(member.transport)}"></span>${labelOf(member.transport)}
            </td>
            <td>${member.connectionId ?? '—'}</td>
            <td>${new Date(member.connectedAt).toLocaleTimeString()}</td>
            <td class="num">${formatBytes(member.bytes?.bytesIn)}</td>
            <td class="num">${formatBytes(member.bytes?.bytesOut)}</td>
            <td>
              <div class="actions">
                <button
                  type="button"
                  aria-label="Show ${who} handshake"
                  aria-pressed=${this._shown?.member.clientId === member.clientId ? 'true' : 'false'}
                  ?disabled=${!member.handshake}
                  @click=${() => this._showHandshake(member)}
                >
                  Handshake
                </button>
                <button
                  type="button"
                  class="danger"
                  aria-label="Disconnect ${who}"
                  @click=${() => this._disconnect(member)}
                >
                  Disconnect
                </button>
              </div>
            </td>
          </tr>`
        })}
      </tbody>
    </table>`
  }

  private _renderHandshake({ member, handshake }: Shown) {
    const who = `${member.name}'s ${labelOf(member.transport)}`
    return html`<section class="handshake" aria-label="${who} handshake">
      <h3>${who}: the request that opened it, on connection ${member.connectionId ?? '—'}</h3>
      ${
        handshake
          ? html`<pre>${side(handshake.request)}</pre>
              <pre>${handshake.response ? side(handshake.response) : 'No response written yet (a held request).'}</pre>`
          : html`<p>The server no longer keeps this handshake.</p>`
      }
    </section>`
  }

  static override styles = css`
    :host {
      display: flex;
      flex-direction: column;
      gap: 0.6rem;
      font-size: 15px;
    }
    h2,
    h3,
    p {
      margin: 0;
    }
    h2 {
      font-size: 1.2rem;
    }
    h3 {
      font-size: 1rem;
    }
    .about,
    .empty {
      color: #4a5260;
      font-size: 0.9rem;
    }
    .refused,
    .failed {
      padding: 0.5rem 0.8rem;
      border-left: 4px solid #b35c00;
      background: #fff4e5;
      color: #5c2e00;
    }
    .said {
      font-weight: 600;
    }
    table {
      border-collapse: collapse;
      width: 100%;
    }
    caption {
      text-align: left;
      font-weight: 600;
      padding: 0.3rem 0;
    }
    th,
    td {
      text-align: left;
      padding: 0.25rem 0.5rem;
      border-bottom: 1px solid #d8dce3;
    }
    .num {
      text-align: right;
      font-variant-numeric: tabular-nums;
    }
    .actions {
      display: flex;
      gap: 0.4rem;
      justify-content: flex-end;
    }
    button {
      font: inherit;
      padding: 0.15rem 0.6rem;
    }
    button.danger {
      color: #8a1c1c;
    }
    .own {
      color: #4a5260;
      font-size: 0.85rem;
    }
    .swatch {
      display: inline-block;
      width: 0.7rem;
      height: 0.7rem;
      margin-right: 0.4rem;
      border-radius: 2px;
    }
    .login,
    .broadcast {
      display: flex;
      flex-wrap: wrap;
      align-items: center;
      gap: 0.4rem 0.6rem;
    }
    .login p,
    .broadcast h3,
    .broadcast .said {
      flex-basis: 100%;
    }
    input {
      font: inherit;
      padding: 0.15rem 0.4rem;
    }
    .handshake {
      display: flex;
      flex-direction: column;
      gap: 0.4rem;
    }
    pre {
      margin: 0;
      padding: 0.5rem;
      background: #f4f5f7;
      white-space: pre-wrap;
      word-break: break-all;
      font-size: 0.85rem;
    }
  `
}

function labelOf(transport: string): string {
  return TRANSPORT_INFO[transport as TransportName]?.label ?? transport
}

function colorOf(transport: string): string {
  return TRANSPORT_INFO[transport as TransportName]?.color ?? '#888'
}

/** A request or response head as it went over the wire: the start line, then one header a line. */
function side(head: HandshakeSide): string {
  return [head.startLine, ...head.headers.map(([name, value]) => `${name}: ${value}`)].join('\n')
}

customElements.define('lab-instructor', LabInstructor)

declare global {
  interface HTMLElementTagNameMap {
    'lab-instructor': LabInstructor
  }
}
