// Load clients for the raw WebSocket, on the `ws` package: one connection per
// receiver, joined to its room by the URL; a sender joins a room of its own and
// sends text frames to the measured room.
import WebSocket from 'ws'
import { isLab } from '../subjects.ts'
import {
  isPresence,
  readMessage,
  withQuery,
  ReceiverBase,
  type Receiver,
  type ReceiverOptions,
  type SendBody,
  type Sender,
  type SenderOptions,
} from './common.ts'
import { TRANSPORT_INFO } from '../../server/core/names.ts'

function open(
  url: string,
  lab: boolean,
  onMessage?: (value: unknown) => void,
): { socket: WebSocket; ready: Promise<void> } {
  const socket = new WebSocket(url.replace(/^http/, 'ws'))
  const ready = new Promise<void>((resolve, reject) => {
    // Transport Lab greets with a welcome once the client is in its room; a bare relay adds it on upgrade.
    if (!lab) socket.once('open', () => resolve())
    socket.on('message', (data) => {
      const value = JSON.parse((data as Buffer).toString()) as { type?: unknown }
      if (value.type === 'welcome') resolve()
      onMessage?.(value)
    })
    socket.once('error', reject)
    socket.once('close', (code) => reject(new Error(`closed with ${code} before it was ready`)))
  })
  return { socket, ready }
}

export class WsReceiver extends ReceiverBase implements Receiver {
  readonly ready: Promise<void>
  private readonly socket: WebSocket
  private closing = false

  constructor(options: ReceiverOptions) {
    super()
    const { endpoint, room, name } = options
    const opened = open(
      withQuery(`${endpoint.url}${TRANSPORT_INFO.websocket.path}`, {
        room,
        name,
        role: options.role ?? 'receive',
        sticky: options.sticky,
      }),
      isLab(endpoint),
      (value) => {
        readMessage(value, options.onMessage)
        options.onDelivery?.([value])
        if (options.onPresence && isPresence(value)) options.onPresence(value)
      },
    )
    this.socket = opened.socket
    this.ready = opened.ready
    this.socket.on('close', (code, reason) => {
      if (!this.closing) this.failure ??= `closed by the server: ${code} ${String(reason)}`
    })
    this.socket.on('error', (error) => {
      if (!this.closing) this.failure ??= `socket error: ${error.message}`
    })
  }

  async close(): Promise<void> {
    this.closing = true
    if (this.socket.readyState === WebSocket.CLOSED) return
    await new Promise<void>((resolve) => {
      this.socket.once('close', () => resolve())
      // A close handshake when it can; a reset when the socket is not open yet.
      if (this.socket.readyState === WebSocket.OPEN) this.socket.close()
      else this.socket.terminate()
      setTimeout(() => {
        this.socket.terminate()
        resolve()
      }, 2000).unref()
    })
  }
}

export class WsSender implements Sender {
  readonly ready: Promise<void>
  private readonly socket: WebSocket

  constructor(options: SenderOptions) {
    const opened = open(
      withQuery(`${options.endpoint.url}${TRANSPORT_INFO.websocket.path}`, {
        room: options.ownRoom,
        name: options.name,
        role: options.role ?? 'send',
        sticky: options.sticky,
      }),
      isLab(options.endpoint),
    )
    this.socket = opened.socket
    this.ready = opened.ready
    this.socket.on('error', () => {})
  }

  send(body: SendBody): Promise<void> {
    return new Promise((resolve, reject) => {
      this.socket.send(JSON.stringify({ type: 'send', ...body }), (error) => (error ? reject(error) : resolve()))
    })
  }

  async close(): Promise<void> {
    if (this.socket.readyState === WebSocket.CLOSED) return
    await new Promise<void>((resolve) => {
      this.socket.once('close', () => resolve())
      this.socket.close()
      setTimeout(() => {
        this.socket.terminate()
        resolve()
      }, 2000).unref()
    })
  }
}
