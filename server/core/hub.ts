// The chat itself, knowing nothing of how bytes travel. Transports are thin
// pipes: they turn their framing into hub calls (connect, join, send...) and
// hub deliveries into their framing. Ordering comes from here: publish
// appends to the room's log and hands the entry to every member synchronously,
// so every pipe sees entries in seq order.
import { randomUUID } from 'node:crypto'
import { LabError } from './errors.ts'
import { Room, type ReadResult } from './room.ts'
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

export interface HubOptions {
  /** Entries kept per room; older ones fall off and can no longer be resumed. */
  historyLimit: number
  /** Rooms kept at once; the least recently used empty room is dropped to make space. */
  maxRooms: number
  /** Rooms one client may be in at once. */
  maxRoomsPerClient?: number
  now?: () => number
}

/** How much one read may answer: a page, so that a 100-byte request cannot ask for megabytes. */
export interface PageLimit {
  entries: number
  /** Characters of message text, the part of an entry whose size a client controls. */
  textChars: number
}

export const DEFAULT_PAGE: PageLimit = { entries: 100, textChars: 64 * 1024 }

export interface PageResult extends ReadResult {
  /** True when entries stop short of the room's latest seq: read again after the last one. */
  more: boolean
}

export interface ConnectOptions {
  name: string
  transport: string
  /** Push pipes (SSE, WebSocket, Socket.IO) receive each entry of their rooms here. Pull pipes (polling) leave it out. */
  deliver?: (entry: LogEntry) => void
  /** For pipes that cannot tell when the client went away (polling): the member is dropped after this long without touch(). */
  leaseMs?: number
  /** Ends the client's connection in its transport's idiom, telling it why: how end() (an instructor's disconnect) reaches it. */
  end?: (reason: LabError) => void
  /** The connection its transport lists it under (the wire meter's id): opaque here, shown to the instructor. */
  connectionId?: string
  /** The token it connected with (opaque here): the client is ended when it expires, or with endCredential(). */
  credential?: Credential
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
  readonly rooms: ReadonlySet<string>
  readonly connectedAt: number
  readonly connectionId: string | undefined
  readonly credential: Credential | undefined
}

interface ClientState extends Client {
  rooms: Set<string>
  connectionId: string | undefined
  deliver: ((entry: LogEntry) => void) | undefined
  end: ((reason: LabError) => void) | undefined
  leaseMs: number | undefined
  expiresAt: number
}

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
  private readonly now: () => number
  private readonly rooms = new Map<string, Room<ClientState>>()
  private readonly clients = new Map<string, ClientState>()
  /** Long polls waiting per room name. Kept apart from the rooms so that waiting on a room neither creates nor pins it. */
  private readonly watchers = new Map<string, Set<() => void>>()
  private readonly sweepTimer: NodeJS.Timeout
  /** Called with every entry appended anywhere: metrics, logs and (later) a bus to other processes. */
  private readonly appendListeners = new Set<(entry: LogEntry) => void>()

  constructor(options: HubOptions) {
    this.historyLimit = options.historyLimit
    this.maxRooms = options.maxRooms
    this.maxRoomsPerClient = options.maxRoomsPerClient ?? Infinity
    this.now = options.now ?? Date.now
    this.sweepTimer = setInterval(() => this.sweepLeases(), 1000)
    this.sweepTimer.unref()
  }

  connect(options: ConnectOptions): Client {
    const client: ClientState = {
      clientId: randomUUID().slice(0, 13),
      name: options.name,
      transport: options.transport,
      rooms: new Set(),
      connectedAt: this.now(),
      connectionId: options.connectionId,
      deliver: options.deliver,
      end: options.end,
      leaseMs: options.leaseMs,
      expiresAt: options.leaseMs ? this.now() + options.leaseMs : Infinity,
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
    if (client.leaseMs) client.expiresAt = this.now() + client.leaseMs
    return true
  }

  join(clientId: string, roomName: string, after?: Cursor): JoinResult {
    const client = this.mustGet(clientId)
    if (!client.rooms.has(roomName) && client.rooms.size >= this.maxRoomsPerClient) {
      throw new LabError(
        'LAB_ERR_TOO_MANY_ROOMS',
        `a client may be in ${this.maxRoomsPerClient} rooms at once: leave one first`,
      )
    }
    const room = this.room(roomName)
    if (!client.rooms.has(roomName)) {
      // The notice goes to those already present; the joiner learns of the
      // room from its welcome (and its backlog when it asked to resume).
      this.append(room, this.notice(room, 'join', client))
      room.members.set(clientId, client)
      client.rooms.add(roomName)
    }
    const read = after ? room.after(after) : { epoch: room.epoch, seq: room.seq, recovered: true, entries: [] }
    return {
      welcome: {
        type: 'welcome',
        clientId,
        name: client.name,
        transport: client.transport,
        room: roomName,
        epoch: room.epoch,
        seq: room.seq,
        recovered: read.recovered,
        members: this.presence(roomName, WELCOME_MEMBERS_MAX),
        memberCount: room.members.size,
      },
      backlog: read.entries,
    }
  }

  /** Returns the room's seq afterwards (the leave notice's, when there was one). */
  leave(clientId: string, roomName: string): number {
    const client = this.clients.get(clientId)
    const room = this.rooms.get(roomName)
    if (!room) return 0
    if (!client || !client.rooms.has(roomName)) return room.seq
    client.rooms.delete(roomName)
    room.members.delete(clientId)
    this.append(room, this.notice(room, 'leave', client))
    return room.seq
  }

  disconnect(clientId: string): void {
    const client = this.clients.get(clientId)
    if (!client) return
    for (const roomName of [...client.rooms]) this.leave(clientId, roomName)
    this.clients.delete(clientId)
  }

  publish(
    from: Sender,
    roomName: string,
    message: { text: string; sentAt?: number; clientMsgId?: string },
  ): ChatMessage {
    const room = this.room(roomName)
    const entry: ChatMessage = {
      type: 'message',
      room: roomName,
      seq: room.seq + 1,
      epoch: room.epoch,
      id: `${room.epoch}-${room.seq + 1}`,
      from,
      text: message.text,
      serverAt: this.now(),
    }
    if (message.sentAt !== undefined) entry.sentAt = message.sentAt
    if (message.clientMsgId !== undefined) entry.clientMsgId = message.clientMsgId
    this.append(room, entry)
    return entry
  }

  /**
   * What a pull pipe asks: one page of the room's entries after a cursor, or
   * its newest page when there is no cursor. Reading never creates a room (a
   * room nobody wrote to reads as empty, epoch ""), so reads cannot evict one.
   */
  read(roomName: string, after?: Cursor, page: PageLimit = DEFAULT_PAGE): PageResult {
    const room = this.rooms.get(roomName)
    if (!room) return { epoch: '', seq: 0, recovered: after === undefined || after.seq === 0, entries: [], more: false }
    if (!after)
      return {
        epoch: room.epoch,
        seq: room.seq,
        recovered: true,
        entries: lastPage(room.newest(page.entries), page),
        more: false,
      }
    const read = room.after(after)
    if (!read.recovered) return { ...read, entries: lastPage(read.entries, page), more: false }
    const entries = firstPage(read.entries, page)
    const more = entries.length < read.entries.length
    return { ...read, seq: more ? entries.at(-1)!.seq : read.seq, entries, more }
  }

  /**
   * Calls onAppend once the room has an entry after `afterSeq` (at once if it
   * already has). Returns a function that cancels the wait. Long polls hold on this.
   */
  waitFor(roomName: string, afterSeq: number, onAppend: () => void): () => void {
    const room = this.rooms.get(roomName)
    if (room && room.seq > afterSeq) {
      onAppend()
      return () => {}
    }
    let waiting = this.watchers.get(roomName)
    if (!waiting) this.watchers.set(roomName, (waiting = new Set()))
    const watchers = waiting
    const cancel = () => {
      watchers.delete(watcher)
      if (watchers.size === 0 && this.watchers.get(roomName) === watchers) this.watchers.delete(roomName)
    }
    const watcher = () => {
      cancel()
      onAppend()
    }
    watchers.add(watcher)
    return cancel
  }

  /**
   * A push client whose connection closed but may come back (an SSE stream
   * the browser reopens): it stays a member, receives nothing, and leaves
   * after `graceMs` unless attach() gives it a new pipe.
   */
  detach(clientId: string, graceMs: number): void {
    const client = this.clients.get(clientId)
    if (!client) return
    client.deliver = undefined
    client.leaseMs = graceMs
    client.expiresAt = this.now() + graceMs
  }

  /** Gives a detached client its new pipe (and the way to end it); false when it already left. */
  attach(clientId: string, deliver: (entry: LogEntry) => void, end?: (reason: LabError) => void): boolean {
    const client = this.clients.get(clientId)
    if (!client) return false
    client.deliver = deliver
    client.end = end
    client.leaseMs = undefined
    client.expiresAt = Infinity
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
      client.end?.(reason)
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

  /** Every member of the room, with since when and where each is connected: the instructor's view. */
  members(roomName: string): MemberDetail[] {
    const room = this.rooms.get(roomName)
    if (!room) return []
    return [...room.members.values()].map(({ clientId, name, transport, connectedAt, connectionId }) => ({
      clientId,
      name,
      transport,
      connectedAt,
      connectionId,
    }))
  }

  presence(roomName: string, limit = Infinity): Member[] {
    const room = this.rooms.get(roomName)
    const members: Member[] = []
    if (!room) return members
    for (const { clientId, name, transport } of room.members.values()) {
      if (members.length >= limit) break
      members.push({ clientId, name, transport })
    }
    return members
  }

  roomSummaries(): Array<{ room: string; epoch: string; seq: number; members: number }> {
    return [...this.rooms.values()].map((room) => ({
      room: room.name,
      epoch: room.epoch,
      seq: room.seq,
      members: room.members.size,
    }))
  }

  onAppend(listener: (entry: LogEntry) => void): () => void {
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
    for (const watchers of [...this.watchers.values()]) {
      for (const watcher of [...watchers]) watcher()
    }
  }

  private append(room: Room<ClientState>, entry: LogEntry): void {
    room.append(entry)
    room.lastUsedAt = this.now()
    for (const member of room.members.values()) {
      if (!member.deliver) continue
      try {
        member.deliver(entry)
      } catch {
        // A broken pipe is that transport's problem; the others still get the entry.
      }
    }
    // Waiters remove themselves when woken, so iterate over a copy (only when there are any).
    const watchers = this.watchers.get(room.name)
    if (watchers) for (const watcher of [...watchers]) watcher()
    for (const listener of this.appendListeners) {
      try {
        listener(entry)
      } catch {
        // Same as a broken pipe: the entry is logged and the other listeners still run.
      }
    }
  }

  private notice(room: Room<ClientState>, event: 'join' | 'leave', client: ClientState): Notice {
    return {
      type: 'notice',
      room: room.name,
      seq: room.seq + 1,
      epoch: room.epoch,
      id: `${room.epoch}-${room.seq + 1}`,
      event,
      who: { clientId: client.clientId, name: client.name, transport: client.transport },
      serverAt: this.now(),
    }
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
    for (const room of this.rooms.values()) if (room.members.size === 0) return
    throw roomLimit(this.maxRooms)
  }

  private evictIdleRoom(): void {
    let oldest: Room<ClientState> | undefined
    for (const room of this.rooms.values()) {
      if (room.members.size > 0) continue
      if (!oldest || room.lastUsedAt < oldest.lastUsedAt) oldest = room
    }
    if (!oldest) throw roomLimit(this.maxRooms)
    this.rooms.delete(oldest.name)
  }

  private mustGet(clientId: string): ClientState {
    const client = this.clients.get(clientId)
    if (!client) throw new LabError('LAB_ERR_UNKNOWN_CLIENT')
    return client
  }

  private sweepLeases(): void {
    const now = this.now()
    for (const client of [...this.clients.values()]) {
      if (client.expiresAt <= now) this.disconnect(client.clientId)
      else if (client.credential && client.credential.expiresAt <= now)
        this.end(client.clientId, new LabError('LAB_ERR_AUTH', 'your token expired: log in again to rejoin'))
    }
  }
}

function roomLimit(maxRooms: number): LabError {
  return new LabError('LAB_ERR_ROOM_LIMIT', `all ${maxRooms} rooms have members; try again later`)
}

function textChars(entry: LogEntry): number {
  return entry.type === 'message' ? entry.text.length : 0
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
