import type { ReactiveController, ReactiveControllerHost } from 'lit'
import { io, type Socket } from 'socket.io-client'
import { TRANSPORT_INFO } from '../../../server/core/names.ts'

/** One line of what the raw composer sent and what came back. */
export interface RawEntry {
  at: number
  dir: 'up' | 'down' | 'note'
  /** What it was, in the transport's words: "text frame", "close 1003", "HTTP 400 Bad Request", "ack". */
  kind: string
  text: string
  bad: boolean
}

const ENTRIES_KEPT = 100
const ACK_WAIT_MS = 5000

/**
 * The raw composer's own connections: a WebSocket on /ws and a Socket.IO
 * socket, never the page's clients, so that whatever a student sends (a
 * binary frame closed with 1003, a bad connect) breaks nothing in the race.
 * They open when first used and close when the composer leaves the page.
 */
export class RawConnections implements ReactiveController {
  readonly entries: RawEntry[] = []
  private ws: WebSocket | undefined
  private sio: Socket | undefined
  private sioAuth = ''
  private readonly host: ReactiveControllerHost

  constructor(host: ReactiveControllerHost) {
    this.host = host
    host.addController(this)
  }

  hostDisconnected(): void {
    this.closeAll()
  }

  closeAll(): void {
    if (this.ws && this.ws.readyState <= WebSocket.OPEN) this.ws.close(1000, 'raw composer closed')
    this.ws = undefined
    this.sio?.close()
    this.sio = undefined
  }

  log(dir: RawEntry['dir'], kind: string, text: string, bad = false): void {
    this.entries.push({ at: Date.now(), dir, kind, text, bad })
    if (this.entries.length > ENTRIES_KEPT) this.entries.splice(0, this.entries.length - ENTRIES_KEPT)
    this.host.requestUpdate()
  }

  clear(): void {
    this.entries.length = 0
    this.host.requestUpdate()
  }

  /** Sends one frame on the composer's WebSocket, opening it first if it is not open. */
  async sendFrame(baseUrl: string, query: URLSearchParams, frame: string | Uint8Array): Promise<void> {
    const ws = await this.openWs(baseUrl, query)
    if (typeof frame === 'string') this.log('up', 'text frame', frame)
    else this.log('up', `binary frame, ${frame.byteLength} bytes`, hex(frame))
    ws.send(frame)
  }

  private openWs(baseUrl: string, query: URLSearchParams): Promise<WebSocket> {
    const current = this.ws
    if (current?.readyState === WebSocket.OPEN) return Promise.resolve(current)
    const url = `${baseUrl.replace(/^http/, 'ws')}${TRANSPORT_INFO.websocket.path}?${query}`
    const ws = new WebSocket(url)
    ws.binaryType = 'arraybuffer'
    this.ws = ws
    this.log('note', 'opening', `a WebSocket of its own: ${TRANSPORT_INFO.websocket.path}?${query}`)
    ws.addEventListener('message', (event: MessageEvent) => {
      if (typeof event.data === 'string') this.log('down', 'text frame', event.data, /"type":"error"/.test(event.data))
      else this.log('down', 'binary frame', hex(new Uint8Array(event.data as ArrayBuffer)))
    })
    ws.addEventListener('close', (event: CloseEvent) => {
      const clean = event.code === 1000 || event.code === 1005
      this.log(
        'down',
        `close ${event.code}`,
        `${event.reason || '(no reason given)'}: the connection is closed${closeMeaning(event.code)}`,
        !clean,
      )
      if (this.ws === ws) this.ws = undefined
    })
    return new Promise((resolve, reject) => {
      ws.addEventListener('open', () => resolve(ws), { once: true })
      ws.addEventListener('close', () => reject(new Error('the WebSocket closed before it opened')), { once: true })
    })
  }

  /** Emits one event on the composer's Socket.IO socket (connecting with `auth` first), with an ack or not. */
  emit(baseUrl: string, auth: Record<string, unknown>, event: string, args: unknown[], ack: boolean): void {
    const socket = this.openSio(baseUrl, auth)
    this.log('up', ack ? 'event, asking for an ack' : 'event', `${JSON.stringify(event)} ${JSON.stringify(args)}`)
    if (!ack) {
      socket.emit(event, ...args)
      return
    }
    socket.timeout(ACK_WAIT_MS).emit(event, ...args, (error: Error | null, value: unknown) => {
      if (error) this.log('down', 'no ack', `nothing came back within ${ACK_WAIT_MS / 1000} s`, true)
      else this.log('down', 'ack', JSON.stringify(value), isErrorMessage(value))
    })
  }

  private openSio(baseUrl: string, auth: Record<string, unknown>): Socket {
    const key = JSON.stringify(auth)
    if (this.sio && this.sioAuth === key && (this.sio.connected || this.sio.active)) return this.sio
    this.sio?.close()
    // No reconnection: a refused connection is shown once, as the class should see it.
    const socket = io(baseUrl, { forceNew: true, reconnection: false, auth })
    this.sio = socket
    this.sioAuth = key
    this.log('note', 'connecting', `a Socket.IO connection of its own, auth ${key}`)
    socket.on('connect', () => this.log('down', 'connect', `connected as ${socket.id ?? '?'}`))
    socket.on('connect_error', (error: Error & { data?: unknown }) =>
      this.log('down', 'connect_error', `${error.message}${error.data ? ` ${JSON.stringify(error.data)}` : ''}`, true),
    )
    socket.on('disconnect', (reason) => this.log('down', 'disconnect', reason, reason !== 'io client disconnect'))
    socket.onAny((name: string, ...args: unknown[]) =>
      this.log('down', `event "${name}"`, JSON.stringify(args), name === 'error'),
    )
    return socket
  }

  /** Sends one HTTP request and shows the status and the body that came back. */
  async request(baseUrl: string, path: string, method: string, contentType: string, body: string): Promise<void> {
    const withBody = method !== 'GET'
    this.log(
      'up',
      `${method} ${path}`,
      withBody ? `content-type: ${contentType || '(none)'}\n\n${body}` : '(no body: a GET has none)',
    )
    try {
      const res = await fetch(`${baseUrl}${path}`, {
        method,
        headers: withBody && contentType ? { 'content-type': contentType } : {},
        body: withBody ? body : undefined,
        cache: 'no-store',
      })
      const text = await res.text()
      this.log('down', `HTTP ${res.status} ${res.statusText}`.trim(), text, !res.ok)
    } catch (error) {
      this.log('down', 'no answer', error instanceof Error ? error.message : String(error), true)
    }
  }
}

/** Bytes as hex pairs: "ca fe". */
export function hex(bytes: Uint8Array): string {
  return [...bytes].map((byte) => byte.toString(16).padStart(2, '0')).join(' ')
}

/** "ca fe 01" (spaces, colons or nothing between pairs) as bytes; undefined when it is not hex. */
export function parseHex(text: string): Uint8Array | undefined {
  const digits = text.replace(/[\s:,]|0x/gi, '')
  if (digits.length % 2 !== 0 || !/^[0-9a-f]*$/i.test(digits)) return undefined
  return Uint8Array.from(digits.match(/../g) ?? [], (pair) => parseInt(pair, 16))
}

function isErrorMessage(value: unknown): boolean {
  return typeof value === 'object' && value !== null && (value as { type?: unknown }).type === 'error'
}

/** What a close code says, for the codes this server sends (RFC 6455, 7.4.1). */
function closeMeaning(code: number): string {
  const meaning: Record<number, string> = {
    1003: ' (1003: the server does not accept this kind of data)',
    1007: ' (1007: the text was not valid UTF-8)',
    1008: ' (1008: a rule was broken, e.g. too many messages)',
    1009: ' (1009: the frame was too big)',
    1013: ' (1013: try again later)',
  }
  return meaning[code] ?? ''
}
