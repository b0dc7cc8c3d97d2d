// Load clients for Socket.IO, on socket.io-client with transports: ['websocket']
// (no Engine.IO polling phase: the wire and idle figures are those of the
// upgraded connection; the handshake scenario also measures the default
// polling-then-upgrade start). Sends are plain emits without an ack, like
// WebSocket frames.
import { io, type Socket } from 'socket.io-client'
import { isLab, type Endpoint } from '../subjects.ts'
import {
  readMessage,
  ReceiverBase,
  type Receiver,
  type ReceiverOptions,
  type Role,
  type SendBody,
  type Sender,
  type SenderOptions,
} from './common.ts'

export type SocketIoStart = 'websocket' | 'polling-then-upgrade'

export function connect(
  endpoint: Endpoint,
  room: string,
  name: string,
  role: Role,
  start: SocketIoStart = 'websocket',
): { socket: Socket; ready: Promise<void> } {
  const lab = isLab(endpoint)
  const socket = io(endpoint.url, {
    forceNew: true,
    reconnection: false,
    ...(start === 'websocket' ? { transports: ['websocket'] } : {}),
    query: { role },
    auth: lab ? { protocol: 'lab', name, room } : { room },
  })
  const ready = new Promise<void>((resolve, reject) => {
    // Transport Lab says welcome once the client is in its room; the bare relay joins it on connection.
    if (lab) socket.once('welcome', () => resolve())
    else socket.once('connect', () => resolve())
    socket.once('connect_error', reject)
    socket.once('disconnect', (reason) => reject(new Error(`disconnected before it was ready: ${reason}`)))
  })
  return { socket, ready }
}

export class SocketIoReceiver extends ReceiverBase implements Receiver {
  readonly ready: Promise<void>
  readonly socket: Socket
  private closing = false

  constructor(options: ReceiverOptions, start: SocketIoStart = 'websocket') {
    super()
    const connected = connect(options.endpoint, options.room, options.name, options.role ?? 'receive', start)
    this.socket = connected.socket
    this.ready = connected.ready
    this.socket.on('message', (entry: unknown) => {
      readMessage(entry, options.onMessage)
      options.onDelivery?.([entry])
    })
    if (options.onPresence)
      for (const event of ['notice', 'presence']) this.socket.on(event, (entry: unknown) => options.onPresence?.(entry))
    this.socket.on('disconnect', (reason) => {
      if (!this.closing) this.failure ??= `disconnected: ${reason}`
    })
  }

  async close(): Promise<void> {
    this.closing = true
    this.socket.disconnect()
  }
}

export class SocketIoSender implements Sender {
  readonly ready: Promise<void>
  private readonly socket: Socket

  constructor(options: SenderOptions) {
    const connected = connect(options.endpoint, options.ownRoom, options.name, options.role ?? 'send')
    this.socket = connected.socket
    this.ready = connected.ready
  }

  async send(body: SendBody): Promise<void> {
    if (!this.socket.connected) throw new Error('not connected')
    this.socket.emit('send', body)
  }

  async close(): Promise<void> {
    this.socket.disconnect()
  }
}
