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

/** What a way's reader is in the middle of: the 101's head, a frame's header, its payload; or lost. */
const HEAD = 0
const HEADER = 1
const PAYLOAD = 2
const BROKEN = 3

/** What a watched socket's data frames are reported to: the transport's wire recorder. */
export interface FrameRecorder {
  received(payloadBytes: number, messages?: number, plainBytes?: number): void
  sent(payloadBytes: number, messages?: number, plainBytes?: number): void
}

/** Frames kept each way per connection for the inspector: a small ring, so memory stays flat however long it lives. */
export const FRAMES_KEPT = 20
/** The longest frame header: 2 bytes, 8 of extended length, 4 of mask. */
const HEADER_MAX = 14
// A way's reader, after the header being read: where it is (HEAD...), how much of the header it has, whether
// the frame is data, how much of a blank line ending the 101 it has seen, payload bytes still to capture, the
// slot of the last close frame (NO_CLOSE: none), how much of its payload is in; bytes of the frame still to
// come, and frames seen this way, kept or not (doubles: a frame may be longer than 2^32 bytes).
const STATE_AT = HEADER_MAX
const HEADER_HAVE_AT = 15
const DATA_AT = 16
const HEAD_END_AT = 17
const CAPTURE_AT = 18
const CLOSE_SLOT_AT = 19
const CLOSE_HAVE_AT = 20
const REMAINING_AT = 24
const SEEN_AT = 32
const SLOTS_AT = 40
const NO_CLOSE = 0xff
// Per slot: the header, its length, the lead's length, the lead (2 bytes), when (ms after the log began), its order.
const LENGTH_AT = 14
const LEAD_LENGTH_AT = 15
const LEAD_AT = 16
const TIME_AT = 18
const ORDER_AT = 22
const SLOT = 26
const LEAD_BYTES = 2
/** One way's part of a log's store: the header being read, the reader's state, then the slots. */
const WAY = SLOTS_AT + FRAMES_KEPT * SLOT
/** When the log began (a double), after both ways. */
const SINCE_AT = 2 * WAY
/** A log's whole store: both ways, then when it began. */
const STORE_BYTES = SINCE_AT + 8
/** A control frame's payload is at most 125 bytes (RFC 6455, 5.5): a close's code and reason fit. */
const CONTROL_MAX = 125
const KINDS = { 0: 'continuation', 1: 'text', 2: 'binary', 8: 'close', 9: 'ping', 10: 'pong' } as const

/** A header's full length once its first two bytes are in (`have` of them, at `at`); undefined until then. */
function headerLength(store: Buffer, at: number, have: number): number | undefined {
  if (have < 2) return undefined
  const length7 = store[at + 1]! & 0x7f
  const masked = (store[at + 1]! & 0x80) !== 0
  return 2 + (length7 === 126 ? 2 : length7 === 127 ? 8 : 0) + (masked ? 4 : 0)
}

/** The payload length the whole frame header at `at` gives. */
function frameLength(store: Buffer, at: number): number {
  const length7 = store[at + 1]! & 0x7f
  return length7 === 126
    ? store.readUInt16BE(at + 2)
    : length7 === 127
      ? Number(store.readBigUInt64BE(at + 2))
      : length7
}

/** A way's part of a log's store: what was read (IN) or written (OUT) on the socket. */
const IN = 0
const OUT = WAY
/** IN or OUT. */
type Way = number
/** Where a way's close payload is in the log's `closes`. */
const closeAt = (way: Way) => (way === IN ? 0 : CONTROL_MAX)

/**
 * Both ways of one WebSocket's bytes: reads their frame headers as the bytes
 * pass (RFC 6455, 5.2), says how many were application data, and keeps the
 * last FRAMES_KEPT headers each way as raw bytes for the inspector. An idle
 * connection keeps one of these for as long as it lives, so its state and
 * its frames are in one Buffer, not in fields or objects of their own (a
 * field is 8 bytes of heap, a number past 2^31 a box of 16 more), and the
 * socket it watches shares its listeners with every other (see
 * watchFrames). Nothing is allocated or decoded per frame; decoding happens
 * when a page asks (frames()). A close frame's payload is kept whole, once:
 * it is the last frame that way.
 */
export class FrameLog {
  /** Each way (IN, OUT): the header being read, the reader's state, the slots. */
  readonly store = Buffer.alloc(STORE_BYTES)
  /** Frames seen both ways, to tell their order apart. */
  n = 0
  /** Counts the frames' data as payload too (permessage-deflate, see watchFrames); unset, only the frames are kept. */
  recorder: FrameRecorder | undefined
  open = true
  /** The connection id it is served under, once a welcome has named it. */
  listedAs: string | undefined
  /** Who may read it: the address that opened the connection. */
  readonly address: string
  /** The watched socket's own write() (see watchFrames). */
  write: ((...args: unknown[]) => boolean) | undefined
  /** Each way's close payload, once a close frame has come. */
  private closes: Buffer | undefined

  /** `before101`: the bytes written start with the 101's head, which ws writes on the same socket. */
  constructor(address: string, before101 = false) {
    this.address = address
    this.store.writeDoubleLE(Date.now(), SINCE_AT)
    this.store[IN + STATE_AT] = HEADER
    this.store[OUT + STATE_AT] = before101 ? HEAD : HEADER
    this.store[IN + CLOSE_SLOT_AT] = NO_CLOSE
    this.store[OUT + CLOSE_SLOT_AT] = NO_CLOSE
  }

  /** When it began: each frame's time is kept as milliseconds after this. */
  get since(): number {
    return this.store.readDoubleLE(SINCE_AT)
  }

  /** Bytes read from the socket: how much was data-frame payload, and how many messages ended. */
  read(chunk: Uint8Array): FrameCount {
    return this.push(IN, chunk)
  }

  /** Bytes written to the socket, likewise. */
  written(chunk: Uint8Array): FrameCount {
    return this.push(OUT, chunk)
  }

  /** Frames seen each way, kept or not. */
  get seen(): { in: number; out: number } {
    return { in: this.seenOf(IN), out: this.seenOf(OUT) }
  }

  /** The frames kept both ways, in the order they crossed the socket, decoded. */
  frames(): FrameHeader[] {
    return [...this.framesOf(IN, 'in'), ...this.framesOf(OUT, 'out')].sort((a, b) => a.n - b.n)
  }

  private seenOf(way: Way): number {
    return this.store.readDoubleLE(way + SEEN_AT)
  }

  private push(way: Way, chunk: Uint8Array): FrameCount {
    const count: FrameCount = { payload: 0, messages: 0 }
    const store = this.store
    let state = store[way + STATE_AT]!
    let have = store[way + HEADER_HAVE_AT]!
    let remaining = store.readDoubleLE(way + REMAINING_AT)
    let at = 0
    while (at < chunk.length && state !== BROKEN) {
      if (state === HEAD) {
        // \r\n\r\n: the bytes at even steps are \r, at odd ones \n.
        const byte = chunk[at++]!
        const end = store[way + HEAD_END_AT]!
        const next = byte === (end % 2 === 0 ? 0x0d : 0x0a) ? end + 1 : byte === 0x0d ? 1 : 0
        store[way + HEAD_END_AT] = next
        if (next === 4) state = HEADER
        continue
      }
      if (state === PAYLOAD) {
        const take = Math.min(remaining, chunk.length - at)
        if (store[way + DATA_AT] === 1) count.payload += take
        const capture = store[way + CAPTURE_AT]!
        if (capture > 0) {
          const kept = Math.min(capture, take)
          this.capture(way, chunk, at, kept)
          store[way + CAPTURE_AT] = capture - kept
        }
        remaining -= take
        at += take
        if (remaining === 0) state = HEADER
        continue
      }
      store[way + have++] = chunk[at++]!
      const needed = headerLength(store, way, have)
      if (needed === undefined || have < needed) continue
      const length = this.startFrame(way, count, needed)
      have = 0
      state = length < 0 ? BROKEN : length > 0 ? PAYLOAD : HEADER
      remaining = Math.max(0, length)
    }
    store[way + STATE_AT] = state
    store[way + HEADER_HAVE_AT] = have
    store.writeDoubleLE(remaining, way + REMAINING_AT)
    return count
  }

  /** The frames kept, oldest first, decoded. */
  private framesOf(way: Way, dir: FrameHeader['dir']): FrameHeader[] {
    const result: FrameHeader[] = []
    const seen = this.seenOf(way)
    for (let i = Math.max(0, seen - FRAMES_KEPT); i < seen; i++) result.push(this.decode(way, i % FRAMES_KEPT, dir))
    return result
  }

  /** A frame's header is read (at the way's start): keeps it; its length, or -1 when it cannot be a frame. */
  private startFrame(way: Way, count: FrameCount, headerLength: number): number {
    const store = this.store
    const opcode = store[way]! & 0x0f
    // 0-2 are data, 8-10 control; anything else means the stream is not where this reader thinks.
    if (!(opcode <= 2 || (opcode >= 8 && opcode <= 10))) return -1
    const length = frameLength(store, way)
    const data = opcode <= 2
    store[way + DATA_AT] = data ? 1 : 0
    if (data && (store[way]! & 0x80) !== 0) count.messages++
    store[way + CAPTURE_AT] = Math.min(length, this.note(way, headerLength, opcode))
    return length
  }

  /** Keeps the header just read in the next slot; returns how many of its payload bytes to capture(). */
  private note(way: Way, headerLength: number, opcode: number): number {
    const store = this.store
    const seen = this.seenOf(way)
    const slot = seen % FRAMES_KEPT
    const at = way + SLOTS_AT + slot * SLOT
    store.copy(store, at, way, way + headerLength)
    store[at + LENGTH_AT] = headerLength
    store[at + LEAD_LENGTH_AT] = 0
    store.writeUInt32LE(Math.min(0xffffffff, Math.max(0, Date.now() - this.since)), at + TIME_AT)
    store.writeUInt32LE(++this.n >>> 0, at + ORDER_AT)
    store.writeDoubleLE(seen + 1, way + SEEN_AT)
    if (opcode === 8) {
      store[way + CLOSE_SLOT_AT] = slot
      store[way + CLOSE_HAVE_AT] = 0
      this.closes ??= Buffer.alloc(2 * CONTROL_MAX)
      return CONTROL_MAX
    }
    return opcode <= 2 ? LEAD_BYTES : 0
  }

  /** Payload bytes of the frame note() began, as they pass. */
  private capture(way: Way, chunk: Uint8Array, from: number, length: number): void {
    const store = this.store
    const slot = (this.seenOf(way) - 1) % FRAMES_KEPT
    if (slot === store[way + CLOSE_SLOT_AT] && this.closes) {
      const have = store[way + CLOSE_HAVE_AT]!
      this.closes.set(chunk.subarray(from, from + length), closeAt(way) + have)
      store[way + CLOSE_HAVE_AT] = have + length
      return
    }
    const at = way + SLOTS_AT + slot * SLOT
    const have = store[at + LEAD_LENGTH_AT]!
    store.set(chunk.subarray(from, from + length), at + LEAD_AT + have)
    store[at + LEAD_LENGTH_AT] = have + length
  }

  private decode(way: Way, slot: number, dir: FrameHeader['dir']): FrameHeader {
    const store = this.store
    const at = way + SLOTS_AT + slot * SLOT
    const header = store.subarray(at, at + store[at + LENGTH_AT]!)
    const opcode = header[0]! & 0x0f
    const rsv1 = (header[0]! & 0x40) !== 0
    const masked = (header[1]! & 0x80) !== 0
    const mask = masked ? header.subarray(header.length - 4) : undefined
    const unmask = (bytes: Uint8Array) => (mask ? bytes.map((byte, i) => byte ^ mask[i % 4]!) : bytes)
    const frame: FrameHeader = {
      n: store.readUInt32LE(at + ORDER_AT),
      dir,
      at: this.since + store.readUInt32LE(at + TIME_AT),
      fin: (header[0]! & 0x80) !== 0,
      rsv1,
      opcode,
      kind: KINDS[opcode as keyof typeof KINDS] ?? 'binary',
      masked,
      length: frameLength(header, 0),
      header: header.toString('hex').replace(/(..)(?!$)/g, '$1 '),
    }
    const leadLength = store[at + LEAD_LENGTH_AT]!
    if (opcode <= 2 && opcode !== 0 && !rsv1 && leadLength > 0) {
      const lead = Buffer.from(unmask(store.subarray(at + LEAD_AT, at + LEAD_AT + leadLength))).toString('latin1')
      // Only printable ASCII: a binary frame's bytes are not text to show.
      if (/^[\x20-\x7e]+$/.test(lead)) frame.lead = lead
    }
    if (opcode === 8 && slot === store[way + CLOSE_SLOT_AT] && this.closes) {
      const from = closeAt(way)
      const payload = Buffer.from(unmask(this.closes.subarray(from, from + store[way + CLOSE_HAVE_AT]!)))
      frame.close =
        payload.length >= 2
          ? { code: payload.readUInt16BE(0), reason: payload.subarray(2).toString('utf8') }
          : { reason: '' }
    }
    return frame
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
 * event for bytes written. Called as ws is about to write the 101, with a
 * log made `before101`: the head goes through the same write() and is passed over.
 * The listeners and the write() are the same functions for every socket (they
 * find the log on the socket): an idle connection keeps no closures for this.
 */
export function watchFrames(tcp: Socket, log: FrameLog): void {
  const watched = tcp as WatchedSocket
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
  const { payload, messages } = log.read(chunk)
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
    const { payload, messages } = log.written(bytes)
    if (log.recorder && (payload > 0 || messages > 0)) log.recorder.sent(payload, messages, 0)
  }
  // eslint-disable-next-line prefer-rest-params
  return log.write!.apply(this, arguments as unknown as unknown[])
}
