// What one panel lists, free of the DOM so that the unit tests run it in Node.
// A room's log is read by people, not by connections, so the list folds it:
//
//   notices      one page joins over five transports, and a Drop or a deflate
//                toggle is a leave and a join: one row per person while their
//                notices keep coming (within NOTICE_FOLD_MS of the last), saying
//                what each transport did ("ann joined over 5 transports").
//   all five     a message sent over all five at once is five messages: one
//                comparison row, a latency per transport it came over.
//   room         a switch to another room starts with a divider, so the two
//                rooms' messages never run together.
//
// Rows are kept in a bounded array (ROWS_KEPT shown, up to twice as many held
// before the oldest go at once), and each entry costs a few map lookups: a
// burst of messages is folded in as it comes and drawn once per frame.
import type { ChatMessage, LogEntry, Notice, Presence } from '../../../server/core/protocol.ts'
import { TRANSPORT_INFO, TRANSPORTS, isTransportName, type TransportName } from '../../../server/core/names.ts'
import type { ReceivedLatency } from '../latency.ts'

export const ROWS_KEPT = 200
/** A person's notices this close together (server clock) share one row. */
export const NOTICE_FOLD_MS = 10_000
/** The end of a clientMsgId the workbench puts on each of the five sends of one "all five" message. */
export const ALL_FIVE_MARK = '-all-'

export interface MessageRow {
  kind: 'message'
  key: string
  entry: ChatMessage
  receivedAt: number
  backfilled: boolean
  latency?: ReceivedLatency | undefined
  /** Someone else's message that came before the server's clock was known: its latency comes with the first estimate. */
  awaitingClock: boolean
}

/** One message sent over all five transports at once, as it reaches this panel over each of them. */
export interface ComparisonRow {
  kind: 'comparison'
  key: string
  name: string
  text: string
  copies: Partial<Record<TransportName, MessageRow>>
}

export type NoticeEvent = Notice['event']

/** What one transport of a person did in a folded notice row: its first and its latest event. */
export interface TransportChange {
  first: NoticeEvent
  last: NoticeEvent
  count: number
}

export interface NoticeRow {
  kind: 'notice'
  key: string
  name: string
  firstSeq: number
  lastSeq: number
  lastServerAt: number
  /** By transport (the sender's, as the server names it), in the order they first came. */
  changes: Map<string, TransportChange>
}

/** A crowd's joins and leaves, told in one presence entry. */
export interface PresenceRow {
  kind: 'presence'
  key: string
  entry: Presence
}

export interface LostRow {
  kind: 'lost'
  key: string
}

export interface RoomRow {
  kind: 'room'
  key: string
  room: string
}

export type PanelRow = MessageRow | ComparisonRow | NoticeRow | PresenceRow | LostRow | RoomRow

export interface ReceivedEntry {
  entry: LogEntry
  receivedAt: number
  backfilled: boolean
  latency?: ReceivedLatency | undefined
}

/** The group an "all five" copy belongs to: its sender and its clientMsgId without the transport; else undefined. */
export function allFiveGroup(message: ChatMessage): string | undefined {
  const id = message.clientMsgId
  const via = message.from.transport
  if (id === undefined || !isTransportName(via) || !id.endsWith(`${ALL_FIVE_MARK}${via}`)) return undefined
  return `${message.from.name}\n${id.slice(0, -via.length)}`
}

export class PanelRows {
  private rows: PanelRow[] = []
  private lostCount = 0
  private roomCount = 0
  private room: string | undefined
  private readonly groups = new Map<string, ComparisonRow>()
  private readonly notices = new Map<string, NoticeRow>()

  /** The rows to show, oldest first: at most ROWS_KEPT. */
  get shown(): readonly PanelRow[] {
    return this.rows.length > ROWS_KEPT ? this.rows.slice(-ROWS_KEPT) : this.rows
  }

  add({ entry, receivedAt, backfilled, latency }: ReceivedEntry): void {
    if (entry.type === 'notice') {
      this.addNotice(entry)
      return
    }
    if (entry.type === 'presence') {
      this.push({ kind: 'presence', key: entry.id, entry })
      return
    }
    const row: MessageRow = {
      kind: 'message',
      key: entry.id,
      entry,
      receivedAt,
      backfilled,
      latency,
      awaitingClock: !backfilled && !latency,
    }
    const group = allFiveGroup(entry)
    if (group === undefined) {
      this.push(row)
      return
    }
    const via = entry.from.transport as TransportName
    const comparison = this.groups.get(group)
    if (comparison && comparison.text === entry.text && !comparison.copies[via]) {
      comparison.copies[via] = row
      return
    }
    const fresh: ComparisonRow = {
      kind: 'comparison',
      key: entry.id,
      name: entry.from.name,
      text: entry.text,
      copies: { [via]: row },
    }
    this.groups.set(group, fresh)
    this.push(fresh)
  }

  lost(): void {
    this.push({ kind: 'lost', key: `lost-${++this.lostCount}` })
  }

  /** The client was welcomed in `room`: a divider when it is not the room the rows so far came from. */
  welcomed(room: string): void {
    if (room === this.room) return
    const first = this.room === undefined
    this.room = room
    // Entries are folded within a room only.
    this.groups.clear()
    this.notices.clear()
    if (!first) this.push({ kind: 'room', key: `room-${++this.roomCount}`, room })
  }

  /** Every message still waiting for the server's clock, wherever it is shown. */
  *awaitingClock(): Generator<MessageRow> {
    for (const row of this.rows) {
      if (row.kind === 'message' && row.awaitingClock) yield row
      if (row.kind === 'comparison') for (const copy of Object.values(row.copies)) if (copy.awaitingClock) yield copy
    }
  }

  private addNotice(notice: Notice): void {
    const name = notice.who.name
    const open = this.notices.get(name)
    if (open && notice.serverAt - open.lastServerAt <= NOTICE_FOLD_MS) {
      const change = open.changes.get(notice.who.transport)
      if (change) {
        change.last = notice.event
        change.count++
      } else open.changes.set(notice.who.transport, { first: notice.event, last: notice.event, count: 1 })
      open.lastSeq = notice.seq
      open.lastServerAt = notice.serverAt
      return
    }
    const row: NoticeRow = {
      kind: 'notice',
      key: notice.id,
      name,
      firstSeq: notice.seq,
      lastSeq: notice.seq,
      lastServerAt: notice.serverAt,
      changes: new Map([[notice.who.transport, { first: notice.event, last: notice.event, count: 1 }]]),
    }
    this.notices.set(name, row)
    this.push(row)
  }

  private push(row: PanelRow): void {
    this.rows.push(row)
    if (this.rows.length <= 2 * ROWS_KEPT) return
    for (const gone of this.rows.splice(0, this.rows.length - ROWS_KEPT)) {
      // A row out of sight takes nothing more: the next copy or notice starts a row of its own.
      if (gone.kind === 'comparison') {
        for (const [group, row] of this.groups) if (row === gone) this.groups.delete(group)
      }
      if (gone.kind === 'notice' && this.notices.get(gone.name) === gone) this.notices.delete(gone.name)
    }
  }
}

/** What a transport's notices came to, in words: "joined", "left", "reconnected", "joined and left". */
export function outcome(change: TransportChange): string {
  if (change.first === change.last) return change.last === 'join' ? 'joined' : 'left'
  return change.first === 'leave' ? 'reconnected' : 'joined and left'
}

const transportName = (t: string) => (isTransportName(t) ? TRANSPORT_INFO[t].short : t)

/**
 * A folded notice row in one sentence: "ann joined over 5 transports",
 * "ann reconnected over WebSocket", "bob joined over SSE and WebSocket; left over long polling".
 */
export function describeNotices(row: NoticeRow): string {
  const byOutcome = new Map<string, string[]>()
  // In the panels' order, whatever order they came in.
  const order = [...TRANSPORTS, ...[...row.changes.keys()].filter((t) => !isTransportName(t))]
  for (const t of order) {
    const change = row.changes.get(t)
    if (!change) continue
    const said = outcome(change)
    byOutcome.set(said, [...(byOutcome.get(said) ?? []), t])
  }
  // Two names fit a row; more are a number (the row's tooltip names them).
  const parts = [...byOutcome].map(([said, transports]) =>
    transports.length > 2
      ? `${said} over ${transports.length} transports`
      : `${said} over ${joinWords(transports.map(transportName))}`,
  )
  return `${row.name} ${parts.join('; ')}`
}

/** A presence entry in one sentence: "ann, bob and 38 others joined; 2 left; 412 here". */
export function describePresence(entry: Presence): string {
  const named = (members: Presence['joined'], count: number) => {
    const names = members.slice(0, 2).map((m) => m.name)
    return count > names.length ? `${names.join(', ')} and ${count - names.length} others` : joinWords(names)
  }
  const parts: string[] = []
  if (entry.joins > 0) parts.push(`${named(entry.joined, entry.joins)} joined`)
  if (entry.leaves > 0) parts.push(`${named(entry.left, entry.leaves)} left`)
  parts.push(`${entry.memberCount} here`)
  return parts.join('; ')
}

function joinWords(words: string[]): string {
  return words.length < 2 ? words.join('') : `${words.slice(0, -1).join(', ')} and ${words.at(-1)!}`
}

/** The copy that came fastest, among those with a latency. */
export function fastestCopy(row: ComparisonRow): TransportName | undefined {
  let best: TransportName | undefined
  for (const t of TRANSPORTS) {
    const ms = row.copies[t]?.latency?.ms
    if (ms !== undefined && (best === undefined || ms < row.copies[best]!.latency!.ms)) best = t
  }
  return best
}
