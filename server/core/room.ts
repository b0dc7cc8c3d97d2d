// One room: who is in it, when it was last used (the hub evicts the least
// recently used empty room), and its append-only log: seq numbers without
// gaps, a random epoch that names this incarnation of the history, and a
// bounded window to resume from.
//
// Messages and join/leave notices share one seq order, but only messages are
// history: the window keeps the last `limit` messages whatever the notices do,
// so a crowd reconnecting at once cannot push the chat out of reach. Notices
// are presence, kept up to their own limit for those who resume; who is in
// the room now is in every welcome.
import { randomBytes } from 'node:crypto'
import type { Cursor, LogEntry, Member as RosterMember } from './protocol.ts'

export interface ReadResult {
  epoch: string
  /** The latest seq in the room. */
  seq: number
  /** False when the cursor names another epoch, no epoch, or a seq whose later messages are no longer kept. */
  recovered: boolean
  entries: LogEntry[]
}

/** A log kept elsewhere (Redis), as one server copies it: the window a Room of the same limit would hold. */
export interface RoomLog {
  /** Empty for a room nobody has written to yet. */
  epoch: string
  seq: number
  /** The seq of the newest message that fell out of the window (0: none). */
  lostBefore: number
  /** Both in seq order. */
  messages: LogEntry[]
  notices: LogEntry[]
}

export class Room<Member = unknown> {
  readonly name: string
  readonly epoch: string
  seq = 0
  lastUsedAt = 0
  /** Members connected to this server: the ones it delivers to. */
  readonly members = new Map<string, Member>()
  /** Members of this server that are delivered to, grouped by how their transport delivers (the hub's Fanout): sink by clientId. */
  readonly fanouts = new Map<object, Map<string, unknown>>()
  /** Everyone in the room as its join and leave notices say, on this server and (with Redis) on the others. */
  readonly roster = new Map<string, RosterMember>()
  private messages: LogEntry[] = []
  private notices: LogEntry[] = []
  /** The seq of the newest message that fell out of the window: a cursor before it cannot be filled. */
  private lostBefore = 0
  private readonly limit: number
  private readonly noticeLimit: number

  constructor(name: string, limit: number, noticeLimit = limit, log?: RoomLog) {
    this.name = name
    this.limit = limit
    this.noticeLimit = noticeLimit
    this.epoch = log ? log.epoch : randomBytes(4).toString('hex')
    if (log) {
      this.seq = log.seq
      this.lostBefore = log.lostBefore
      this.messages = log.messages.slice(-limit)
      this.notices = log.notices.slice(firstAfter(log.notices, log.lostBefore)).slice(-noticeLimit)
    }
  }

  /** The sinks of one fanout here, made on first use. */
  sinks(fanout: object): Map<string, unknown> {
    let sinks = this.fanouts.get(fanout)
    if (!sinks) this.fanouts.set(fanout, (sinks = new Map<string, unknown>()))
    return sinks
  }

  get size(): number {
    return this.messages.length + this.notices.length
  }

  append(entry: LogEntry): void {
    this.seq = entry.seq
    if (entry.type === 'message') {
      this.messages.push(entry)
      // Trim in batches so a busy room does not shift the array on every append.
      if (this.messages.length > this.limit + slack(this.limit)) {
        const dropped = this.messages.length - this.limit
        this.lostBefore = this.messages[dropped - 1]!.seq
        this.messages = this.messages.slice(dropped)
        this.notices = this.notices.slice(firstAfter(this.notices, this.lostBefore))
      }
    } else {
      this.notices.push(entry)
      if (this.notices.length > this.noticeLimit + slack(this.noticeLimit))
        this.notices = this.notices.slice(this.notices.length - this.noticeLimit)
    }
  }

  /** Everything kept after the cursor, or the newest entries with recovered: false when the gap cannot be filled. */
  after(cursor: Cursor): ReadResult {
    if (!this.canResume(cursor))
      return { epoch: this.epoch, seq: this.seq, recovered: false, entries: this.newest(this.limit) }
    return { epoch: this.epoch, seq: this.seq, recovered: true, entries: this.since(cursor.seq) }
  }

  /** The newest `count` entries kept, oldest first. */
  newest(count: number): LogEntry[] {
    const start = Math.max(0, this.seq - count)
    return this.since(start).slice(-count)
  }

  /**
   * Seq 0 asks for everything from the start, which cannot be a gap in any
   * epoch while nothing has fallen out. Otherwise the cursor must name this
   * epoch: a bare seq could come from a log that no longer exists.
   */
  private canResume(cursor: Cursor): boolean {
    if (cursor.seq === 0) return this.lost() === 0
    if (cursor.epoch !== this.epoch) return false
    return cursor.seq <= this.seq && cursor.seq >= this.lost()
  }

  /** lostBefore, counting the messages past the limit that the next trim will drop as gone already. */
  private lost(): number {
    const extra = this.messages.length - this.limit
    return extra > 0 ? this.messages[extra - 1]!.seq : this.lostBefore
  }

  private since(seq: number): LogEntry[] {
    // The window runs a little past its limit between trims; readers see exactly the limit.
    const messages = this.messages.slice(Math.max(firstAfter(this.messages, seq), this.messages.length - this.limit))
    const notices = this.notices.slice(Math.max(firstAfter(this.notices, seq), this.notices.length - this.noticeLimit))
    if (notices.length === 0) return messages
    if (messages.length === 0) return notices
    return merge(messages, notices)
  }
}

function slack(limit: number): number {
  return Math.max(16, limit >> 3)
}

/** Index of the first entry with a seq above `seq` (entries are in seq order). */
function firstAfter(entries: LogEntry[], seq: number): number {
  let lo = 0
  let hi = entries.length
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    if (entries[mid]!.seq <= seq) lo = mid + 1
    else hi = mid
  }
  return lo
}

function merge(a: LogEntry[], b: LogEntry[]): LogEntry[] {
  const out: LogEntry[] = []
  let i = 0
  let j = 0
  while (i < a.length && j < b.length) out.push(a[i]!.seq < b[j]!.seq ? a[i++]! : b[j++]!)
  while (i < a.length) out.push(a[i++]!)
  while (j < b.length) out.push(b[j++]!)
  return out
}
