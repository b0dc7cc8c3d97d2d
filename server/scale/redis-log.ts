// The shared log for several servers (REDIS_URL). Redis holds each room's log
// and presence; every server keeps a copy of the rooms it serves and applies
// their entries in seq order, whichever server wrote them.
//
// - append.lua numbers an entry, stores it in the room's bounded streams and
//   publishes it on the room's channel, in one atomic step: seq order in
//   Redis is the order every subscriber receives.
// - A copy starts by subscribing, then reading the log (read.lua); entries
//   published meanwhile wait in a buffer and the ones the read already had are
//   dropped by seq: nothing missed, nothing twice.
// - A jump in seq (the subscription dropped while Redis was away) is filled
//   from the streams before anything after it is delivered. When the log can
//   no longer fill it (another epoch: Redis lost it; or the window moved past)
//   the copy starts over from the log, and the hub tells its members to resume.
// - Each server says it is alive every second (a key that expires after
//   INSTANCE_TTL_MS). The others notice one that stopped and publish a leave
//   notice for each of its members (one presence entry for a room's crowd of
//   them, past PRESENCE_RATE): a crashed server's members leave within
//   INSTANCE_TTL_MS + REAP_EVERY_MS.
//
// ioredis: it re-subscribes by itself after a reconnect, runs Lua with
// EVALSHA and falls back to EVAL when Redis restarted and forgot the script,
// and it can refuse commands at once while disconnected (no offline queue),
// so that a send fails with a clear error instead of hanging or being
// acknowledged before Redis has it.
import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { setTimeout as delay } from 'node:timers/promises'
import type { Redis, RedisOptions } from 'ioredis'
import { LabError } from '../core/errors.ts'
import type { Draft, LogSink, PresenceChange, SharedLog } from '../core/hub.ts'
import { PresenceBatch } from '../core/presence.ts'
import type { LogEntry, Member } from '../core/protocol.ts'
import type { RoomLog } from '../core/room.ts'

/** A server whose alive key is this old is gone. */
export const INSTANCE_TTL_MS = 5000
const HEARTBEAT_EVERY_MS = 1000
/** How often each server looks for servers that stopped. */
export const REAP_EVERY_MS = 2000
/** A room nobody wrote to for this long is dropped from Redis; its next entry starts a new epoch. */
export const ROOM_TTL_MS = 24 * 60 * 60 * 1000
/** How long a send waits for its own entry to come round before reading it from the streams. */
const OWN_ENTRY_GRACE_MS = 300
/** How long start-up keeps trying to reach Redis before giving up with an error. */
const CONNECT_DEADLINE_MS = 6000

const APPEND = readFileSync(new URL('./append.lua', import.meta.url), 'utf8')
const READ = readFileSync(new URL('./read.lua', import.meta.url), 'utf8')

type ScriptedRedis = Redis & {
  labAppend(...args: Array<string | number>): Promise<string>
  labRead(...args: string[]): Promise<[string, number, number, string[], string[], string[]]>
}

export interface RedisLogOptions {
  url: string
  instance: string
  historyLimit: number
  /** PRESENCE_RATE: a stopped server's members in a room leave in one presence entry when their notices would cost more. */
  presenceRate?: number
  log: { info(msg: string): void; warn(obj: object, msg: string): void }
  /** Overrides for tests. */
  instanceTtlMs?: number
  reapEveryMs?: number
}

/** A token revoked on one server (a logout, an instructor's disconnect), for all of them. */
export interface Revocation {
  id: string
  name: string
  expiresAt: number
  /** How its connections end: LAB_ERR_AUTH for a logout, LAB_ERR_DISCONNECTED for the instructor's. */
  code: 'LAB_ERR_AUTH' | 'LAB_ERR_DISCONNECTED'
  message?: string
}

/** Redis could not be reached at start: main prints the message and exits. */
export class SharedLogUnavailable extends Error {
  override name = 'SharedLogUnavailable'
}

const keys = (room: string) => [
  `lab:{${room}}:meta`,
  `lab:{${room}}:messages`,
  `lab:{${room}}:notices`,
  `lab:{${room}}:presence`,
]
const channelOf = (room: string) => `lab:{${room}}:feed`
const roomOfChannel = (channel: string) => channel.slice('lab:{'.length, -'}:feed'.length)
const aliveKey = (instance: string) => `lab:instance:${instance}`
const INSTANCES = 'lab:instances'
const REVOCATIONS = 'lab:revocations'
const revokedKey = (id: string) => `lab:revoked:${id}`

/** Where REDIS_URL points, without a password it may carry. */
export function redisAddress(url: string): string {
  const parsed = new URL(url)
  return `${parsed.protocol}//${parsed.host}`
}

export class RedisLog implements SharedLog {
  readonly instance: string
  sink: LogSink | undefined
  private readonly cmd: ScriptedRedis
  private readonly sub: Redis
  private readonly options: RedisLogOptions
  private readonly feeds = new Map<string, Feed>()
  private readonly timers: NodeJS.Timeout[] = []
  private readonly inFlight = new Set<Promise<unknown>>()
  private readonly revocationListeners = new Set<(revocation: Revocation) => void>()
  private closed = false

  /** Connects (retrying for a while, saying so) or throws SharedLogUnavailable: never hangs. */
  static async connect(options: RedisLogOptions): Promise<RedisLog> {
    const where = redisAddress(options.url)
    const deadline = Date.now() + CONNECT_DEADLINE_MS
    // Loaded here, not at start: a server without REDIS_URL never needs the client, and its code would be about
    // a megabyte of every heap that each full GC marks (benchmarks/README.md, nineteenth pass).
    const { Redis } = await import('ioredis')
    for (;;) {
      const cmd = new Redis(options.url, { ...CONNECTION, lazyConnect: true, retryStrategy: () => null })
      // The socket's own error (ECONNREFUSED...) says more than the promise's "Connection is closed".
      let cause: string | undefined
      cmd.on('error', (error: Error) => (cause ??= error.message))
      try {
        await cmd.connect()
        await cmd.ping()
        return new RedisLog(cmd, options)
      } catch (error) {
        cmd.disconnect()
        const reason = cause ?? (error instanceof Error ? error.message : String(error))
        if (Date.now() >= deadline)
          throw new SharedLogUnavailable(
            `cannot reach Redis at ${where} (${reason}); start redis-server there, or unset REDIS_URL to run alone`,
          )
        options.log.warn({ redis: where, reason }, 'Redis is not reachable yet; retrying')
        await delay(500)
      }
    }
  }

  private constructor(cmd: Redis, options: RedisLogOptions) {
    this.options = options
    this.instance = options.instance
    // From here on, a lost connection is retried forever, each command failing at once meanwhile.
    cmd.options.retryStrategy = (times) => Math.min(100 * times, 2000)
    cmd.defineCommand('labAppend', { numberOfKeys: 4, lua: APPEND })
    cmd.defineCommand('labRead', { numberOfKeys: 4, lua: READ })
    this.cmd = cmd as ScriptedRedis
    // Named, so that CLIENT LIST in redis-cli shows which server each connection belongs to.
    void cmd.client('SETNAME', `lab:${this.instance}:cmd`).catch(() => {})
    this.sub = cmd.duplicate({ enableOfflineQueue: true, connectionName: `lab:${this.instance}:sub` })
    const where = redisAddress(options.url)
    let cmdDown = false
    cmd.on('error', (error: Error) => {
      if (!cmdDown) options.log.warn({ redis: where, reason: error.message }, 'Redis connection lost; reconnecting')
      cmdDown = true
    })
    cmd.on('ready', () => {
      if (!cmdDown) return
      cmdDown = false
      options.log.info(`Redis at ${where} is reachable again`)
      this.heartbeat()
      this.sink?.reconnected()
    })
    this.sub.on('error', () => {})
    let subscribedOnce = false
    this.sub.on('ready', () => {
      // The first ready is the start; a later one follows an outage, during which entries may have gone by.
      if (subscribedOnce) for (const feed of this.feeds.values()) void feed.catchUp()
      subscribedOnce = true
    })
    this.sub.on('message', (channel: string, message: string) =>
      channel === REVOCATIONS ? this.revoked(message) : this.receive(channel, message),
    )
    this.sub.subscribe(REVOCATIONS).catch(() => {})
    this.heartbeat()
    this.timers.push(setInterval(() => this.heartbeat(), HEARTBEAT_EVERY_MS))
    this.timers.push(setInterval(() => void this.reap(), options.reapEveryMs ?? REAP_EVERY_MS))
    for (const timer of this.timers) timer.unref()
  }

  attach(sink: LogSink): void {
    this.sink = sink
  }

  async append(draft: Draft): Promise<LogEntry> {
    const head = `{"type":${JSON.stringify(draft.type)},"room":${JSON.stringify(draft.room)}`
    const tail = `,${JSON.stringify(draft.rest).slice(1)}`
    const presence = draft.presence
    const changes: string[] = []
    for (const member of presence?.joined ?? []) changes.push(member.clientId, JSON.stringify(member))
    for (const member of presence?.left ?? []) changes.push(member.clientId, '')
    const call = this.cmd.labAppend(
      ...keys(draft.room),
      draft.type,
      head,
      tail,
      draft.except ?? '',
      randomBytes(4).toString('hex'),
      this.options.historyLimit,
      channelOf(draft.room),
      ROOM_TTL_MS,
      presence && capped({ type: draft.type, ...draft.rest } as LogEntry) ? JSON.stringify(presence) : '',
      ...changes,
    )
    this.inFlight.add(call)
    let json: string
    try {
      json = await call
    } catch (error) {
      throw unavailable(error)
    } finally {
      this.inFlight.delete(call)
    }
    const entry = JSON.parse(json) as LogEntry
    // Answered once this server's copy has the entry too, as when the hub is the log.
    await this.feeds.get(draft.room)?.reached(entry)
    return entry
  }

  async follow(room: string): Promise<void> {
    let feed = this.feeds.get(room)
    if (!feed) {
      feed = new Feed(room, this)
      this.feeds.set(room, feed)
    }
    try {
      // Subscribed first, read second: whatever is published in between is in both, and dropped once by seq.
      await this.sub.subscribe(channelOf(room))
      await feed.load()
    } catch (error) {
      this.unfollow(room)
      throw unavailable(error)
    }
  }

  unfollow(room: string): void {
    const feed = this.feeds.get(room)
    if (!feed) return
    this.feeds.delete(room)
    feed.stop()
    this.sub.unsubscribe(channelOf(room)).catch(() => {})
  }

  async assertPresence(room: string, members: Member[]): Promise<void> {
    const [, , , presence] = keys(room)
    const fields = members.flatMap((member) => [member.clientId, JSON.stringify(member)])
    await this.cmd.hset(presence!, ...fields)
    await this.cmd.pexpire(presence!, ROOM_TTL_MS)
  }

  /**
   * Tells every server that a token is revoked: kept in Redis until it would have expired anyway (a server
   * that starts later reads it), and published to the ones running now.
   */
  async revoke(revocation: Revocation): Promise<void> {
    const json = JSON.stringify({ ...revocation, by: this.instance })
    await this.cmd
      .multi()
      .set(revokedKey(revocation.id), json, 'PX', Math.max(1, revocation.expiresAt - Date.now()))
      .publish(REVOCATIONS, json)
      .exec()
  }

  /** Calls `listener` for each token revoked by another server: those already revoked first, then each new one. */
  onRevocation(listener: (revocation: Revocation) => void): void {
    this.revocationListeners.add(listener)
    void this.revokedSoFar().then(
      (all) => all.forEach(listener),
      () => {},
    )
  }

  /** The live servers: each one's name, from the keys that say they are alive. */
  async instances(): Promise<string[]> {
    const names = await this.cmd.smembers(INSTANCES)
    const alive = await Promise.all(names.map((name) => this.cmd.exists(aliveKey(name))))
    return names.filter((_, i) => alive[i] === 1).sort()
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    for (const timer of this.timers) clearInterval(timer)
    // The leave notices of the clients that just disconnected go out before the connection does.
    await Promise.race([Promise.allSettled([...this.inFlight]), delay(2000)])
    for (const feed of this.feeds.values()) feed.stop()
    try {
      await this.cmd.multi().del(aliveKey(this.instance)).srem(INSTANCES, this.instance).exec()
    } catch {
      // Redis is away: the others will notice this server stopped by its alive key expiring.
    }
    this.sub.disconnect()
    this.cmd.disconnect()
  }

  /** read.lua, as a RoomLog and its roster. */
  async read(room: string, from: string, withPresence: boolean): Promise<{ log: RoomLog; roster: Member[] }> {
    const [epoch, seq, lost, messages, notices, members] = await this.cmd.labRead(
      ...keys(room),
      from,
      withPresence ? 'presence' : '',
    )
    return {
      log: {
        epoch,
        seq,
        lostBefore: lost,
        messages: messages.map((json) => JSON.parse(json) as LogEntry),
        notices: notices.map((json) => JSON.parse(json) as LogEntry),
      },
      roster: members.map((json) => JSON.parse(json) as Member),
    }
  }

  get ownEntryGraceMs(): number {
    return OWN_ENTRY_GRACE_MS
  }

  /** One published entry: `except \n entry`, and `\n whole` after a presence batch whose lists are capped. */
  private receive(channel: string, message: string): void {
    const feed = this.feeds.get(roomOfChannel(channel))
    if (!feed) return
    const newline = message.indexOf('\n')
    const second = message.indexOf('\n', newline + 1)
    let entry: LogEntry
    let whole: PresenceChange | undefined
    try {
      entry = JSON.parse(second < 0 ? message.slice(newline + 1) : message.slice(newline + 1, second)) as LogEntry
      if (second >= 0) whole = JSON.parse(message.slice(second + 1)) as PresenceChange
    } catch {
      // Not ours: nothing to deliver. A real entry missing because of it shows up as a gap and is read back.
      return
    }
    feed.receive(entry, newline > 0 ? message.slice(0, newline) : undefined, whole)
  }

  private async revokedSoFar(): Promise<Revocation[]> {
    const found: Revocation[] = []
    let cursor = '0'
    do {
      const [next, keys] = await this.cmd.scan(cursor, 'MATCH', revokedKey('*'), 'COUNT', 100)
      cursor = next
      const values = keys.length > 0 ? await this.cmd.mget(...keys) : []
      for (const value of values) if (value) found.push(JSON.parse(value) as Revocation)
    } while (cursor !== '0')
    return found
  }

  private revoked(message: string): void {
    let revocation: Revocation & { by?: string }
    try {
      revocation = JSON.parse(message) as Revocation & { by?: string }
    } catch {
      return
    }
    if (revocation.by === this.instance) return
    for (const listener of this.revocationListeners) listener(revocation)
  }

  private heartbeat(): void {
    const ttl = this.options.instanceTtlMs ?? INSTANCE_TTL_MS
    this.cmd
      .multi()
      .set(aliveKey(this.instance), String(Date.now()), 'PX', ttl)
      .sadd(INSTANCES, this.instance)
      .exec()
      .catch(() => {})
  }

  /** Servers that stopped saying they are alive: one of the others publishes their members' leave notices. */
  private async reap(): Promise<void> {
    try {
      for (const name of await this.cmd.smembers(INSTANCES)) {
        if (name === this.instance || (await this.cmd.exists(aliveKey(name))) === 1) continue
        // One server does it, not all of them: the first to take the lock.
        const lock = await this.cmd.set(`lab:reaping:${name}`, this.instance, 'PX', 10_000, 'NX')
        if (lock !== 'OK') continue
        let cursor = '0'
        do {
          const [next, found] = await this.cmd.scan(cursor, 'MATCH', 'lab:{*}:presence', 'COUNT', 100)
          cursor = next
          for (const key of found) {
            const room = key.slice('lab:{'.length, -'}:presence'.length)
            const everyone = (await this.cmd.hvals(key)).map((json) => JSON.parse(json) as Member)
            const gone = everyone.filter((member) => member.instance === name)
            const rate = this.options.presenceRate ?? 0
            // One leave notice to each member left, per member gone: past a second's presence budget, a crowd
            // leaves in one presence entry instead, as a crowd joining does.
            if (rate > 0 && gone.length * everyone.length > rate) {
              const batch = new PresenceBatch()
              for (const member of gone) batch.add('leave', member)
              await this.append({
                type: 'presence',
                room,
                rest: batch.rest(everyone.length - gone.length, Date.now()),
                presence: batch.whole(),
              })
              continue
            }
            for (const member of gone)
              await this.append({
                type: 'notice',
                room,
                rest: { event: 'leave', who: member, serverAt: Date.now() },
                presence: { joined: [], left: [member] },
              })
          }
        } while (cursor !== '0')
        await this.cmd.srem(INSTANCES, name)
        this.options.log.info(`server ${name} stopped answering: its members left their rooms`)
      }
    } catch {
      // Redis is away; the next round tries again.
    }
  }
}

const CONNECTION: RedisOptions = {
  // While Redis is away, a command fails at once (LAB_ERR_UNAVAILABLE) rather than waiting in a queue.
  enableOfflineQueue: false,
  maxRetriesPerRequest: 0,
  connectTimeout: 2000,
  // A Redis that accepts the connection but does not answer is as good as away.
  commandTimeout: 2000,
}

function unavailable(error: unknown): LabError {
  if (error instanceof LabError) return error
  const reason = error instanceof Error ? error.message : String(error)
  return new LabError('LAB_ERR_UNAVAILABLE', `the shared log (Redis) did not take it: ${reason}; nothing was sent`)
}

/** One room as this server follows it: the seq it has applied, and the entries waiting for their turn. */
class Feed {
  private epoch = ''
  private seq = 0
  private ready = false
  private busy = false
  private stopped = false
  private buffer: Array<[LogEntry, string | undefined, PresenceChange | undefined]> = []
  private waiters: Array<{ entry: LogEntry; done: () => void }> = []
  private readonly room: string
  private readonly log: RedisLog

  constructor(room: string, log: RedisLog) {
    this.room = room
    this.log = log
  }

  receive(entry: LogEntry, except: string | undefined, whole: PresenceChange | undefined): void {
    if (!this.ready || this.busy) this.buffer.push([entry, except, whole])
    else if (!this.offer(entry, except, false, whole)) {
      this.buffer.push([entry, except, whole])
      void this.catchUp()
    }
  }

  /** The whole log, then what arrived meanwhile. */
  async load(): Promise<void> {
    this.busy = true
    try {
      const { log, roster } = await this.log.read(this.room, '-', true)
      this.restore(log, roster)
      this.ready = true
      this.drain()
    } finally {
      this.busy = false
    }
    if (this.buffer.length > 0) await this.catchUp()
  }

  /** Reads what this copy is missing from the streams, then delivers the buffered entries after it. */
  async catchUp(): Promise<void> {
    if (this.busy || this.stopped || !this.ready) return
    this.busy = true
    try {
      let withPresence = false
      for (let round = 0; round < 5; round++) {
        const from = this.epoch === '' ? '-' : `${this.seq + 1}-0`
        const { log, roster } = await this.log.read(this.room, from, withPresence)
        if (log.epoch === this.epoch && log.lostBefore <= this.seq) {
          // A presence batch read back has its lists capped: who it brought and took is in the presence hash,
          // read in the same snapshot. Read again with it.
          if (!withPresence && log.notices.some(capped)) {
            withPresence = true
            continue
          }
          // What the streams kept, in order. Only notices can be missing here (they are trimmed on their own, as
          // in a Room): the snapshot is complete up to its seq otherwise.
          for (const entry of merge(log.messages, log.notices)) this.offer(entry, undefined, true)
          this.seq = Math.max(this.seq, log.seq)
          if (withPresence) this.log.sink?.roster(this.room, roster)
        } else {
          // Another epoch, or entries this copy never had fell out of the window: start over from the log.
          const whole = await this.log.read(this.room, '-', true)
          this.restore(whole.log, whole.roster)
        }
        if (this.drain()) break
      }
    } catch {
      // Redis is away: try again when it is back (the subscription's ready) or on the next send.
    } finally {
      this.busy = false
    }
    this.settle()
  }

  /** Resolves once this copy has applied `entry` (or has moved past it). */
  reached(entry: LogEntry): Promise<void> {
    if (this.has(entry) || this.stopped) return Promise.resolve()
    return new Promise((resolve) => {
      const waiter = { entry, done: resolve }
      this.waiters.push(waiter)
      // Its own entry comes round on the subscription; if it does not (the subscription dropped), read it back.
      const nudge = setTimeout(() => void this.catchUp(), this.log.ownEntryGraceMs)
      // The entry is in Redis either way: the send is not held forever.
      const giveUp = setTimeout(() => this.release(waiter), 10 * this.log.ownEntryGraceMs)
      const done = waiter.done
      waiter.done = () => {
        clearTimeout(nudge)
        clearTimeout(giveUp)
        done()
      }
    })
  }

  stop(): void {
    this.stopped = true
    for (const waiter of this.waiters) waiter.done()
    this.waiters = []
    this.buffer = []
  }

  private has(entry: LogEntry): boolean {
    return entry.epoch === this.epoch && entry.seq <= this.seq
  }

  /** Applies the entry if it is the next one; false for a gap (or another epoch) that must be read first. */
  private offer(entry: LogEntry, except: string | undefined, filling = false, whole?: PresenceChange): boolean {
    if (entry.epoch !== this.epoch) {
      // The first entry of a room that had no log yet is no gap; any other epoch change is.
      if (!(this.epoch === '' && this.seq === 0 && entry.seq === 1)) return false
      this.restore({ epoch: entry.epoch, seq: 0, lostBefore: 0, messages: [], notices: [] })
    }
    if (entry.seq <= this.seq) return true
    if (entry.seq > this.seq + 1 && !filling) return false
    this.seq = entry.seq
    this.log.sink?.apply(this.room, entry, except, whole)
    this.settle()
    return true
  }

  /** Delivers the buffered entries in order; false when one leaves a gap (the rest stay buffered). */
  private drain(): boolean {
    const waiting = this.buffer.sort((a, b) => (a[0].epoch === b[0].epoch ? a[0].seq - b[0].seq : 0))
    this.buffer = []
    for (let i = 0; i < waiting.length; i++) {
      const [entry, except, whole] = waiting[i]!
      if (!this.offer(entry, except, false, whole)) {
        this.buffer = waiting.slice(i)
        return false
      }
    }
    return true
  }

  private restore(log: RoomLog, roster?: Member[]): void {
    this.epoch = log.epoch
    this.seq = log.seq
    this.log.sink?.restore(this.room, log, roster)
    this.settle()
  }

  private settle(): void {
    if (this.waiters.length === 0) return
    const still = []
    for (const waiter of this.waiters) {
      if (this.has(waiter.entry)) waiter.done()
      else still.push(waiter)
    }
    this.waiters = still
  }

  private release(waiter: { entry: LogEntry; done: () => void }): void {
    this.waiters = this.waiters.filter((w) => w !== waiter)
    waiter.done()
  }
}

/** Whether a presence batch's lists leave out some of the members it counts. */
function capped(entry: LogEntry): boolean {
  return entry.type === 'presence' && (entry.joined.length < entry.joins || entry.left.length < entry.leaves)
}

function merge(a: LogEntry[], b: LogEntry[]): LogEntry[] {
  return [...a, ...b].sort((x, y) => x.seq - y.seq)
}
