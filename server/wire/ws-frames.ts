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
  /** Where the header being read is gathered: a slice of the ring's store when there is one (nothing of its own). */
  private readonly header: Buffer
  /** Where in `header` the gathered bytes begin. */
  private readonly headerAt: number
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
    this.header = ring ? ring.log.store : Buffer.alloc(HEADER_MAX)
    this.headerAt = ring ? ring.scratchAt : 0
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
      this.header[this.headerAt + this.headerHave++] = chunk[at++]!
      const needed = this.headerLength()
      if (needed === undefined || this.headerHave < needed) continue
      this.startFrame(count, needed)
    }
    return count
  }
  /** The header's full length once its first two bytes are in; undefined until then. */
  private headerLength(): number | undefined {
    if (this.headerHave < 2) return undefined
    const length7 = this.header[this.headerAt + 1]! & 0x7f
    const masked = (this.header[this.headerAt + 1]! & 0x80) !== 0
    return 2 + (length7 === 126 ? 2 : length7 === 127 ? 8 : 0) + (masked ? 4 : 0)
  }

  private startFrame(count: FrameCount, headerLength: number): void {
    const at = this.headerAt
    const fin = (this.header[at]! & 0x80) !== 0
    const opcode = this.header[at]! & 0x0f
    const length7 = this.header[at + 1]! & 0x7f
    const length =
      length7 === 126
        ? this.header.readUInt16BE(at + 2)
        : length7 === 127
          ? Number(this.header.readBigUInt64BE(at + 2))
          : length7
    // 0-2 are data, 8-10 control; anything else means the stream is not where this reader thinks.
    if (!(opcode <= 2 || (opcode >= 8 && opcode <= 10))) {
      this.state = 'broken'
      return
    }
    this.data = opcode <= 2
    if (this.data && fin) count.messages++
    if (this.ring) this.capture = Math.min(length, this.ring.note(at, headerLength, opcode))
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
/** The longest frame header: 2 bytes, 8 of extended length, 4 of mask. */
const HEADER_MAX = 14
// Per slot: the header, its length, the lead's length, the lead (2 bytes), when (ms after the log began), its order.
const LENGTH_AT = 14
const LEAD_LENGTH_AT = 15
const LEAD_AT = 16
const TIME_AT = 18
const ORDER_AT = 22
const SLOT = 26
const LEAD_BYTES = 2
/** One way's part of a log's store: the header being read, then the slots. */
const WAY = HEADER_MAX + FRAMES_KEPT * SLOT
/** A control frame's payload is at most 125 bytes (RFC 6455, 5.5): a close's code and reason fit. */
const CONTROL_MAX = 125
const KINDS = { 0: 'continuation', 1: 'text', 2: 'binary', 8: 'close', 9: 'ping', 10: 'pong' } as const

/**
 * The last FRAMES_KEPT frame headers one way, as raw bytes in its log's store:
 * nothing is allocated or decoded per frame; decoding happens when a page
 * asks (frames()). A close frame's payload is kept whole, once: it is the last
 * frame that way.
 */
export class FrameRing {
  readonly log: FrameLog
  /** Where this way's part of the store begins: the header being read, then the slots. */
  readonly scratchAt: number
  private readonly slotsAt: number
  /** Frames seen this way, kept or not. */
  seen = 0
  private closeSlot = -1
  private closePayload: Buffer | undefined
  private closeHave = 0

  constructor(log: FrameLog, at: number) {
    this.log = log
    this.scratchAt = at
    this.slotsAt = at + HEADER_MAX
  }

  /** A frame begins, its header at `headerAt` in the store: keeps it; returns how many of its payload bytes to capture(). */
  note(headerAt: number, headerLength: number, opcode: number): number {
    const store = this.log.store
    const slot = this.seen % FRAMES_KEPT
    const base = this.slotsAt + slot * SLOT
    store.copy(store, base, headerAt, headerAt + headerLength)
    store[base + LENGTH_AT] = headerLength
    store[base + LEAD_LENGTH_AT] = 0
    store.writeUInt32LE(Math.min(0xffffffff, Math.max(0, Date.now() - this.log.since)), base + TIME_AT)
    store.writeUInt32LE(++this.log.n >>> 0, base + ORDER_AT)
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
    const store = this.log.store
    const base = this.slotsAt + slot * SLOT
    const have = store[base + LEAD_LENGTH_AT]!
    store.set(chunk.subarray(from, from + length), base + LEAD_AT + have)
    store[base + LEAD_LENGTH_AT] = have + length
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
    const store = this.log.store
    const base = this.slotsAt + slot * SLOT
    const header = store.subarray(base, base + store[base + LENGTH_AT]!)
    const opcode = header[0]! & 0x0f
    const rsv1 = (header[0]! & 0x40) !== 0
    const masked = (header[1]! & 0x80) !== 0
    const length7 = header[1]! & 0x7f
    const length =
      length7 === 126 ? header.readUInt16BE(2) : length7 === 127 ? Number(header.readBigUInt64BE(2)) : length7
    const mask = masked ? header.subarray(header.length - 4) : undefined
    const unmask = (bytes: Uint8Array) => (mask ? bytes.map((byte, i) => byte ^ mask[i % 4]!) : bytes)
    const frame: FrameHeader = {
      n: store.readUInt32LE(base + ORDER_AT),
      dir,
      at: this.log.since + store.readUInt32LE(base + TIME_AT),
      fin: (header[0]! & 0x80) !== 0,
      rsv1,
      opcode,
      kind: KINDS[opcode as keyof typeof KINDS] ?? 'binary',
      masked,
      length,
      header: header.toString('hex').replace(/(..)(?!$)/g, '$1 '),
    }
    const leadLength = store[base + LEAD_LENGTH_AT]!
    if (opcode <= 2 && opcode !== 0 && !rsv1 && leadLength > 0) {
      const lead = Buffer.from(unmask(store.subarray(base + LEAD_AT, base + LEAD_AT + leadLength))).toString('latin1')
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

/**
 * Both ways of one WebSocket's frames, kept for the inspector (see FrameRing).
 * An idle connection keeps one of these for as long as it lives, so all of it
 * is in one Buffer (both ways' headers being read and their slots), and the
 * socket it watches shares its listeners with every other (see watchFrames).
 */
export class FrameLog {
  /** Both ways: the header being read and the slots, in then out. */
  readonly store = Buffer.alloc(2 * WAY)
  /** When it began: each frame's time is kept as milliseconds after this. */
  readonly since = Date.now()
  /** Frames seen both ways, to tell their order apart. */
  n = 0
  readonly in = new FrameRing(this, 0)
  readonly out = new FrameRing(this, WAY)
  /** Counts the frames' data as payload too (permessage-deflate, see watchFrames); unset, only the ring is kept. */
  recorder: FrameRecorder | undefined
  open = true
  /** The connection id it is served under, once a welcome has named it. */
  listedAs: string | undefined
  /** Who may read it: the address that opened the connection. */
  readonly address: string
  /** The readers of the watched socket's bytes, each way, and its own write() (see watchFrames). */
  reading: FrameCounter | undefined
  writing: FrameCounter | undefined
  write: ((...args: unknown[]) => boolean) | undefined

  constructor(address: string) {
    this.address = address
  }

  frames(): FrameHeader[] {
    return [...this.in.frames('in'), ...this.out.frames('out')].sort((a, b) => a.n - b.n)
  }
}

const kFrames = Symbol('wireFrames')
type WatchedSocket = Socket & { [kFrames]?: FrameLog }

/**
 * Reads one WebSocket's frame headers in both directions as the bytes are
 * read from and written to the TCP socket, into `log`'s rings and, when a
 * recorder is set on it, into the payload counts: under permessage-deflate
 * the payload is the compressed data its frames carried, which only the frames
 * know, since ws compresses after the transport has handed it a message.
 * Written frames are seen by replacing this one socket's write(): Node gives no
 * event for bytes written. With `before101`, called as ws is about to write
 * the 101: the head goes through the same write() and is passed over.
 * The listeners and the write() are the same functions for every socket (they
 * find the log on the socket): an idle connection keeps no closures for this.
 */
export function watchFrames(tcp: Socket, log: FrameLog, before101 = false): void {
  const watched = tcp as WatchedSocket
  log.reading = new FrameCounter(log.in)
  log.writing = new FrameCounter(log.out, before101)
  // Called with the socket as `this` (see framesWritten): no bind needed.
  // eslint-disable-next-line @typescript-eslint/unbound-method
  log.write = tcp.write as (...args: unknown[]) => boolean
  watched[kFrames] = log
  tcp.on('data', framesRead)
  tcp.on('close', framesClosed)
  tcp.write = framesWritten
}

function framesRead(this: WatchedSocket, chunk: Buffer): void {
  const log = this[kFrames]!
  const { payload, messages } = log.reading!.push(chunk)
  if (log.recorder && (payload > 0 || messages > 0)) log.recorder.received(payload, messages, 0)
}

function framesClosed(this: WatchedSocket): void {
  this[kFrames]!.open = false
}

function framesWritten(this: WatchedSocket, chunk: unknown): boolean {
  const log = this[kFrames]!
  // Only the 101 is written as a string.
  const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk
  if (bytes instanceof Uint8Array) {
    const { payload, messages } = log.writing!.push(bytes)
    if (log.recorder && (payload > 0 || messages > 0)) log.recorder.sent(payload, messages, 0)
  }
  // eslint-disable-next-line prefer-rest-params
  return log.write!.apply(this, arguments as unknown as unknown[])
}
