import type { Socket } from 'node:net'
import type { FrameHeader } from './types.ts'

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

type State = 'head' | 'header' | 'payload' | 'broken'

export class FrameCounter {
  private state: State = 'header'
  private header = Buffer.alloc(14)
  private headerHave = 0
  private remaining = 0
  private data = false
  /** How much of the blank line ending an HTTP head has been seen, while the 101 before the frames passes. */
  private headEnd = 0
  private readonly ring: FrameRing | undefined
  /** Payload bytes of the current frame still to hand to the ring (a close's code and reason, a data frame's lead). */
  private capture = 0

  /** `afterHead`: the stream starts with an HTTP head (the 101 ws writes on the same socket), frames after it. */
  constructor(ring?: FrameRing, afterHead = false) {
    this.ring = ring
    if (afterHead) this.state = 'head'
  }

  push(chunk: Uint8Array): FrameCount {
    const count: FrameCount = { payload: 0, messages: 0 }
    let at = 0
    while (at < chunk.length && this.state !== 'broken') {
      if (this.state === 'head') {
        // \r\n\r\n: the bytes at even steps are \r, at odd ones \n.
        const byte = chunk[at++]!
        this.headEnd = byte === (this.headEnd % 2 === 0 ? 0x0d : 0x0a) ? this.headEnd + 1 : byte === 0x0d ? 1 : 0
        if (this.headEnd === 4) this.state = 'header'
        continue
      }
      if (this.state === 'payload') {
        const take = Math.min(this.remaining, chunk.length - at)
        if (this.data) count.payload += take
        if (this.capture > 0) {
          const kept = Math.min(this.capture, take)
          this.ring!.capture(chunk, at, kept)
          this.capture -= kept
        }
        this.remaining -= take
        at += take
        if (this.remaining === 0) this.state = 'header'
        continue
      }
      this.header[this.headerHave++] = chunk[at++]!
      const needed = this.headerLength()
      if (needed === undefined || this.headerHave < needed) continue
      this.startFrame(count, needed)
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

  private startFrame(count: FrameCount, headerLength: number): void {
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
    if (this.ring) this.capture = Math.min(length, this.ring.note(this.header, headerLength, opcode))
    this.headerHave = 0
    this.remaining = length
    this.state = length > 0 ? 'payload' : 'header'
  }
}

/** What a watched socket's data frames are reported to: the transport's wire recorder. */
export interface FrameRecorder {
  received(payloadBytes: number, messages?: number, plainBytes?: number): void
  sent(payloadBytes: number, messages?: number, plainBytes?: number): void
}

/** Frames kept each way per connection for the inspector: a small ring, so memory stays flat however long it lives. */
export const FRAMES_KEPT = 20
/** Per slot: the header (at most 14 bytes), its length, the lead's length, the lead (2 bytes). */
const SLOT = 18
const LEAD_BYTES = 2
/** A control frame's payload is at most 125 bytes (RFC 6455, 5.5): a close's code and reason fit. */
const CONTROL_MAX = 125
const KINDS = { 0: 'continuation', 1: 'text', 2: 'binary', 8: 'close', 9: 'ping', 10: 'pong' } as const

/**
 * The last FRAMES_KEPT frame headers one way, as raw bytes in one buffer:
 * nothing is allocated or decoded per frame; decoding happens when a page
 * asks (frames()). A close frame's payload is kept whole, once: it is the last
 * frame that way.
 */
export class FrameRing {
  private readonly slots = Buffer.alloc(FRAMES_KEPT * SLOT)
  private readonly times = new Float64Array(FRAMES_KEPT)
  private readonly order = new Float64Array(FRAMES_KEPT)
  /** Frames seen this way, kept or not. */
  seen = 0
  private closeSlot = -1
  private closePayload: Buffer | undefined
  private closeHave = 0
  private readonly counter: { n: number }

  /** `counter` is shared by both ways of a connection, to tell their frames' order apart. */
  constructor(counter: { n: number }) {
    this.counter = counter
  }

  /** A frame begins: keeps its header; returns how many of its payload bytes to capture(). */
  note(header: Buffer, headerLength: number, opcode: number): number {
    const slot = this.seen % FRAMES_KEPT
    const base = slot * SLOT
    header.copy(this.slots, base, 0, headerLength)
    this.slots[base + 14] = headerLength
    this.slots[base + 15] = 0
    this.times[slot] = Date.now()
    this.order[slot] = ++this.counter.n
    this.seen++
    if (opcode === 8) {
      this.closeSlot = slot
      this.closePayload ??= Buffer.alloc(CONTROL_MAX)
      this.closeHave = 0
      return CONTROL_MAX
    }
    return opcode <= 2 ? LEAD_BYTES : 0
  }

  /** Payload bytes of the frame note() began, as they pass. */
  capture(chunk: Uint8Array, from: number, length: number): void {
    const slot = (this.seen - 1) % FRAMES_KEPT
    if (slot === this.closeSlot && this.closePayload) {
      this.closePayload.set(chunk.subarray(from, from + length), this.closeHave)
      this.closeHave += length
      return
    }
    const base = slot * SLOT
    const have = this.slots[base + 15]!
    this.slots.set(chunk.subarray(from, from + length), base + 16 + have)
    this.slots[base + 15] = have + length
  }

  /** The frames kept, oldest first, decoded. */
  frames(dir: FrameHeader['dir']): FrameHeader[] {
    const result: FrameHeader[] = []
    const first = Math.max(0, this.seen - FRAMES_KEPT)
    for (let i = first; i < this.seen; i++) {
      const slot = i % FRAMES_KEPT
      result.push(this.decode(slot, dir))
    }
    return result
  }

  private decode(slot: number, dir: FrameHeader['dir']): FrameHeader {
    const base = slot * SLOT
    const header = this.slots.subarray(base, base + this.slots[base + 14]!)
    const opcode = header[0]! & 0x0f
    const rsv1 = (header[0]! & 0x40) !== 0
    const masked = (header[1]! & 0x80) !== 0
    const length7 = header[1]! & 0x7f
    const length =
      length7 === 126 ? header.readUInt16BE(2) : length7 === 127 ? Number(header.readBigUInt64BE(2)) : length7
    const mask = masked ? header.subarray(header.length - 4) : undefined
    const unmask = (bytes: Uint8Array) => (mask ? bytes.map((byte, i) => byte ^ mask[i % 4]!) : bytes)
    const frame: FrameHeader = {
      n: this.order[slot]!,
      dir,
      at: this.times[slot]!,
      fin: (header[0]! & 0x80) !== 0,
      rsv1,
      opcode,
      kind: KINDS[opcode as keyof typeof KINDS] ?? 'binary',
      masked,
      length,
      header: header.toString('hex').replace(/(..)(?!$)/g, '$1 '),
    }
    const leadLength = this.slots[base + 15]!
    if (opcode <= 2 && opcode !== 0 && !rsv1 && leadLength > 0) {
      const lead = Buffer.from(unmask(this.slots.subarray(base + 16, base + 16 + leadLength))).toString('latin1')
      // Only printable ASCII: a binary frame's bytes are not text to show.
      if (/^[\x20-\x7e]+$/.test(lead)) frame.lead = lead
    }
    if (opcode === 8 && slot === this.closeSlot && this.closePayload) {
      const payload = Buffer.from(unmask(this.closePayload.subarray(0, this.closeHave)))
      frame.close =
        payload.length >= 2
          ? { code: payload.readUInt16BE(0), reason: payload.subarray(2).toString('utf8') }
          : { reason: '' }
    }
    return frame
  }
}

/** Both ways of one WebSocket's frames, kept for the inspector (see FrameRing). */
export class FrameLog {
  private readonly counter = { n: 0 }
  readonly in = new FrameRing(this.counter)
  readonly out = new FrameRing(this.counter)
  /** Counts the frames' data as payload too (permessage-deflate, see watchFrames); unset, only the ring is kept. */
  recorder: FrameRecorder | undefined
  open = true
  /** The connection id it is served under, once a welcome has named it. */
  listedAs: string | undefined
  /** Who may read it: the address that opened the connection. */
  readonly address: string

  constructor(address: string) {
    this.address = address
  }

  frames(): FrameHeader[] {
    return [...this.in.frames('in'), ...this.out.frames('out')].sort((a, b) => a.n - b.n)
  }
}

/**
 * Reads one WebSocket's frame headers in both directions as the bytes are
 * read from and written to the TCP socket, into `log`'s rings and, when a
 * recorder is set on it, into the payload counts: under permessage-deflate
 * the payload is the compressed data its frames carried, which only the frames
 * know, since ws compresses after the transport has handed it a message.
 * Written frames are seen by wrapping this one socket's write(): Node gives no
 * event for bytes written. With `before101`, called as ws is about to write
 * the 101: the head goes through the same write() and is passed over.
 */
export function watchFrames(tcp: Socket, log: FrameLog, before101 = false): void {
  const reading = new FrameCounter(log.in)
  tcp.on('data', (chunk: Buffer) => {
    const { payload, messages } = reading.push(chunk)
    if (log.recorder && (payload > 0 || messages > 0)) log.recorder.received(payload, messages, 0)
  })
  tcp.once('close', () => (log.open = false))
  const writing = new FrameCounter(log.out, before101)
  const write = tcp.write.bind(tcp) as (...args: unknown[]) => boolean
  tcp.write = (chunk: unknown, ...rest: unknown[]): boolean => {
    // Only the 101 is written as a string.
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk
    if (bytes instanceof Uint8Array) {
      const { payload, messages } = writing.push(bytes)
      if (log.recorder && (payload > 0 || messages > 0)) log.recorder.sent(payload, messages, 0)
    }
    return write(chunk, ...rest)
  }
}
