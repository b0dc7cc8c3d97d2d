// socket.io-client speaking the protocol (auth.protocol = 'lab'). Socket.IO
// reconnects by itself; auth is a function so that each reconnection sends the
// latest cursor and the server resumes from it.
import { io, type Socket } from 'socket.io-client'
import type { Ack, ErrorMessage, LogEntry, TransportName, Welcome } from '../../../server/core/protocol.ts'
import { ChatClient, SEND_ANSWER_MS, type SendExtra, type SendOutcome } from './chat-client.ts'
import { describeEnginePacket } from './engine-io.ts'

export class SocketIoClient extends ChatClient {
  readonly transport: TransportName = 'socket.io'
  private socket: Socket | undefined
  /** How the server ended the connection last, when it said: a packet over its limit closes it with 1009 (or 413). */
  private endedWith: string | undefined

  /** A new socket per connection, so that one this client closed can be told apart from the current one. */
  protected open(): void {
    const socket = io(this.baseUrl, {
      forceNew: true,
      // engine.io puts it on every request, polls and upgrade alike: all of one session reach one instance.
      query: { ...this.query },
      reconnectionDelay: 500,
      reconnectionDelayMax: 5000,
      auth: (callback) =>
        callback({
          protocol: 'lab',
          name: this.name,
          ...(this.token ? { token: this.token } : {}),
          room: this.room,
          ...(this.cursor ? { since: this.cursor.seq, epoch: this.cursor.epoch } : {}),
        }),
    })
    this.socket = socket
    const current = () => this.socket === socket
    // The engine (and its transport) is new on every (re)connection: watch each one's packets.
    socket.io.on('open', () => {
      if (!current()) return
      this.stats.requests++
      const engine = socket.io.engine
      engine.on('packet', (packet: { type: string; data?: unknown }) => {
        if (current()) this.enginePacket('down', packet)
      })
      engine.on('packetCreate', (packet: { type: string; data?: unknown }) => {
        if (current()) this.enginePacket('up', packet)
      })
    })
    socket.on('welcome', (welcome: Welcome) => {
      if (current()) this.onWelcome(welcome)
    })
    socket.on('message', (entry: LogEntry) => {
      if (current()) this.onEntry(entry)
    })
    for (const event of ['notice', 'presence'])
      socket.on(event, (entry: LogEntry) => {
        if (current()) this.onEntry(entry)
      })
    socket.on('error', (error: ErrorMessage) => {
      if (current()) this.onError(error)
    })
    // Socket.IO comes back by itself after a network failure, but not when the
    // server sent it away or refused it (an over-limit client): then this client does.
    const lost = () => {
      if (socket.active) this.setState('reconnecting')
      else this.connectionLost()
    }
    socket.on('connect', () => {
      if (current()) this.endedWith = undefined
    })
    socket.on('disconnect', (reason, details) => {
      if (!current()) return
      this.endedWith = refusalIn(details)
      if (reason !== 'io client disconnect') lost()
    })
    // io.use's refusal names its code: a refused token is not retried, the page logs in first.
    socket.on('connect_error', (error: Error & { data?: { code?: unknown } }) => {
      if (!current()) return
      if (error.data?.code === 'LAB_ERR_AUTH')
        this.onError({ type: 'error', code: 'LAB_ERR_AUTH', message: error.message })
      else lost()
    })
  }

  private enginePacket(dir: 'up' | 'down', packet: { type: string; data?: unknown }): void {
    const { kind, wire } = describeEnginePacket(packet.type, packet.data)
    this.onFrame({ dir, bytes: new TextEncoder().encode(wire).length, kind, content: wire })
  }

  protected close(): void {
    const socket = this.socket
    this.socket = undefined
    socket?.disconnect()
  }

  /** A network failure, not a goodbye: close the engine underneath and let Socket.IO reconnect on its own. */
  override drop(): void {
    this.stats.reconnects++
    this.socket?.io.engine?.close()
  }

  protected async deliver(text: string, extra: SendExtra): Promise<SendOutcome> {
    const socket = this.socket
    if (!socket?.connected) return { status: 'not-joined', state: this.state }
    let ack: Ack | ErrorMessage
    try {
      ack = (await socket.timeout(SEND_ANSWER_MS).emitWithAck('send', { room: this.room, text, ...extra })) as
        Ack | ErrorMessage
    } catch (error) {
      // The server hung up on a packet it would not take: engine.io's answer to one over its size limit.
      const refusal = this.socket === socket && !socket.connected ? this.endedWith : undefined
      if (refusal) return { status: 'refused', code: refusal, message: 'the server closed the connection' }
      throw error
    }
    if (ack.type === 'ack') return { status: 'sent', seq: ack.seq }
    this.onError(ack)
    return { status: 'refused', code: ack.code, message: ack.message }
  }
}

/** From Socket.IO's disconnect details: a WebSocket closed with 1009, or a poll answered 413, is a refusal. */
function refusalIn(details: unknown): string | undefined {
  const context = (details as { context?: unknown } | undefined)?.context as
    { code?: unknown; status?: unknown } | undefined
  if (context?.code === 1009) return 'close 1009'
  if (context?.status === 413) return 'HTTP 413'
  return undefined
}
