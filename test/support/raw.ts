// Raw TCP for hostile-input tests: requests and WebSocket frames written byte
// by byte, so that a test can send what no well-behaved client library would.
import { connect, type Socket } from 'node:net'
import { randomBytes } from 'node:crypto'
import { until } from './wait.ts'

export interface RawConnection {
  socket: Socket
  /** Everything received so far. */
  received(): Buffer
  closed(): boolean
}

export async function rawConnect(port: number): Promise<RawConnection> {
  const socket = connect(port, '127.0.0.1')
  const chunks: Buffer[] = []
  let ended = false
  socket.on('data', (chunk) => chunks.push(chunk))
  socket.on('close', () => {
    ended = true
  })
  socket.on('error', () => {
    ended = true
  })
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve())
    socket.once('error', reject)
  })
  return { socket, received: () => Buffer.concat(chunks), closed: () => ended }
}

/** Sends raw bytes as an HTTP request and returns the status line of the answer (or '' if the server only closed). */
export async function rawHttp(port: number, request: string | Buffer): Promise<string> {
  const conn = await rawConnect(port)
  conn.socket.write(request)
  await until(() => conn.received().includes('\r\n') || conn.closed() || undefined, 'an answer or a close')
  const text = conn.received().toString('latin1')
  conn.socket.destroy()
  return text.slice(0, text.indexOf('\r\n') >>> 0)
}

/** Opens a WebSocket by hand on `path` and returns the connection after the 101 (its bytes dropped). */
export async function rawWebSocket(port: number, path: string): Promise<RawConnection & { frames(): ServerFrame[] }> {
  const conn = await rawConnect(port)
  conn.socket.write(
    `GET ${path} HTTP/1.1\r\nHost: lab\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
  )
  await until(() => conn.received().includes('\r\n\r\n') || undefined, 'the 101')
  const head = conn.received().toString('latin1')
  if (!head.startsWith('HTTP/1.1 101')) throw new Error(`no upgrade: ${head.split('\r\n')[0]}`)
  const start = head.indexOf('\r\n\r\n') + 4
  return { ...conn, frames: () => parseFrames(conn.received().subarray(start)) }
}

export interface ServerFrame {
  fin: boolean
  opcode: number
  payload: Buffer
}

/** A client frame: masked unless told otherwise, with the given first byte (FIN, RSV and opcode). */
export function clientFrame(
  firstByte: number,
  payload: Buffer | string,
  options: { mask?: boolean; declaredLength?: bigint } = {},
): Buffer {
  const data = typeof payload === 'string' ? Buffer.from(payload) : payload
  const masked = options.mask ?? true
  const length = options.declaredLength ?? BigInt(data.length)
  let header: Buffer
  if (length < 126n) header = Buffer.from([firstByte, (masked ? 0x80 : 0) | Number(length)])
  else if (length < 65536n) {
    header = Buffer.alloc(4)
    header[0] = firstByte
    header[1] = (masked ? 0x80 : 0) | 126
    header.writeUInt16BE(Number(length), 2)
  } else {
    header = Buffer.alloc(10)
    header[0] = firstByte
    header[1] = (masked ? 0x80 : 0) | 127
    header.writeBigUInt64BE(length, 2)
  }
  if (!masked) return Buffer.concat([header, data])
  const key = randomBytes(4)
  const body = Buffer.from(data.map((byte, i) => byte ^ key[i % 4]!))
  return Buffer.concat([header, key, body])
}

export function parseFrames(bytes: Buffer): ServerFrame[] {
  const frames: ServerFrame[] = []
  let at = 0
  while (at + 2 <= bytes.length) {
    const fin = (bytes[at]! & 0x80) !== 0
    const opcode = bytes[at]! & 0x0f
    let length = bytes[at + 1]! & 0x7f
    let offset = at + 2
    if (length === 126) {
      if (offset + 2 > bytes.length) break
      length = bytes.readUInt16BE(offset)
      offset += 2
    } else if (length === 127) {
      if (offset + 8 > bytes.length) break
      length = Number(bytes.readBigUInt64BE(offset))
      offset += 8
    }
    if (offset + length > bytes.length) break
    frames.push({ fin, opcode, payload: bytes.subarray(offset, offset + length) })
    at = offset + length
  }
  return frames
}

/** The close code of the server's close frame, once it has sent one. */
export function closeCode(frames: ServerFrame[]): number | undefined {
  const close = frames.find((f) => f.opcode === 8)
  return close && close.payload.length >= 2 ? close.payload.readUInt16BE(0) : undefined
}
