// One direction of a shaped link: bytes written in come out at `to` after the
// one-way delay, no faster than the bandwidth, in the order they went in.
// Like a real link, the bytes are first sent out at the link's rate (one slice
// after another) and then travel for the delay; a slice is never released
// before its due time on performance.now(), so the delay is a lower bound.
import type { Socket } from 'node:net'

/** Bytes paced as one: about one TCP segment, so a large write trickles out rather than arriving in one late lump. */
const SLICE_BYTES = 1460

export interface Direction {
  oneWayMs: number
  /** Bytes per millisecond; Infinity leaves the bandwidth alone. */
  bytesPerMs: number
}

/** A direction of one client's link: its connections take turns on it, as on one phone's radio. */
export interface Link {
  /** When the link finishes sending what it was given so far. */
  freeAt: number
}

export function direction(rttMs: number, kbitps: number): Direction {
  return { oneWayMs: rttMs / 2, bytesPerMs: kbitps > 0 ? (kbitps * 1000) / 8 / 1000 : Infinity }
}

export class Shaper {
  private readonly queue: Array<{ due: number; data: Buffer | null }> = []
  private queuedBytes = 0
  /** The most this direction ever held: what bounding its memory means, for the tests to check. */
  peakQueuedBytes = 0
  private timer: NodeJS.Timeout | undefined
  private ended = false
  private readonly from: Socket
  private readonly to: Socket
  private readonly shape: Direction
  private readonly link: Link
  private readonly maxQueuedBytes: number

  /**
   * `maxQueuedBytes` bounds the memory of a shaped connection: past it the
   * sending side is paused (TCP's flow control does the rest) until the
   * queue has gone out.
   */
  constructor(from: Socket, to: Socket, shape: Direction, link: Link, maxQueuedBytes: number) {
    this.from = from
    this.to = to
    this.shape = shape
    this.link = link
    this.maxQueuedBytes = maxQueuedBytes
    from.on('data', (chunk: Buffer) => this.push(chunk))
    from.on('end', () => this.end())
    to.on('drain', () => this.release())
  }

  private push(chunk: Buffer): void {
    for (let at = 0; at < chunk.length; at += SLICE_BYTES) this.enqueue(chunk.subarray(at, at + SLICE_BYTES))
    this.peakQueuedBytes = Math.max(this.peakQueuedBytes, this.queuedBytes)
    if (this.queuedBytes > this.maxQueuedBytes) this.from.pause()
  }

  /** `null` is the end of the stream: it travels behind the last byte. */
  private enqueue(data: Buffer | null): void {
    if (this.ended) return
    if (data === null) this.ended = true
    const now = performance.now()
    const length = data?.length ?? 0
    this.link.freeAt = Math.max(this.link.freeAt, now) + length / this.shape.bytesPerMs
    this.queue.push({ due: this.link.freeAt + this.shape.oneWayMs, data })
    this.queuedBytes += length
    this.release()
  }

  private release(): void {
    clearTimeout(this.timer)
    this.timer = undefined
    const now = performance.now()
    // A receiver that does not read holds the rest here, where the pause above bounds it.
    while (this.queue.length > 0 && this.queue[0]!.due <= now && !this.to.writableNeedDrain) {
      const { data } = this.queue.shift()!
      if (this.to.destroyed) continue
      if (data === null) {
        this.to.end()
        return
      }
      this.queuedBytes -= data.length
      this.to.write(data)
    }
    if (this.queuedBytes <= this.maxQueuedBytes / 2 && this.from.isPaused()) this.from.resume()
    const head = this.queue[0]
    if (head && !this.to.writableNeedDrain)
      this.timer = setTimeout(() => this.release(), Math.max(1, Math.ceil(head.due - now)))
  }

  /** No more bytes come in: the end follows the last of them out. */
  end(): void {
    this.enqueue(null)
  }

  /** The connection is gone: nothing queued is delivered. */
  dispose(): void {
    clearTimeout(this.timer)
    this.timer = undefined
    this.queue.length = 0
    this.queuedBytes = 0
  }
}
