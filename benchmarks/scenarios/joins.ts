// Scenario: joins. For each push transport and each N of --joins, on a fresh
// Transport Lab process: N clients open (64 at a time per load process) and
// all join ONE room; once every client has its welcome and the room's presence
// (GET /api/rooms/:room/presence) counts them all, the server's CPU time over
// the joins is read, and the clients are held a few seconds more.
//
//   CPU-ms per join      = server CPU-s over the joins / joined
//   per-join ratio       = CPU-ms per join at N / at the smallest N: 1.0x means
//                          the cost of a join does not grow with the room (the
//                          total grows linearly in N); N/smallest N means every
//                          join costs in proportion to the members already there
//   presence per client  = presence deliveries (join notices, coalesced presence
//                          entries) a client received, on average: about N/2
//                          when every join goes to every member
//
// WebSocket is measured once more on a server with REDIS_URL (a redis-server
// of the scenario's own), where joins and presence go through the shared log:
// the batches of presence entries must keep a storm linear there too.
//
// No baseline: the bare libraries have no presence. Each N may take
// joinsLimitMs; one cut short is reported as such and the larger N of that
// transport are not attempted.
import { findBinary } from '../../cluster/children.ts'
import { REDIS_APT_PACKAGE, startRedisServer } from '../../cluster/redis.ts'
import type { CrowdReport } from '../clients/crowd.ts'
import { sleep } from '../clients/common.ts'
import type { Context } from '../context.ts'
import type { LoadProcess } from '../load.ts'
import { cpuSeconds } from '../metrics.ts'
import { killOnExit } from '../processes.ts'
import type { TransportName } from '../../server/core/protocol.ts'
import type { JoinsRow, Loss } from '../schema.ts'
import { subject, type Subject } from '../subjects.ts'
import type { RunningTarget } from '../targets.ts'
import { CLIENTS_PER_LOAD_PROCESS } from './idle.ts'

export const JOINS_TRANSPORTS = ['sse', 'websocket', 'socket.io'] as const
/** The transport measured again with REDIS_URL. */
export const JOINS_REDIS_TRANSPORT = 'websocket'
/** Clients opening at once, per load process: a join storm, not a thundering herd of handshakes. */
export const JOIN_CONCURRENCY = 64
const PRESENCE_POLL_MS = 100

/** How many members GET /api/rooms/:room/presence counts: a list of members, or an object that says. */
export function presenceCount(body: unknown): number {
  if (Array.isArray(body)) return body.length
  const o = body as { memberCount?: unknown; members?: unknown } | null
  if (typeof o?.memberCount === 'number') return o.memberCount
  return Array.isArray(o?.members) ? o.members.length : 0
}

async function readPresence(target: RunningTarget, room: string): Promise<number> {
  try {
    const res = await fetch(`${target.url}/api/rooms/${encodeURIComponent(room)}/presence`, {
      signal: AbortSignal.timeout(10_000),
    })
    return res.ok ? presenceCount(await res.json()) : 0
  } catch {
    // A server too busy to answer in time counts no one yet: the next reading will.
    return 0
  }
}

function addLosses(lists: Loss[][]): Loss[] {
  const reasons = new Map<string, number>()
  for (const list of lists) for (const f of list) reasons.set(f.reason, (reasons.get(f.reason) ?? 0) + f.count)
  return [...reasons].map(([reason, count]) => ({ reason, count }))
}

type Measurement = Omit<JoinsRow, 'perJoinRatio'>

/** Where a row's server keeps its rooms: in memory, or in the Redis at `redisUrl`. */
interface Setup {
  setup: 'alone' | 'redis'
  redisUrl?: string
}

async function measureJoins(
  ctx: Context,
  s: Subject,
  n: number,
  loads: LoadProcess[],
  where: Setup = { setup: 'alone' },
): Promise<Measurement> {
  const { options } = ctx
  const env: Record<string, string> = where.redisUrl ? { REDIS_URL: where.redisUrl, INSTANCE_ID: 'a' } : {}
  const redis = where.setup === 'redis'
  const target = await ctx.labWith(env, undefined, `joins-${s.transport}${redis ? '-redis' : ''}-${n}`)
  const crowd = ctx.tag('j')
  const room = crowd
  // Only as many load processes as N needs: a process of its own per CLIENTS_PER_LOAD_PROCESS clients.
  const used = loads.slice(0, Math.ceil(n / CLIENTS_PER_LOAD_PROCESS))
  const share = Math.ceil(n / used.length)
  try {
    const endpoint = ctx.endpoint(s, target)
    const c0 = await target.probe()
    const startedAt = performance.now()
    const opened: CrowdReport[] = await Promise.all(
      used.map((load, i) =>
        load.caller.call<CrowdReport>(
          'crowd.open',
          {
            crowd,
            endpoint,
            count: Math.max(0, Math.min(share, n - i * share)),
            // Every client in one room.
            roomSize: n,
            roomPrefix: room,
            offset: i * share,
            concurrency: JOIN_CONCURRENCY,
            countPresence: true,
            limitMs: options.joinsLimitMs,
          },
          options.joinsLimitMs + 120_000,
        ),
      ),
    )
    const joined = opened.reduce((sum, r) => sum + r.connected, 0)
    // Clients are named by the room prefix plus their room number: all are in `${room}0`.
    const roomName = `${room}0`
    let memberCount = await readPresence(target, roomName)
    while (memberCount < joined && performance.now() - startedAt < options.joinsLimitMs) {
      await sleep(PRESENCE_POLL_MS)
      memberCount = await readPresence(target, roomName)
    }
    const joinMs = performance.now() - startedAt
    const c1 = await target.probe()
    const notStarted = opened.reduce((sum, r) => sum + (r.notStarted ?? 0), 0)
    const failed = opened.reduce((sum, r) => sum + r.failed, 0)

    await sleep(options.joinsHoldMs)
    const held = await Promise.all(used.map((load) => load.caller.call<CrowdReport>('crowd.check', { crowd })))
    const presenceDeliveries = held.reduce((sum, r) => sum + (r.presenceDeliveries ?? 0), 0)
    const cpu = cpuSeconds(
      { user: c0.cpuUserUs, system: c0.cpuSystemUs },
      { user: c1.cpuUserUs, system: c1.cpuSystemUs },
    )
    const complete = joined === n && memberCount >= n
    const row = ctx.row(s)
    return {
      ...row,
      ...(redis ? { subject: `${row.subject}+redis`, label: `${row.label} + Redis` } : {}),
      setup: where.setup,
      clients: n,
      joined,
      failed,
      failures: addLosses(opened.map((r) => r.failures)),
      notStarted,
      memberCount,
      complete,
      joinMs,
      cpuSeconds: cpu,
      cpuMsPerJoin: joined > 0 ? (cpu * 1000) / joined : null,
      presenceDeliveries,
      presencePerClient: joined > 0 ? presenceDeliveries / joined : null,
      holdMs: options.joinsHoldMs,
      droppedDuringHold: held.reduce((sum, r) => sum + r.failed, 0),
      dropReasons: addLosses(held.map((r) => r.failures)),
      ...(complete
        ? {}
        : {
            note:
              `cut short after ${Math.round(joinMs / 1000)} s (the limit is ${options.joinsLimitMs / 1000} s): ` +
              `${joined} of ${n} joined, ${notStarted} never started, presence counted ${memberCount}`,
          }),
    }
  } finally {
    // The server first: closing thousands of clients one by one would make it send as many leave notices.
    await target.stop()
    await Promise.all(used.map((load) => load.caller.call('crowd.close', { crowd }, 120_000)))
  }
}

/** Each row's per-join cost over its transport's at the smallest N measured in full. */
export function withRatios(rows: Measurement[]): JoinsRow[] {
  return rows.map((row) => {
    const smallest = rows.find(
      (r) => r.transport === row.transport && (r.setup ?? 'alone') === (row.setup ?? 'alone') && r.complete,
    )
    const ratio =
      row.complete && smallest && smallest !== row && row.cpuMsPerJoin !== null && smallest.cpuMsPerJoin
        ? row.cpuMsPerJoin / smallest.cpuMsPerJoin
        : null
    return { ...row, perJoinRatio: ratio }
  })
}

export async function runJoins(ctx: Context) {
  const { options } = ctx
  const transports = JOINS_TRANSPORTS.filter((t) => options.transports.includes(t))
  const withRedis = options.transports.includes(JOINS_REDIS_TRANSPORT) && findBinary('redis-server') !== undefined
  if (options.transports.includes(JOINS_REDIS_TRANSPORT) && !withRedis)
    ctx.note(
      `joins: ${JOINS_REDIS_TRANSPORT} + Redis not measured, redis-server not found (apt-get install ${REDIS_APT_PACKAGE}).`,
    )
  const counts = options.joins
  const bar = ctx.progress.scenario('joins', (transports.length + (withRedis ? 1 : 0)) * counts.length)
  const extra: LoadProcess[] = []
  const rows: Measurement[] = []
  /** Each N of one transport in one setup, smallest first; after one cut short, the larger ones are not attempted. */
  const series = async (transport: TransportName, where: Setup) => {
    const name = where.setup === 'redis' ? `${transport} + Redis` : transport
    let cutShort: number | undefined
    for (const n of counts) {
      const label = `${name} ${n}`
      if (cutShort !== undefined) {
        ctx.note(`joins: ${label} not attempted, because ${name} ${cutShort} was cut short at the time limit.`)
        bar.tick(`${label} (not attempted)`)
        continue
      }
      try {
        const row = await measureJoins(ctx, subject('lab', transport), n, loads, where)
        rows.push(row)
        if (!row.complete) cutShort = n
      } catch (error) {
        if (!ctx.skipped(error, `joins ${label}`)) throw error
      }
      bar.tick(label)
    }
  }
  let loads: LoadProcess[] = [ctx.load]
  try {
    const wanted = Math.ceil(Math.max(...counts) / CLIENTS_PER_LOAD_PROCESS)
    for (let i = 1; i < wanted; i++) extra.push(await ctx.startLoad(`load-${i + 1}`))
    loads = [ctx.load, ...extra]
    for (const transport of transports) await series(transport, { setup: 'alone' })
    if (withRedis) {
      const redis = await startRedisServer()
      const forget = killOnExit(() => redis.child().kill())
      try {
        await series(JOINS_REDIS_TRANSPORT, { setup: 'redis', redisUrl: redis.url })
      } finally {
        await redis.stop()
        forget()
      }
    }
  } finally {
    await Promise.allSettled(extra.map((l) => l.stop()))
  }
  bar.done()
  return {
    counts,
    concurrency: JOIN_CONCURRENCY,
    limitMs: options.joinsLimitMs,
    holdMs: options.joinsHoldMs,
    rows: withRatios(rows),
  }
}
