// The browser's WebSocket: one upgrade, then JSON text frames both ways.
import type { Cursor, ServerMessage, TransportName } from '../../../server/core/protocol.ts'
import { ChatClient, cursorQuery, type SendExtra } from './chat-client.ts'
import { TRANSPORT_INFO } from '../../../server/core/names.ts'

const PATH = TRANSPORT_INFO.websocket.path

export class WebSocketClient extends ChatClient {
  readonly transport: TransportName = 'websocket'
  private socket: WebSocket | undefined

  protected open(after: Cursor | undefined): void {
    const query = new URLSearchParams({
      room: this.room,
      name: this.name,
      compress: this.compress ? '1' : '0',
      ...cursorQuery(after),
    })
    const socket = new WebSocket(`${this.baseUrl.replace(/^http/, 'ws')}${PATH}?${query}`)
    this.socket = socket
    this.stats.requests++
    this.onFrame({ dir: 'up', bytes: 0, kind: `GET ${PATH} (Upgrade: websocket)`, content: `${PATH}?${query}` })
    // A socket this client closed or replaced may still deliver what was on its way: none of it is news.
    socket.addEventListener('message', (event: MessageEvent) => {
      if (this.socket !== socket) return
      const text = String(event.data)
      this.onFrame({ dir: 'down', bytes: new TextEncoder().encode(text).length, kind: 'text frame', content: text })
      const message = JSON.parse(text) as ServerMessage
      if (message.type === 'welcome') this.onWelcome(message)
      else if (message.type === 'error') this.onError(message)
      else if (message.type === 'message' || message.type === 'notice') this.onEntry(message)
    })
    socket.addEventListener('close', (event: CloseEvent) => {
      if (this.socket !== socket) return
      this.onFrame({ dir: 'down', bytes: 0, kind: `close ${event.code}`, content: event.reason })
      this.connectionLost()
    })
  }

  protected close(): void {
    const socket = this.socket
    this.socket = undefined
    // 4000-4999 are for applications: this one says "the user pulled the plug".
    if (socket && socket.readyState <= 1) socket.close(4000, 'dropped by the user')
  }

  async send(text: string, extra: SendExtra = {}): Promise<void> {
    const socket = this.socket
    if (!socket || socket.readyState !== 1) throw new Error('WebSocket is not open')
    const frame = JSON.stringify({ type: 'send', room: this.room, text, ...extra })
    this.onFrame({ dir: 'up', bytes: new TextEncoder().encode(frame).length, kind: 'text frame', content: frame })
    socket.send(frame)
  }
}
