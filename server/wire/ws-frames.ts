import type { Socket } from 'node:net'

// Reads WebSocket frame headers (RFC 6455, section 5.2) off a byte stream and
// says how many bytes were application data. Under permessage-deflate that is
// the compressed data the frames carried, which only the frames know: ws
// compresses after the transport has handed it a message. Control frames
// (close, ping, pong) carry no application data.

export interface FrameCount {
  /** Bytes of data-frame payload (text, binary, continuation) in what was pushed. */
  payload: number
  /** Messages completed (data frames with FIN set). */
  messages: number
}

type State = 'header' | 'payload' | 'broken'

export class FrameCounter {
  private state: State = 'header'
  private header = Buffer.alloc(14)
  private headerHave = 0
  private remaining = 0
  private data = false

  push(chunk: Uint8Array): FrameCount {
    const count: FrameCount = { payload: 0, messages: 0 }
    let at = 0
    while (at < chunk.length && this.state !== 'broken') {
      if (this.state === 'payload') {
        const take = Math.min(this.remaining, chunk.length - at)
        if (this.data) count.payload += take
        this.remaining -= take
        at += take
        if (this.remaining === 0) this.state = 'header'
        continue
      }
      this.header[this.headerHave++] = chunk[at++]!
      const needed = this.headerLength()
      if (needed === undefined || this.headerHave < needed) continue
      this.startFrame(count)
    }
    return count
  }

  /** The header's full length once its first two bytes are in; undefined until then. */
  private headerLength(): number | undefined {
    if (this.headerHave < 2) return undefined
    const length7 = this.header[1]! & 0x7f
    const masked = (this.header[1]! & 0x80) !== 0
    return 2 + (length7 === 126 ? 2 : length7 === 127 ? 8 : 0) + (masked ? 4 : 0)
  }

  private startFrame(count: FrameCount): void {
    const fin = (this.header[0]! & 0x80) !== 0
    const opcode = this.header[0]! & 0x0f
    const length7 = this.header[1]! & 0x7f
    const length =
      length7 === 126 ? this.header.readUInt16BE(2) : length7 === 127 ? Number(this.header.readBigUInt64BE(2)) : length7
    // 0-2 are data, 8-10 control; anything else means the stream is not where this reader thinks.
    if (!(opcode <= 2 || (opcode >= 8 && opcode <= 10))) {
      this.state = 'broken'
      return
    }
    this.data = opcode <= 2
    if (this.data && fin) count.messages++
    this.headerHave = 0
    this.remaining = length
    this.state = length > 0 ? 'payload' : 'header'
  }
}

/** What countFrames reports to: the transport's wire recorder. */
interface FrameRecorder {
  received(payloadBytes: number, messages?: number, plainBytes?: number): void
  sent(payloadBytes: number, messages?: number, plainBytes?: number): void
}

/**
 * For a WebSocket that agreed permessage-deflate: counts its frames' data as
 * payload, in both directions, as the bytes are read from and written to the
 * TCP socket. The transport then reports only the plain (inflated) sizes.
 * Written frames are seen by wrapping this one socket's write(): Node gives
 * no event for bytes written, and ws compresses after the transport has
 * handed it a message, so nothing above the socket knows the compressed size.
 */
export function countFrames(tcp: Socket, recorder: FrameRecorder): void {
  const reading = new FrameCounter()
  tcp.on('data', (chunk: Buffer) => {
    const { payload, messages } = reading.push(chunk)
    if (payload > 0 || messages > 0) recorder.received(payload, messages, 0)
  })
  const writing = new FrameCounter()
  const write = tcp.write.bind(tcp) as (...args: unknown[]) => boolean
  tcp.write = (chunk: unknown, ...rest: unknown[]): boolean => {
    if (chunk instanceof Uint8Array) {
      const { payload, messages } = writing.push(chunk)
      if (payload > 0 || messages > 0) recorder.sent(payload, messages, 0)
    }
    return write(chunk, ...rest)
  }
}
