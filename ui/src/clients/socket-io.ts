// socket.io-client speaking the protocol (auth.protocol = 'lab'). Socket.IO
// reconnects by itself; auth is a function so that each reconnection sends the
// latest cursor and the server resumes from it.
import { io, type Socket } from 'socket.io-client'
import type { Ack, Cursor, ErrorMessage, LogEntry, TransportName, Welcome } from '../../../server/core/protocol.ts'
import { ChatClient, type SendExtra } from './chat-client.ts'
import { describeEnginePacket } from './engine-io.ts'

export class SocketIoClient extends ChatClient {
  readonly transport: TransportName = 'socket.io'
  private socket: Socket | undefined

  protected open(): void {
    if (this.socket) {
      this.socket.connect()
      return
    }
    const socket = io(this.baseUrl, {
      forceNew: true,
      reconnectionDelay: 500,
      reconnectionDelayMax: 5000,
      auth: (callback) => callback({ protocol: 'lab', name: this.name, room: this.room, ...(this.cursor ? { since: this.cursor.seq, epoch: this.cursor.epoch } : {}) }),
    })
    this.socket = socket
    // The engine (and its transport) is new on every (re)connection: watch each one's packets.
    socket.io.on('open', () => {
      this.stats.requests++
      const engine = socket.io.engine
      engine.on('packet', (packet: { type: string; data?: unknown }) => this.enginePacket('down', packet))
      engine.on('packetCreate', (packet: { type: string; data?: unknown }) => this.enginePacket('up', packet))
    })
    socket.on('welcome', (welcome: Welcome) => this.onWelcome(welcome))
    socket.on('message', (entry: LogEntry) => this.onEntry(entry))
    socket.on('notice', (entry: LogEntry) => this.onEntry(entry))
    socket.on('error', (error: ErrorMessage) => this.onError(error))
    socket.on('disconnect', (reason) => {
      if (reason !== 'io client disconnect') this.setState('reconnecting')
    })
    socket.on('connect_error', () => this.setState('reconnecting'))
  }

  private enginePacket(dir: 'up' | 'down', packet: { type: string; data?: unknown }): void {
    const { kind, wire } = describeEnginePacket(packet.type, packet.data)
    this.onFrame({ dir, bytes: new TextEncoder().encode(wire).length, kind, content: wire })
  }

  protected close(): void {
    this.socket?.disconnect()
  }

  /** A network failure, not a goodbye: close the engine underneath and let Socket.IO reconnect on its own. */
  override drop(): void {
    this.stats.reconnects++
    this.socket?.io.engine?.close()
  }

  async send(text: string, extra: SendExtra = {}): Promise<void> {
    if (!this.socket?.connected) throw new Error('Socket.IO is not connected')
    const ack = (await this.socket.timeout(10_000).emitWithAck('send', { room: this.room, text, ...extra })) as Ack | ErrorMessage
    if (ack.type === 'error') this.onError(ack)
  }
}
