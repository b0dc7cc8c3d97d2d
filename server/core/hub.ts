// The chat itself, knowing nothing of how bytes travel. Transports are thin
// pipes: they turn their framing into hub calls (connect, join, send...) and
// hub deliveries into their framing. Ordering comes from here: every entry is
// appended to the room's log and handed to every member of this server in seq
// order.
//
// Alone (no SharedLog), the hub is the log: publish appends and delivers
// before it returns. With a SharedLog (Redis, several servers), the shared
// log numbers the entries and the hub keeps a copy of each room it serves:
// entries reach it through apply(), in order, from whichever server wrote
// them, and the methods that write (join, leave, publish) resolve once this
// server has applied their entry.
import { randomUUID } from 'node:crypto'
import { encode, type Encoded } from '../wire/payload.ts'
import { smallInteger } from '../wire/kept-time.ts'
import { LabError } from './errors.ts'
import { PresenceBatch, PresenceBudget } from './presence.ts'
import { Room, type ReadResult, type RoomLog } from './room.ts'
import {
  WELCOME_MEMBERS_MAX,
  type ChatMessage,
  type Cursor,
  type LogEntry,
  type Member,
  type Notice,
  type Sender,
  type Welcome,
} from './protocol.ts'

/** An entry before the log numbers it: everything but seq, epoch and id. */
export interface Draft {
  type: LogEntry['type']
  room: string
  /** The fields after id, in wire order. */
  rest: Record<string, unknown>
  /** A client the entry is not delivered to (the notes' socket.to(room): everyone but the sender). */
  except?: string
  /** What the entry does to the room's presence, applied with it: every member, where the entry's lists are capped. */
  presence?: PresenceChange
}

/** Who joined and who left, in full. */
export interface PresenceChange {
  joined: Member[]
  left: Member[]
}

/** What a shared log calls on the hub of this server. */
export interface LogSink {
  /** The room's copy starts over from this log (first follow, an epoch change, a gap that could not be filled). `roster` undefined keeps the current one. */
  restore(room: string, log: RoomLog, roster?: Member[]): void
  /** The room's next entry, in seq order; `presence`: a presence entry's whole lists, when its own are capped. */
  apply(room: string, entry: LogEntry, except?: string, presence?: PresenceChange): void
  /** Who is in the room, as of the last entry applied (read back after presence entries whose lists were capped). */
  roster(room: string, members: Member[]): void
  /** The shared log is reachable again after an outage: say again who is here, send what could not be sent. */
  reconnected(): void
}

/** A log several servers share (server/scale/redis-log.ts). */
export interface SharedLog {
  readonly instance: string
  attach(sink: LogSink): void
  /** Numbers, stores and publishes the entry; resolves once this server's copy has applied it. */
  append(draft: Draft): Promise<LogEntry>
  /** Starts following the room: restore() with its log, then apply() for each later entry. */
  follow(room: string): Promise<void>
  unfollow(room: string): void
  /** Who is connected here, said again (after the shared log lost them). */
  assertPresence(room: string, members: Member[]): Promise<void>
  close(): Promise<void>
}

/** One entry on its way to a room's members: serialized once, for every member on every transport. */
export interface Delivery {
  readonly entry: LogEntry
  readonly encoded: Encoded
  /** The client it is not delivered to (the notes' socket.to(room): everyone but the sender). */
  readonly except: string | undefined
}

/**
 * How one push transport delivers: the hub hands it each entry once per room,
 * with the sinks (connections) of its members there, by clientId. A transport
 * that writes to each connection loops over them (eachSink); Socket.IO
 * broadcasts once through its adapter, whose rooms follow the hub's
 * membership through joined/left.
 */
export interface Fanout<Sink = unknown> {
  deliver(delivery: Delivery, room: string, sinks: ReadonlyMap<string, Sink>): void
  /** A member of this transport became a member of the room: before any of its entries is delivered. */
  joined?(sink: Sink, room: string): void
  /** It left the room: before its leave notice is delivered. */
  left?(sink: Sink, room: string): void
}

/** The fanout of a transport that writes to each connection: `write` once per member but the excepted one. */
export function eachSink<Sink>(write: (sink: Sink, delivery: Delivery) => void): Fanout<Sink> {
  return {
    deliver(delivery, _room, sinks) {
      for (const [clientId, sink] of sinks) {
        if (clientId === delivery.except) continue
        try {
          write(sink, delivery)
        } catch {
          // A broken pipe is that connection's problem; the others still get the entry.
        }
      }
    },
  }
}

/** connect({ deliver }) : each entry handed to a callback (tests, simple pipes). */
const CALLBACKS = eachSink<(entry: LogEntry) => void>((deliver, { entry }) => deliver(entry))

export interface HubOptions {
  /** Entries kept per room; older ones fall off and can no longer be resumed. */
  historyLimit: number
  /** Rooms kept at once; the least recently used empty room is dropped to make space. */
  maxRooms: number
  /** Rooms one client may be in at once. */
  maxRoomsPerClient?: number
  now?: () => number
  /** Several servers, one chat: the log lives there. Absent: this hub is the log. */
  shared?: SharedLog
  /**
   * Member-deliveries a second each room may spend on join and leave notices before they are coalesced into
   * presence entries (server/core/presence.ts); 0 never coalesces. With a shared log each server keeps its own
   * budget per room, and counts every member of the room (its notices reach the other servers' members too).
   */
  presenceRate?: number
}

/** How much one read may answer: a page, so that a 100-byte request cannot ask for megabytes. */
export interface PageLimit {
  entries: number
  /** Characters of message text, the part of an entry whose size a client controls. */
  textChars: number
}

/** What a read without a cursor answers (or one whose cursor the log no longer holds): the newest entries, as a newcomer sees them. */
export const NEWEST_PAGE: PageLimit = { entries: 100, textChars: 64 * 1024 }

/**
 * What a read after a cursor answers: a client that is behind gets up to a whole default history
 * (HISTORY_LIMIT messages and as many notices) in one answer, as a push transport's resume does, instead
 * of asking once per 100 entries: each ask is a whole request and, on a slow link, a round trip. The text
 * bound is the newest page's, so the answer stays a few hundred KiB at most.
 */
export const CATCH_UP_PAGE: PageLimit = { entries: 1000, textChars: 64 * 1024 }

export interface PageResult extends ReadResult {
  /** True when entries stop short of the room's latest seq: read again after the last one. */
  more: boolean
}

export interface ConnectOptions {
  name: string
  transport: string
  /** How a push pipe (SSE, WebSocket, Socket.IO) is delivered to, and this connection's sink there. Pull pipes (polling) leave both out. */
  fanout?: Fanout<never>
  sink?: unknown
  /** Shorthand for a fanout that hands each entry to this callback. */
  deliver?: (entry: LogEntry) => void
  /** For pipes that cannot tell when the client went away (polling): the member is dropped after this long without touch(). */
  leaseMs?: number
  /**
   * Ends the client's connection in its transport's idiom, telling it why: how end() (an instructor's disconnect)
   * reaches it. An object with an end() method serves as well: a connection that has one need not keep a closure.
   */
  end?: Ending
  /** The connection its transport lists it under (the wire meter's id): opaque here, shown to the instructor. */
  connectionId?: string
  /** The token it connected with (opaque here): the client is ended when it expires, or with endCredential(). */
  credential?: Credential
}

/** How a client's transport ends it, told which client: one Ending can serve all of a transport's clients. */
export type Ending = ((reason: LabError, clientId: string) => void) | { end(reason: LabError, clientId: string): void }

/** What waits for a room's next entry (a held long poll): woken once. */
export interface Waiter {
  woken(): void
}

export interface Credential {
  id: string
  expiresAt: number
}

/** A member as the instructor sees it: presence, plus since when and where it is connected. */
export interface MemberDetail extends Member {
  connectedAt: number
  connectionId: string | undefined
}

export interface Client {
  readonly clientId: string
  readonly name: string
  readonly transport: string
  readonly connectionId: string | undefined
  readonly credential: Credential | undefined
}

/**
 * "8b118f22-cbee": a UUID's first 13 characters, copied. A slice of 13 or more is a view that keeps the whole
 * 36-character string alive (56 bytes more for every idle connection, npm run bench:heap).
 */
const newClientId = (): string => Buffer.from(randomUUID().slice(0, 13), 'latin1').toString('latin1')

/**
 * The rooms a client is in. Nearly always one: a lone name is kept as itself, and a Set (with its table, about
 * 180 bytes of every idle connection, npm run bench:heap) is made only for a second room.
 */
type Rooms = string | Set<string> | undefined

const inRoom = (rooms: Rooms, name: string): boolean => rooms === name || (typeof rooms === 'object' && rooms.has(name))
const roomCount = (rooms: Rooms): number => (rooms === undefined ? 0 : typeof rooms === 'string' ? 1 : rooms.size)
const roomList = (rooms: Rooms): string[] =>
  rooms === undefined ? [] : typeof rooms === 'string' ? [rooms] : [...rooms]

function withRoom(rooms: Rooms, name: string): Rooms {
  if (rooms === undefined || rooms === name) return name
  if (typeof rooms === 'string') return new Set([rooms, name])
  rooms.add(name)
  return rooms
}

function withoutRoom(rooms: Rooms, name: string): Rooms {
  if (rooms === name) return undefined
  if (typeof rooms !== 'object' || !rooms.delete(name)) return rooms
  return rooms.size === 1 ? rooms.values().next().value : rooms
}

interface ClientState extends Client {
  rooms: Rooms
  connectionId: string | undefined
  fanout: Fanout | undefined
  /** Undefined while detached (a member that receives nothing for now). */
  sink: unknown
  end: Ending | undefined
  leaseMs: number | undefined
  /** When its lease ends, on the hub's kept clock (see Hub.kept); NO_LEASE while it has none. */
  expires: number
  /** When it connected, on the hub's kept clock. */
  readonly connected: number
}

/** A client's `expires` while it has no lease (a push pipe's member, attached). */
const NO_LEASE = -1

export interface JoinResult {
  welcome: Welcome
  /** Entries after the requested cursor, up to and including welcome.seq. Empty when no cursor was given. */
  backlog: LogEntry[]
}

export interface HubStats {
  rooms: number
  clients: number
  entries: number
}

export class Hub {
  readonly historyLimit: number
  readonly maxRooms: number
  readonly maxRoomsPerClient: number
  /** The server's name among several (INSTANCE_ID); undefined when this hub is the log. */
  readonly instance: string | undefined
  private readonly now: () => number
  /** When the hub began: a client keeps its times as milliseconds after it (see kept). */
  private readonly start: number
  private readonly shared: SharedLog | undefined
  private readonly rooms = new Map<string, Room<ClientState>>()
  private readonly clients = new Map<string, ClientState>()
  /** Long polls waiting per room name. Kept apart from the rooms so that waiting on a room neither creates nor pins it. */
  private readonly watchers = new Map<string, Set<Waiter>>()
  private readonly sweepTimer: NodeJS.Timeout
  /** Called with every entry appended anywhere: metrics, logs, Socket.IO's rooms. */
  private readonly appendListeners = new Set<(entry: LogEntry, except?: string) => void>()
  /** Rooms being followed (their log loading from the shared log). */
  private readonly following = new Map<string, Promise<Room<ClientState>>>()
  /** Rooms a join is under way in: not evicted meanwhile. */
  private readonly pinned = new Map<string, number>()
  /** Leave notices and presence batches the shared log could not take (it was unreachable): sent when it is back. */
  private pendingPresence: Draft[] = []
  private readonly presenceRate: number
  /** Per room: its presence budget, and the batch waiting for it (with the timer that sends it). */
  private readonly presenceBudgets = new Map<
    string,
    { budget: PresenceBudget; batch?: PresenceBatch; timer?: NodeJS.Timeout }
  >()

  constructor(options: HubOptions) {
    this.historyLimit = options.historyLimit
    this.maxRooms = options.maxRooms
    this.maxRoomsPerClient = options.maxRoomsPerClient ?? Infinity
    this.now = options.now ?? Date.now
    this.start = this.now()
    this.shared = options.shared
    this.instance = options.shared?.instance
    this.presenceRate = options.presenceRate ?? 0
    this.shared?.attach({
      restore: (room, log, roster) => this.restore(room, log, roster),
      apply: (room, entry, except, presence) => {
        const copy = this.rooms.get(room)
        if (copy) this.append(copy, entry, except, presence)
      },
      roster: (room, members) => {
        const copy = this.rooms.get(room)
        if (copy) this.setRoster(copy, members)
      },
      reconnected: () => void this.reconnected(),
    })
    this.sweepTimer = setInterval(() => this.sweepLeases(), 1000)
    this.sweepTimer.unref()
  }

  connect(options: ConnectOptions): Client {
    const client: ClientState = {
      clientId: newClientId(),
      name: options.name,
      transport: options.transport,
      rooms: undefined,
      connected: this.kept(),
      connectionId: options.connectionId,
      fanout: options.fanout ?? (options.deliver ? CALLBACKS : undefined),
      sink: options.fanout ? options.sink : options.deliver,
      end: options.end,
      leaseMs: options.leaseMs,
      expires: options.leaseMs ? this.kept() + options.leaseMs : NO_LEASE,
      credential: options.credential,
    }
    this.clients.set(client.clientId, client)
    return client
  }

  client(clientId: string): Client | undefined {
    return this.clients.get(clientId)
  }

  /** Keeps a leased client alive. Returns false when it has already expired. */
  touch(clientId: string): boolean {
    const client = this.clients.get(clientId)
    if (!client) return false
    if (client.leaseMs) client.expires = this.kept() + client.leaseMs
    return true
  }

  /**
   * Joins the room and answers the welcome, with the backlog after `after`.
   * `ready` is called at the moment the client becomes a member, before any
   * live entry can reach it: a pipe sends the welcome there, so that nothing
   * slips in between the backlog and the live entries.
   */
  async join(
    clientId: string,
    roomName: string,
    after?: Cursor,
    ready?: (joined: JoinResult) => void,
  ): Promise<JoinResult> {
    const client = this.mustGet(clientId)
    if (!inRoom(client.rooms, roomName) && roomCount(client.rooms) >= this.maxRoomsPerClient) {
      throw new LabError(
        'LAB_ERR_TOO_MANY_ROOMS',
        `a client may be in ${this.maxRoomsPerClient} rooms at once: leave one first`,
      )
    }
    if (!this.shared) {
      const room = this.room(roomName)
      if (!inRoom(client.rooms, roomName)) {
        // The notice goes to those already present; the joiner learns of the
        // room from its welcome (and its backlog when it asked to resume).
        this.announce(room, this.notice(roomName, 'join', client))
        this.enter(room, client)
      }
      return this.welcome(client, room, after, ready)
    }
    this.pin(roomName, +1)
    try {
      let room = await this.followed(roomName)
      if (!inRoom(client.rooms, roomName)) {
        const notice = this.notice(roomName, 'join', client)
        if (!this.coalesced(room, notice)) {
          await this.shared.append(notice)
          room = this.rooms.get(roomName) ?? room
          if (!this.clients.has(clientId)) {
            // It went away while joining: it leaves again, so that presence stays true.
            void this.sendPresence(this.notice(roomName, 'leave', client))
            throw new LabError('LAB_ERR_UNKNOWN_CLIENT')
          }
        }
        this.enter(room, client)
      }
      return this.welcome(client, room, after, ready)
    } finally {
      this.pin(roomName, -1)
    }
  }

  /** Resolves to the room's seq afterwards (the leave notice's, when there was one). Never rejects. */
  async leave(clientId: string, roomName: string): Promise<number> {
    const client = this.clients.get(clientId)
    const room = this.rooms.get(roomName)
    if (!room) return 0
    if (!client || !inRoom(client.rooms, roomName)) return room.seq
    this.exit(room, client)
    const notice = this.notice(roomName, 'leave', client)
    if (!this.shared) {
      this.announce(room, notice)
      return room.seq
    }
    if (this.coalesced(room, notice)) return room.seq
    return (await this.sendPresence(notice)) ?? room.seq
  }

  /** Leaves every room (the leave notices follow, with a shared log) and forgets the client. */
  disconnect(clientId: string): void {
    const client = this.clients.get(clientId)
    if (!client) return
    for (const roomName of roomList(client.rooms)) void this.leave(clientId, roomName)
    this.clients.delete(clientId)
  }

  async publish(
    from: Sender,
    roomName: string,
    message: { text: string; sentAt?: number; clientMsgId?: string },
    options?: { exceptSender?: boolean },
  ): Promise<ChatMessage> {
    if (!this.shared) return this.publishNow(from, roomName, message, options)!
    const sender: Sender = this.instance === undefined ? from : { ...from, instance: this.instance }
    const rest: Record<string, unknown> = { from: sender, text: message.text, serverAt: this.now() }
    if (message.sentAt !== undefined) rest.sentAt = message.sentAt
    if (message.clientMsgId !== undefined) rest.clientMsgId = message.clientMsgId
    const draft: Draft = { type: 'message', room: roomName, rest }
    if (options?.exceptSender) draft.except = from.clientId
    return (await this.shared.append(draft)) as ChatMessage
  }

  /**
   * publish() at once, when this process keeps the log itself (no shared
   * log); undefined when the shared log numbers it (then publish() it). A
   * send answered without an await makes no promise nor suspended frame.
   */
  publishNow(
    from: Sender,
    roomName: string,
    message: { text: string; sentAt?: number; clientMsgId?: string },
    options?: { exceptSender?: boolean },
  ): ChatMessage | undefined {
    if (this.shared) return undefined
    const serverAt = this.now()
    // Numbered here, in one literal: the draft a shared log needs, and the spread that copies it into the
    // entry, were three objects more per message on every transport's send path (its fields are in wire order).
    const room = this.room(roomName)
    const seq = room.seq + 1
    const entry: ChatMessage = {
      type: 'message',
      room: room.name,
      seq,
      epoch: room.epoch,
      id: `${room.epoch}-${seq}`,
      from: this.instance === undefined ? from : { ...from, instance: this.instance },
      text: message.text,
      serverAt,
    }
    if (message.sentAt !== undefined) entry.sentAt = message.sentAt
    if (message.clientMsgId !== undefined) entry.clientMsgId = message.clientMsgId
    this.append(room, entry, options?.exceptSender ? from.clientId : undefined)
    return entry
  }

  /**
   * What a pull pipe asks: one page of the room's entries after a cursor
   * (CATCH_UP_PAGE), or its newest page when there is no cursor or the log no
   * longer holds it (NEWEST_PAGE); `page` sets both. Reading never creates a
   * room (a room nobody wrote to reads as empty, epoch ""), so reads cannot evict one.
   */
  async read(roomName: string, after?: Cursor, page?: PageLimit): Promise<PageResult> {
    return pageOf(this.shared ? await this.followed(roomName) : this.rooms.get(roomName), after, page)
  }

  /**
   * read() at once, when this process keeps the room itself (no shared log);
   * undefined when it must be followed first (then read() it). A poll asks
   * twice per renewal, and an await is a promise and a suspended frame each time.
   */
  readNow(roomName: string, after?: Cursor, page?: PageLimit): PageResult | undefined {
    return this.shared ? undefined : pageOf(this.rooms.get(roomName), after, page)
  }

  /**
   * Calls waiter.woken() once, when the room has an entry after `afterSeq` (at
   * once if it already has); unwait() cancels. Long polls hold on this. The
   * waiter is kept as it is, not wrapped in closures: a class's idle long
   * polls are held by the thousand.
   */
  waitFor(roomName: string, afterSeq: number, waiter: Waiter): void {
    const room = this.rooms.get(roomName)
    if (room && room.seq > afterSeq) {
      waiter.woken()
      return
    }
    let watchers = this.watchers.get(roomName)
    if (!watchers) this.watchers.set(roomName, (watchers = new Set()))
    watchers.add(waiter)
    // A copy dropped since the read that came before: follow it again, or nothing would wake the wait.
    if (this.shared && !room)
      this.followed(roomName).then(
        (copy) => copy.seq > afterSeq && this.unwait(roomName, waiter) && waiter.woken(),
        () => {},
      )
  }

  /** Stops a wait; false when it was no longer waiting (woken already, or cancelled). */
  unwait(roomName: string, waiter: Waiter): boolean {
    const watchers = this.watchers.get(roomName)
    if (!watchers?.delete(waiter)) return false
    if (watchers.size === 0) this.watchers.delete(roomName)
    return true
  }

  /**
   * A push client whose connection closed but may come back (an SSE stream
   * the browser reopens): it stays a member, receives nothing, and leaves
   * after `graceMs` unless attach() gives it a new pipe.
   */
  detach(clientId: string, graceMs: number): void {
    const client = this.clients.get(clientId)
    if (!client) return
    for (const name of roomList(client.rooms)) {
      const room = this.rooms.get(name)
      if (room) this.unplug(room, client)
    }
    client.sink = undefined
    client.leaseMs = graceMs
    client.expires = this.kept() + graceMs
  }

  /** Gives a detached client its new sink (and the way to end it); false when it already left. */
  attach(clientId: string, sink: unknown, end?: Ending): boolean {
    const client = this.clients.get(clientId)
    if (!client) return false
    client.sink = sink
    for (const name of roomList(client.rooms)) {
      const room = this.rooms.get(name)
      if (room) this.plug(room, client)
    }
    client.end = end
    client.leaseMs = undefined
    client.expires = NO_LEASE
    return true
  }

  /** The client's stream is now listed under another connection (a polling join, a renewed SSE stream). */
  moved(clientId: string, connectionId: string | undefined): void {
    const client = this.clients.get(clientId)
    if (client && connectionId !== undefined) client.connectionId = connectionId
  }

  /**
   * Sends a client away: its transport ends the connection saying `reason`,
   * and it leaves every room (the others get leave notices; the log keeps
   * everything). False for a client that is not here.
   */
  end(clientId: string, reason: LabError): boolean {
    const client = this.clients.get(clientId)
    if (!client) return false
    try {
      const ending = client.end
      if (typeof ending === 'function') ending(reason, clientId)
      else ending?.end(reason, clientId)
    } catch {
      // Its transport could not say goodbye: it leaves all the same.
    }
    this.disconnect(clientId)
    return true
  }

  /** Ends every client that connected with the credential `id` (a revoked token): all of one person's connections. */
  endCredential(id: string, reason: LabError): number {
    let ended = 0
    for (const client of [...this.clients.values()]) {
      if (client.credential?.id === id && this.end(client.clientId, reason)) ended++
    }
    return ended
  }

  /** Every member of the room on this server, with since when and where each is connected: the instructor's view. */
  members(roomName: string): MemberDetail[] {
    const room = this.rooms.get(roomName)
    if (!room) return []
    return [...room.members.values()].map(({ clientId, name, transport, connected, connectionId }) => ({
      clientId,
      name,
      transport,
      connectedAt: this.start + connected,
      connectionId,
    }))
  }

  /**
   * Who is in the room, on every server. With a shared log a server none of the room's members is on follows
   * the room first: its presence comes with the copy.
   */
  async whoIsIn(roomName: string): Promise<Member[]> {
    if (this.shared) await this.followed(roomName)
    return this.presence(roomName)
  }

  /** Who is in the room as this server's copy has it (none when it has no copy). */
  presence(roomName: string, limit = Infinity): Member[] {
    const room = this.rooms.get(roomName)
    const members: Member[] = []
    if (!room) return members
    for (const member of room.roster.values()) {
      if (members.length >= limit) break
      members.push(member)
    }
    return members
  }

  roomSummaries(): Array<{ room: string; epoch: string; seq: number; members: number }> {
    return [...this.rooms.values()].map((room) => ({
      room: room.name,
      epoch: room.epoch,
      seq: room.seq,
      members: room.roster.size,
    }))
  }

  /** Every entry appended, and the client it is not delivered to (when there is one). */
  onAppend(listener: (entry: LogEntry, except?: string) => void): () => void {
    this.appendListeners.add(listener)
    return () => this.appendListeners.delete(listener)
  }

  stats(): HubStats {
    let entries = 0
    for (const room of this.rooms.values()) entries += room.size
    return { rooms: this.rooms.size, clients: this.clients.size, entries }
  }

  close(): void {
    clearInterval(this.sweepTimer)
    for (const { timer } of this.presenceBudgets.values()) clearTimeout(timer)
    for (const [name, watchers] of [...this.watchers]) {
      this.watchers.delete(name)
      for (const waiter of watchers) waiter.woken()
    }
  }

  private welcome(
    client: ClientState,
    room: Room<ClientState>,
    after: Cursor | undefined,
    ready?: (joined: JoinResult) => void,
  ): JoinResult {
    const read = after ? room.after(after) : { epoch: room.epoch, seq: room.seq, recovered: true, entries: [] }
    const welcome: Welcome = {
      type: 'welcome',
      clientId: client.clientId,
      name: client.name,
      transport: client.transport,
      room: room.name,
      epoch: room.epoch,
      seq: room.seq,
      recovered: read.recovered,
      members: this.presence(room.name, WELCOME_MEMBERS_MAX),
      memberCount: room.roster.size,
    }
    if (this.instance !== undefined) welcome.instance = this.instance
    const joined = { welcome, backlog: read.entries }
    ready?.(joined)
    return joined
  }

  private append(room: Room<ClientState>, entry: LogEntry, except?: string, whole?: PresenceChange): void {
    room.append(entry)
    room.lastUsedAt = this.now()
    if (entry.type === 'notice') {
      if (entry.event === 'join') room.roster.set(entry.who.clientId, entry.who)
      else room.roster.delete(entry.who.clientId)
    } else if (entry.type === 'presence') {
      const change = whole ?? entry
      for (const member of change.joined) this.present(room, member, true)
      for (const member of change.left) this.present(room, member, false)
    }
    if (room.fanouts.size > 0) {
      const delivery: Delivery = { entry, encoded: encode(entry), except }
      for (const [fanout, sinks] of room.fanouts) {
        try {
          ;(fanout as Fanout).deliver(delivery, room.name, sinks)
        } catch {
          // A broken transport is its own problem; the others still get the entry.
        }
      }
    }
    // Every waiter is woken once: the set goes first, so that one waiting again at once waits for the next entry.
    const watchers = this.watchers.get(room.name)
    if (watchers) {
      this.watchers.delete(room.name)
      for (const waiter of watchers) {
        try {
          waiter.woken()
        } catch {
          // That poll's problem: the others are still answered.
        }
      }
    }
    for (const listener of this.appendListeners) {
      try {
        listener(entry, except)
      } catch {
        // Same as a broken pipe: the entry is logged and the other listeners still run.
      }
    }
  }

  /** Numbers a draft in this hub's own log. */
  private entry(room: Room<ClientState>, draft: Draft): LogEntry {
    const seq = room.seq + 1
    if (draft.type === 'notice') {
      // One literal with every field: the log keeps a notice per member of a crowd, and fields added by a spread
      // go into a property array of their own beside the object (40 bytes each, npm run bench:heap).
      const { event, who, serverAt } = draft.rest as Pick<Notice, 'event' | 'who' | 'serverAt'>
      return {
        type: 'notice',
        // The room's own name, not the joiner's copy of it: the log keeps a notice per member, and a name read
        // from each one's query was a string of its own on every idle connection (npm run bench:heap).
        room: room.name,
        seq,
        epoch: room.epoch,
        id: `${room.epoch}-${seq}`,
        event,
        who,
        serverAt,
      }
    }
    return {
      type: draft.type,
      room: room.name,
      seq,
      epoch: room.epoch,
      id: `${room.epoch}-${seq}`,
      ...draft.rest,
    } as LogEntry
  }

  /**
   * A presence entry's member, into the roster or out of it. A member of this server is in it exactly while it
   * is a member here: a batch sent to the shared log arrives back after the joins and leaves that came
   * meanwhile, and must not undo them.
   */
  private present(room: Room<ClientState>, member: Member, joined: boolean): void {
    if (member.instance === this.instance) joined = room.members.has(member.clientId)
    if (joined) room.roster.set(member.clientId, member)
    else room.roster.delete(member.clientId)
  }

  /**
   * The room's roster as the shared log has it, with the joins and leaves of this server's own members that
   * are still in the room's batch (not in the shared log yet).
   */
  private setRoster(room: Room<ClientState>, members: Member[]): void {
    const batch = this.presenceBudgets.get(room.name)?.batch
    room.roster.clear()
    for (const member of members) if (!batch?.left.has(member.clientId)) room.roster.set(member.clientId, member)
    if (batch) for (const member of batch.joined.values()) room.roster.set(member.clientId, member)
  }

  private notice(roomName: string, event: 'join' | 'leave', client: ClientState): Draft {
    const who: Member = { clientId: client.clientId, name: client.name, transport: client.transport }
    if (this.instance !== undefined) who.instance = this.instance
    return {
      type: 'notice',
      room: roomName,
      rest: { event, who, serverAt: this.now() },
      presence: event === 'join' ? { joined: [who], left: [] } : { joined: [], left: [who] },
    }
  }

  /** A leave notice or a presence batch to the shared log; kept for later when it cannot be sent now. Resolves to its seq. */
  private async sendPresence(draft: Draft): Promise<number | undefined> {
    try {
      return (await this.shared!.append(draft)).seq
    } catch {
      this.pendingPresence.push(draft)
      return undefined
    }
  }

  /** The shared log is back: who is here, said again; the leave notices and batches it missed, sent. */
  private async reconnected(): Promise<void> {
    const missed = this.pendingPresence
    this.pendingPresence = []
    for (const draft of missed) await this.sendPresence(draft)
    for (const room of this.rooms.values()) {
      const here = [...room.members.values()].map((client) => ({
        clientId: client.clientId,
        name: client.name,
        transport: client.transport,
        instance: this.instance,
      }))
      if (here.length > 0) await this.shared!.assertPresence(room.name, here).catch(() => {})
    }
  }

  /** This server's copy of a room in the shared log, following it first when it has none. */
  private followed(name: string): Promise<Room<ClientState>> {
    const room = this.rooms.get(name)
    if (room) {
      room.lastUsedAt = this.now()
      return Promise.resolve(room)
    }
    let pending = this.following.get(name)
    if (!pending) {
      if (this.rooms.size + this.following.size >= this.maxRooms) this.evictIdleRoom()
      pending = this.shared!.follow(name).then(
        () => {
          this.following.delete(name)
          const followed = this.rooms.get(name)
          if (!followed) throw new LabError('LAB_ERR_INTERNAL')
          return followed
        },
        (error: unknown) => {
          this.following.delete(name)
          throw error
        },
      )
      this.following.set(name, pending)
    }
    return pending
  }

  private restore(name: string, log: RoomLog, roster?: Member[]): void {
    const old = this.rooms.get(name)
    const room = new Room<ClientState>(name, this.historyLimit, this.historyLimit, log)
    room.lastUsedAt = this.now()
    if (old)
      for (const [id, member] of old.members) {
        room.members.set(id, member)
        if (member.sink !== undefined && member.fanout) room.sinks(member.fanout).set(id, member.sink)
      }
    if (roster) this.setRoster(room, roster)
    else if (old) for (const [id, member] of old.roster) room.roster.set(id, member)
    this.rooms.set(name, room)
    // Members here missed what the copy skipped (another epoch, or more than the window): they
    // come back and resume, which tells each of them honestly what was recovered.
    if (old && old.members.size > 0 && (old.epoch !== log.epoch || log.lostBefore > old.seq) && old.epoch !== '') {
      for (const member of [...old.members.values()]) {
        // The connected ones (no lease): a polling client, and a stream that is reconnecting, resume by themselves.
        if (member.leaseMs === undefined)
          this.end(
            member.clientId,
            new LabError(
              'LAB_ERR_UNAVAILABLE',
              'the shared history changed while Redis was unreachable: reconnect to resume',
            ),
          )
      }
    }
  }

  /** A join or leave notice of this hub's own log: appended now, or into the room's batch (see coalesced). */
  private announce(room: Room<ClientState>, notice: Draft): void {
    if (!this.coalesced(room, notice)) this.append(room, this.entry(room, notice))
  }

  /**
   * True when the room's presence budget is spent: the notice goes into the room's batch, which goes out as
   * one presence entry when the budget allows again, and the roster (presence, welcomes) changes now. False:
   * the notice is to be sent on its own.
   */
  private coalesced(room: Room<ClientState>, notice: Draft): boolean {
    if (this.presenceRate <= 0) return false
    let state = this.presenceBudgets.get(room.name)
    if (!state)
      this.presenceBudgets.set(room.name, (state = { budget: new PresenceBudget(this.presenceRate, this.now()) }))
    const cost = this.presenceCost(room)
    if (!state.batch && state.budget.take(cost, this.now())) return false
    const { joined, left } = notice.presence!
    const batch = (state.batch ??= new PresenceBatch())
    for (const member of joined) {
      batch.add('join', member)
      room.roster.set(member.clientId, member)
    }
    for (const member of left) {
      batch.add('leave', member)
      room.roster.delete(member.clientId)
    }
    const name = room.name
    state.timer ??= setTimeout(() => this.flushPresence(name), Math.max(10, state.budget.waitMs(cost, this.now())))
    return true
  }

  /**
   * The deliveries one notice in this room costs: this server's push connections in it when it is alone; with a
   * shared log, every member of the room on every server, since its notices reach them all.
   */
  private presenceCost(room: Room<ClientState>): number {
    return this.shared ? room.roster.size : pushMembers(room)
  }

  /** The room's waiting joins and leaves, as one presence entry. */
  private flushPresence(name: string): void {
    const state = this.presenceBudgets.get(name)
    if (!state) return
    const { batch } = state
    state.timer = undefined
    state.batch = undefined
    const room = this.rooms.get(name)
    if (!room || !batch || batch.empty) return
    const now = this.now()
    state.budget.spend(this.presenceCost(room), now)
    const rest = batch.rest(room.roster.size, now)
    if (this.shared) void this.sendPresence({ type: 'presence', room: name, rest, presence: batch.whole() })
    else this.append(room, this.entry(room, { type: 'presence', room: name, rest }))
  }

  /** Makes the client a member: from now on the room's entries reach it. */
  private enter(room: Room<ClientState>, client: ClientState): void {
    room.members.set(client.clientId, client)
    client.rooms = withRoom(client.rooms, room.name)
    this.plug(room, client)
  }

  /** Ends the membership: nothing more reaches it, its own leave notice included. */
  private exit(room: Room<ClientState>, client: ClientState): void {
    client.rooms = withoutRoom(client.rooms, room.name)
    room.members.delete(client.clientId)
    this.unplug(room, client)
  }

  private plug(room: Room<ClientState>, client: ClientState): void {
    if (!client.fanout || client.sink === undefined) return
    room.sinks(client.fanout).set(client.clientId, client.sink)
    client.fanout.joined?.(client.sink, room.name)
  }

  private unplug(room: Room<ClientState>, client: ClientState): void {
    if (!client.fanout || client.sink === undefined) return
    const sinks = room.fanouts.get(client.fanout)
    if (!sinks?.delete(client.clientId)) return
    if (sinks.size === 0) room.fanouts.delete(client.fanout)
    client.fanout.left?.(client.sink, room.name)
  }

  private pin(name: string, by: number): void {
    const count = (this.pinned.get(name) ?? 0) + by
    if (count > 0) this.pinned.set(name, count)
    else this.pinned.delete(name)
  }

  private room(name: string): Room<ClientState> {
    let room = this.rooms.get(name)
    if (room) {
      room.lastUsedAt = this.now()
      return room
    }
    if (this.rooms.size >= this.maxRooms) this.evictIdleRoom()
    room = new Room<ClientState>(name, this.historyLimit)
    room.lastUsedAt = this.now()
    this.rooms.set(name, room)
    return room
  }

  /** Throws LAB_ERR_ROOM_LIMIT when joining `roomName` would need a new room and none can be made. */
  assertRoomAvailable(roomName: string): void {
    if (this.rooms.has(roomName) || this.rooms.size < this.maxRooms) return
    for (const room of this.rooms.values()) if (this.evictable(room)) return
    throw roomLimit(this.maxRooms)
  }

  private evictable(room: Room<ClientState>): boolean {
    return (
      room.members.size === 0 &&
      !this.pinned.has(room.name) &&
      !(this.shared && this.watchers.has(room.name)) &&
      !this.presenceBudgets.get(room.name)?.batch
    )
  }

  private evictIdleRoom(): void {
    let oldest: Room<ClientState> | undefined
    for (const room of this.rooms.values()) {
      if (!this.evictable(room)) continue
      if (!oldest || room.lastUsedAt < oldest.lastUsedAt) oldest = room
    }
    if (!oldest) throw roomLimit(this.maxRooms)
    this.rooms.delete(oldest.name)
    this.presenceBudgets.delete(oldest.name)
    this.shared?.unfollow(oldest.name)
  }

  /**
   * Now, as a client keeps its times: milliseconds after the hub began. Date.now() is past 2^31, so V8 would
   * box it, 16 bytes more for each time every idle client keeps; this stays a small integer for 24 days.
   */
  private kept(): number {
    return smallInteger(this.now() - this.start)
  }

  private mustGet(clientId: string): ClientState {
    const client = this.clients.get(clientId)
    if (!client) throw new LabError('LAB_ERR_UNKNOWN_CLIENT')
    return client
  }

  private sweepLeases(): void {
    const now = this.now()
    const kept = now - this.start
    const leaseOver = (client: ClientState) => client.expires !== NO_LEASE && client.expires <= kept
    // Every second over every client: the ones to drop are gathered first (nearly always none), rather than a
    // copy of them all made each time to iterate safely.
    let due: ClientState[] | undefined
    for (const client of this.clients.values())
      if (leaseOver(client) || (client.credential !== undefined && client.credential.expiresAt <= now))
        (due ??= []).push(client)
    if (!due) return
    for (const client of due) {
      if (leaseOver(client)) this.disconnect(client.clientId)
      else this.end(client.clientId, new LabError('LAB_ERR_AUTH', 'your token expired: log in again to rejoin'))
    }
  }
}

/** The connections a notice in this room is delivered to on this server: what it costs. */
function pushMembers(room: Room): number {
  let count = 0
  for (const sinks of room.fanouts.values()) count += sinks.size
  return count
}

function roomLimit(maxRooms: number): LabError {
  return new LabError('LAB_ERR_ROOM_LIMIT', `all ${maxRooms} rooms have members; try again later`)
}

function textChars(entry: LogEntry): number {
  return entry.type === 'message' ? entry.text.length : 0
}

/** One page of `room` after `after` (see read()). */
function pageOf(room: Room<ClientState> | undefined, after?: Cursor, page?: PageLimit): PageResult {
  if (!room) return { epoch: '', seq: 0, recovered: after === undefined || after.seq === 0, entries: [], more: false }
  const newest = page ?? NEWEST_PAGE
  if (!after)
    return {
      epoch: room.epoch,
      seq: room.seq,
      recovered: true,
      entries: lastPage(room.newest(newest.entries), newest),
      more: false,
    }
  const read = room.after(after)
  // Literals, not spreads of `read`: a spread copy that then overrides its fields cost about 350 bytes a read.
  const { epoch, seq, recovered } = read
  if (!recovered) return { epoch, seq, recovered, entries: lastPage(read.entries, newest), more: false }
  const entries = firstPage(read.entries, page ?? CATCH_UP_PAGE)
  const more = entries.length < read.entries.length
  return { epoch, seq: more ? entries.at(-1)!.seq : seq, recovered, entries, more }
}

/** The oldest entries that fit in a page (at least one, so a reader always moves on). */
function firstPage(entries: LogEntry[], page: PageLimit): LogEntry[] {
  let chars = 0
  let count = 0
  for (const entry of entries) {
    chars += textChars(entry)
    if (count > 0 && (count >= page.entries || chars > page.textChars)) break
    count++
  }
  return count === entries.length ? entries : entries.slice(0, count)
}

/** The newest entries that fit in a page. */
function lastPage(entries: LogEntry[], page: PageLimit): LogEntry[] {
  let chars = 0
  let count = 0
  for (let i = entries.length - 1; i >= 0; i--) {
    chars += textChars(entries[i]!)
    if (count > 0 && (count >= page.entries || chars > page.textChars)) break
    count++
  }
  return count === entries.length ? entries : entries.slice(entries.length - count)
}
