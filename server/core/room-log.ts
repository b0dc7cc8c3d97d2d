// One room's append-only log: seq numbers without gaps, a random epoch that
// names this incarnation of the history, and a bounded window of entries.
import { randomBytes } from 'node:crypto'
import type { Cursor, LogEntry } from './protocol.ts'

export interface ReadResult {
  epoch: string
  /** The latest seq in the room. */
  seq: number
  /** False when the cursor names another epoch or a seq older than the kept window: the gap cannot be filled. */
  recovered: boolean
  entries: LogEntry[]
}

export class RoomLog<Member = unknown> {
  readonly name: string
  readonly epoch = randomBytes(4).toString('hex')
  seq = 0
  lastUsedAt = 0
  readonly members = new Map<string, Member>()
  readonly watchers = new Set<() => void>()
  private entries: LogEntry[] = []
  private readonly limit: number

  constructor(name: string, limit: number) {
    this.name = name
    this.limit = limit
  }

  get size(): number {
    return this.entries.length
  }

  append(entry: LogEntry): void {
    this.seq = entry.seq
    this.entries.push(entry)
    // Trim in batches so a busy room does not shift the array on every append.
    if (this.entries.length > this.limit + Math.max(16, this.limit >> 3)) {
      this.entries = this.entries.slice(this.entries.length - this.limit)
    }
  }

  after(cursor: Cursor): ReadResult {
    // The array may run a little past the limit between trims; the window is its last `limit` entries.
    const start = Math.max(0, this.entries.length - this.limit)
    const firstSeq = this.entries.length > start ? this.entries[start]!.seq : this.seq + 1
    const sameEpoch = cursor.epoch === undefined || cursor.epoch === this.epoch
    const inWindow = cursor.seq <= this.seq && cursor.seq >= firstSeq - 1
    if (!sameEpoch || !inWindow) {
      return { epoch: this.epoch, seq: this.seq, recovered: false, entries: this.entries.slice(start) }
    }
    return { epoch: this.epoch, seq: this.seq, recovered: true, entries: this.entries.slice(start + cursor.seq - firstSeq + 1) }
  }
}
