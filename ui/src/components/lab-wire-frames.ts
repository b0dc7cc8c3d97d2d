// A WebSocket's frames as the server read them off the wire: what a page
// script never sees (FIN, RSV1, opcode, the mask, the payload length, the
// header's own bytes, ping/pong, a close's code) for this page's /ws or
// Socket.IO client, with each Socket.IO frame's packet type named as the
// frame log names it, so the two tables line up.
import { LitElement, css, html, nothing } from 'lit'
import type { ChatClient } from '../clients/chat-client.ts'
import { ENGINE_IO_TYPES, SOCKET_IO_TYPES } from '../clients/engine-io.ts'
import { SourceFollower } from '../controllers/follow.ts'
import { formatClock } from '../inspector/inspect.ts'
import { inspectorTable } from '../inspector-table.ts'
import type { ConnectionFrames, FrameHeader } from '../../../server/wire/types.ts'

/** New frames are read again at most this often: the frames endpoint is no place for a busy loop. */
const REFRESH_MS = 1000

export class LabWireFrames extends LitElement {
  static override properties = {
    client: { attribute: false },
    baseUrl: { type: String },
    _read: { state: true },
    _status: { state: true },
  }

  declare client: ChatClient | undefined
  declare baseUrl: string
  declare _read: ConnectionFrames | undefined
  declare _status: string
  private _timer: ReturnType<typeof setTimeout> | undefined
  private _loading = false
  // A welcome is a new connection; a frame the client saw means the server has new headers to show.
  private readonly _follow = new SourceFollower<ChatClient>(this, (client) => {
    const offWelcome = client.on('welcome', () => this._load())
    const offFrame = client.on('frame', () => this._schedule())
    this._load()
    return () => {
      offWelcome()
      offFrame()
      clearTimeout(this._timer)
      this._timer = undefined
    }
  })

  constructor() {
    super()
    this.client = undefined
    this.baseUrl = location.origin
    this._read = undefined
    this._status = ''
  }

  protected override willUpdate(): void {
    this._follow.follow(this.client)
  }

  private _schedule(): void {
    this._timer ??= setTimeout(() => {
      this._timer = undefined
      this._load()
    }, REFRESH_MS)
  }

  private _load(): void {
    const id = this.client?.connectionId
    if (id === undefined || this._loading) return
    this._loading = true
    void fetch(this.client!.withQuery(`${this.baseUrl}/api/wire/frames/${encodeURIComponent(id)}`), {
      cache: 'no-store',
    })
      .then(async (res) => {
        if (res.status === 404) {
          this._read = undefined
          this._status =
            this.client?.transport === 'socket.io'
              ? SOCKET_IO_POLLING
              : 'The server keeps no frames for this connection any more.'
        } else if (!res.ok) this._status = `The server answered ${res.status}.`
        else {
          this._read = (await res.json()) as ConnectionFrames
          this._status = ''
        }
      })
      .catch((error: unknown) => (this._status = `Could not load the frames: ${String(error)}`))
      .finally(() => (this._loading = false))
  }

  override render() {
    const read = this._read
    if (!read || read.connectionId !== this.client?.connectionId)
      return html`<p class="placeholder" role="status">${this._status || 'Waiting for this client to connect…'}</p>`
    const hidden = read.seen.in + read.seen.out - read.frames.length
    return html`
      <p class="about">
        The last ${read.kept} frames each way on connection ${read.connectionId}${read.open ? '' : ' (closed)'}.
        ${hidden > 0 ? `${hidden} older frames are not kept.` : ''}
        <button type="button" @click=${() => this._load()}>Refresh</button>
      </p>
      <div class="scroller" tabindex="0" role="region" aria-label="Frame headers">
        <table>
          <thead>
            <tr>
              <th scope="col">#</th>
              <th scope="col">Way</th>
              <th scope="col">Time (server)</th>
              <th scope="col">Opcode</th>
              <th scope="col">FIN</th>
              <th scope="col">RSV1</th>
              <th scope="col">Mask</th>
              <th scope="col">Length</th>
              <th scope="col">Header bytes</th>
              <th scope="col">What it is</th>
            </tr>
          </thead>
          <tbody>
            ${read.frames.map((frame) => this._renderFrame(frame))}
          </tbody>
        </table>
      </div>
      <p class="note">
        Way ↑ is from this page to the server: the browser masks every frame it sends.
        ${
          this.client?.transport === 'websocket'
            ? 'The server pings now and then; the browser answers with a pong by itself, so the frame log above never shows them.'
            : "Socket.IO's own pings are text frames (EIO 2, EIO 3), so the frame log shows them too."
        }
      </p>
    `
  }

  private _renderFrame(frame: FrameHeader) {
    const flag = (on: boolean) => (on ? '1' : '0')
    return html`<tr class=${frame.kind}>
      <td>${frame.n}</td>
      <td>${frame.dir === 'in' ? '↑ to server' : '↓ to page'}</td>
      <td>${formatClock(frame.at)}</td>
      <td>${frame.opcode} ${frame.kind}</td>
      <td>${flag(frame.fin)}</td>
      <td>${flag(frame.rsv1)}</td>
      <td>${flag(frame.masked)}</td>
      <td>${frame.length}</td>
      <td><code>${frame.header}</code></td>
      <td>${this._what(frame) ?? nothing}</td>
    </tr>`
  }

  private _what(frame: FrameHeader): string | undefined {
    if (frame.close) {
      if (frame.close.code === undefined) return 'close, no code'
      return `close ${frame.close.code}${frame.close.reason ? ` ${frame.close.reason}` : ''}`
    }
    if (frame.rsv1) return 'compressed (permessage-deflate)'
    if (this.client?.transport !== 'socket.io' || frame.lead === undefined) return undefined
    return packetType(frame.lead)
  }

  static override styles = [
    inspectorTable,
    css`
      button {
        font: inherit;
        padding: 0.1rem 0.7rem;
        margin-left: 0.5rem;
      }
      button:focus-visible {
        outline: 3px solid #ffbf47;
        outline-offset: 1px;
      }
      th,
      td {
        white-space: nowrap;
      }
      tr.close td {
        background: #fff4d6;
        font-weight: 700;
      }
      tr.ping td,
      tr.pong td {
        color: #4a5260;
      }
    `,
  ]
}

const SOCKET_IO_POLLING =
  'No WebSocket frames yet: this Socket.IO client is still on HTTP long polling. They show here once it has upgraded.'

/** Engine.IO's packet type (and Socket.IO's, inside a message) from a frame's first bytes, named as the frame log names them. */
export function packetType(lead: string): string | undefined {
  const engine = ENGINE_IO_TYPES[Number(lead[0])]
  if (engine === undefined) return undefined
  if (engine !== 'message')
    return `EIO ${lead[0]} ${engine}${lead.startsWith('2p') || lead.startsWith('3p') ? ' (probe)' : ''}`
  const sio = lead[1] === undefined ? undefined : SOCKET_IO_TYPES[Number(lead[1])]
  return `EIO 4 message${sio ? ` · SIO ${lead[1]} ${sio}` : ''}`
}

customElements.define('lab-wire-frames', LabWireFrames)

declare global {
  interface HTMLElementTagNameMap {
    'lab-wire-frames': LabWireFrames
  }
}
