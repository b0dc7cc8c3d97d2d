// The browser's WebSocket: one upgrade, then JSON text frames both ways.
import type { Cursor, ServerMessage, TransportName } from '../../../server/core/protocol.ts'
import { ChatClient, cursorQuery, SEND_ANSWER_MS, type SendExtra, type SendOutcome } from './chat-client.ts'
import { TRANSPORT_INFO } from '../../../server/core/names.ts'

const PATH = TRANSPORT_INFO.websocket.path

/** A send waiting for its answer: its own message coming back, an error, or the connection's end. */
interface Pending {
  clientMsgId: string
  settle: (outcome: SendOutcome) => void
}

export class WebSocketClient extends ChatClient {
  readonly transport: TransportName = 'websocket'
  private socket: WebSocket | undefined
  /** In the order they went out: the server answers a connection's frames in that order. */
  private pending: Pending[] = []
  private sends = 0

  protected open(after: Cursor | undefined): void {
    const query = new URLSearchParams({
      ...this.query,
      room: this.room,
      name: this.name,
      compress: this.compress ? '1' : '0',
      ...cursorQuery(after),
    })
    // The token rides in the subprotocol list, beside "bearer" (the one the server picks): never in the URL.
    const socket = new WebSocket(
      `${this.baseUrl.replace(/^http/, 'ws')}${PATH}?${query}`,
      this.token ? ['bearer', this.token] : undefined,
    )
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
      else if (message.type === 'error') {
        // WebSocket has no acks: a send's answer is an error naming it (the oldest waiting, when it names none) ...
        const answered = this.pending.find((p) => p.clientMsgId === message.ref) ?? this.pending[0]
        this.settle(answered, { status: 'refused', code: message.code, message: message.message })
        this.onError(message)
      } else if (message.type === 'message' || message.type === 'notice' || message.type === 'presence') {
        // ... or the message itself, back from the room.
        if (message.type === 'message') {
          const answered = this.pending.find((p) => p.clientMsgId === message.clientMsgId)
          this.settle(answered, { status: 'sent', seq: message.seq })
        }
        this.onEntry(message)
      }
    })
    socket.addEventListener('close', (event: CloseEvent) => {
      if (this.socket !== socket) return
      this.onFrame({ dir: 'down', bytes: 0, kind: `close ${event.code}`, content: event.reason })
      // The server ends a connection over a frame it will not take (1009: too big): that is its answer.
      const refused = event.code === 1009 || event.code === 1008 || event.code === 1003
      const code = event.reason.startsWith('LAB_ERR_') ? event.reason : `close ${event.code}`
      this.settleAll(
        refused
          ? { status: 'refused', code, message: 'the server closed the connection' }
          : { status: 'no-answer', message: `the connection closed (${event.code}) before the server answered` },
      )
      this.connectionLost()
    })
  }

  protected close(): void {
    const socket = this.socket
    this.socket = undefined
    // 4000-4999 are for applications: this one says "the user pulled the plug".
    if (socket && socket.readyState <= 1) socket.close(4000, 'dropped by the user')
    this.settleAll({ status: 'no-answer', message: 'the connection was closed before the server answered' })
  }

  protected async deliver(text: string, extra: SendExtra): Promise<SendOutcome> {
    const socket = this.socket
    if (!socket || socket.readyState !== 1) return { status: 'not-joined', state: this.state }
    // The id is how the answer finds this send: the page's own, or one of this client's.
    const clientMsgId = extra.clientMsgId ?? `${this.name}-ws-${++this.sends}`
    const frame = JSON.stringify({ type: 'send', room: this.room, text, ...extra, clientMsgId })
    const answer = new Promise<SendOutcome>((resolve) => {
      const timer = setTimeout(
        () => this.settle(pending, { status: 'no-answer', message: `no answer within ${SEND_ANSWER_MS / 1000} s` }),
        SEND_ANSWER_MS,
      )
      const pending: Pending = {
        clientMsgId,
        settle: (outcome) => {
          clearTimeout(timer)
          resolve(outcome)
        },
      }
      this.pending.push(pending)
    })
    this.onFrame({ dir: 'up', bytes: new TextEncoder().encode(frame).length, kind: 'text frame', content: frame })
    socket.send(frame)
    return answer
  }

  private settle(pending: Pending | undefined, outcome: SendOutcome): void {
    if (!pending) return
    this.pending = this.pending.filter((p) => p !== pending)
    pending.settle(outcome)
  }

  private settleAll(outcome: SendOutcome): void {
    const pending = this.pending
    this.pending = []
    for (const p of pending) p.settle(outcome)
  }
}
