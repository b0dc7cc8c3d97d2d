// Scenario 9, scaling out: the same load against three setups measured in the
// same run, taking turns: one server alone (in memory, the baseline), one
// server with REDIS_URL (what the shared log costs), and two servers sharing a
// Redis behind nginx (cluster/start.ts). The load is one WebSocket room: K
// receivers and a sender, each connection with a `?sticky=` value of its own
// behind the balancer, so that nginx's hash spreads them over both instances
// and most messages cross from one instance to the other through Redis.
//
// Each repetition of a setup is one session on the same receivers: a latency
// pass at a fixed rate (sentAt to receipt, same process, perf_hooks histogram
// in ns, as the latency scenario), then a window pass at saturation
// (deliveries per second in slices of about a second, as the throughput
// scenario). Around the window pass, with the sender drained before and after
// (nothing in flight), the bench reads Redis's INFO commandstats: every
// command Redis ran in between, over the messages sent. Those include the
// commands append.lua runs inside Redis (XADD, PUBLISH, ...), which
// commandstats counts like any other, so the round trips are counted apart,
// in a short pass at the latency rate with MONITOR attached (which slows
// Redis, hence not during the timed passes): the commands whose source is a
// server's connection, not "lua" (append.lua's EVALSHA, and whatever else the
// servers sent meanwhile: heartbeats, reaps).
import { randomUUID } from 'node:crypto'
import { EventEmitter, once } from 'node:events'
import { connect } from 'node:net'
import { Redis } from 'ioredis'
import { NGINX_APT_PACKAGE } from '../../cluster/balancer.ts'
import { findBinary } from '../../cluster/children.ts'
import { REDIS_APT_PACKAGE, startRedisServer, type RedisServer } from '../../cluster/redis.ts'
import { startCluster, type Cluster } from '../../cluster/start.ts'
import type { Member } from '../../server/core/protocol.ts'
import type { Context } from '../context.ts'
import type { Mark, StopResult } from '../clients/delivery.ts'
import { sleep } from '../clients/common.ts'
import { commandsBetween, cpuSeconds, median, parseCommandStats, perSecond, ratioTo, spreadOf } from '../metrics.ts'
import { killOnExit, startWithRetry } from '../processes.ts'
import type { Accounting, RedisCount, ScaleRow } from '../schema.ts'
import { addAccounts } from '../accounting.ts'
import type { Endpoint } from '../subjects.ts'
import { CLIENT_BOUND_CORES } from './throughput.ts'

export const SCALE_SETUPS = ['alone', 'redis', 'cluster'] as const
export type ScaleSetup = (typeof SCALE_SETUPS)[number]

export const SCALE_LABELS: Record<ScaleSetup, string> = {
  alone: 'one server, in memory',
  redis: 'one server + Redis',
  cluster: 'two servers + Redis, behind nginx',
}

const CLUSTER_INSTANCES = 2
/** Sends in flight at most in the latency pass, as in the latency scenario. */
const MAX_OUTSTANDING = 64
const DRAIN_MS = 5000
/** The counting pass (MONITOR attached): long enough for tens of messages at the quick rate. */
const COUNT_MS_MAX = 1000
/** Tries to open a room whose receivers nginx put on every instance, before measuring it as it fell. */
const PLACEMENT_TRIES = 3

/** The setups the binaries found allow, and one line for each that they do not (the report prints it). */
export function scaleSetups(has: (binary: string) => boolean): { setups: ScaleSetup[]; skipped: string[] } {
  const redis = has('redis-server')
  const nginx = has('nginx')
  const skipped: string[] = []
  if (!redis)
    skipped.push(`${SCALE_LABELS.redis}: not measured, redis-server not found (apt-get install ${REDIS_APT_PACKAGE})`)
  if (!redis || !nginx) {
    const missing = [!redis && 'redis-server', !nginx && 'nginx'].filter(Boolean).join(' and ')
    const packages = [!redis && REDIS_APT_PACKAGE, !nginx && NGINX_APT_PACKAGE].filter(Boolean).join(' ')
    skipped.push(`${SCALE_LABELS.cluster}: not measured, ${missing} not found (apt-get install ${packages})`)
  }
  return { setups: SCALE_SETUPS.filter((s) => s === 'alone' || (s === 'redis' ? redis : redis && nginx)), skipped }
}

interface RunningSetup {
  setup: ScaleSetup
  /** Where the clients connect: the server, or the balancer. */
  url: string
  instances: number
  /** The instances' ids behind the balancer, which `?node=` pins a request to (none for one server). */
  nodes: string[]
  /** The Redis the setup shares, when it has one: read before and after each window pass. */
  redis: Redis | undefined
  redisUrl: string | undefined
  stop(): Promise<void>
}

/** A Redis client for INFO readings only; it fails at once rather than queueing while Redis is away. */
function statsClient(url: string): Redis {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, enableOfflineQueue: false })
  // A lost connection fails the next reading, which says why; the event itself must not end the runner.
  redis.on('error', () => {})
  return redis
}

async function startAlone(ctx: Context): Promise<RunningSetup> {
  // In memory whatever the environment says: this is the baseline.
  const target = await ctx.labWith({ REDIS_URL: '' }, undefined, 'scale-alone')
  return {
    setup: 'alone',
    url: target.url,
    instances: 1,
    nodes: [],
    redis: undefined,
    redisUrl: undefined,
    stop: () => target.stop(),
  }
}

async function startWithRedis(ctx: Context): Promise<RunningSetup> {
  const server: RedisServer = await startRedisServer()
  const forget = killOnExit(() => server.child().kill())
  const redis = statsClient(server.url)
  const stopRedis = async () => {
    redis.disconnect()
    await server.stop()
    forget()
  }
  try {
    await redis.connect()
    const target = await ctx.labWith({ REDIS_URL: server.url, INSTANCE_ID: 'a' }, undefined, 'scale-redis')
    return {
      setup: 'redis',
      url: target.url,
      instances: 1,
      nodes: [],
      redis,
      redisUrl: server.url,
      stop: async () => {
        await target.stop()
        await stopRedis()
      },
    }
  } catch (error) {
    await stopRedis()
    throw error
  }
}

async function startTwo(ctx: Context): Promise<RunningSetup> {
  const cluster: Cluster = await startCluster({
    instances: CLUSTER_INSTANCES,
    // The settings of every Transport Lab process of the run; the cluster sets PORT, HOST, REDIS_URL and INSTANCE_ID.
    env: { ...process.env, ...ctx.envFor('lab'), LOG_LEVEL: 'warn', TRUST_PROXY: 'loopback' },
    buildUi: false,
  })
  const groups = [cluster.balancer.pid, cluster.redis.pid, ...cluster.instances.map((i) => i.pid)]
  // Each runs in a process group of its own, which the runner's killAll would not reach.
  const forget = killOnExit(() => {
    for (const pid of groups) {
      try {
        process.kill(-pid, 'SIGKILL')
      } catch {
        // That group is already gone.
      }
    }
  })
  const redis = statsClient(cluster.redis.url)
  const stop = async () => {
    redis.disconnect()
    await cluster.stop()
    forget()
  }
  try {
    await redis.connect()
  } catch (error) {
    await stop()
    throw error
  }
  // The banner's URL ends with a slash; the clients add their paths to it.
  return {
    setup: 'cluster',
    url: cluster.url.replace(/\/$/, ''),
    instances: CLUSTER_INSTANCES,
    nodes: cluster.instances.map((i) => i.id),
    redis,
    redisUrl: cluster.redis.url,
    stop,
  }
}

const STARTS: Record<ScaleSetup, (ctx: Context) => Promise<RunningSetup>> = {
  alone: startAlone,
  redis: startWithRedis,
  cluster: startTwo,
}

async function commandStats(redis: Redis): Promise<Record<string, number>> {
  return parseCommandStats(await redis.info('commandstats'))
}

/**
 * The commands Redis receives from its clients while `run` runs, by name: MONITOR shows each command with its
 * source, and those a Lua script runs come from "lua". Two ECHOs with a token of this call's own mark the start
 * and the end in the stream, so that the count is exactly what came in between. MONITOR is read on a plain
 * socket: each line is one simple string, `+<time> [<db> <source>] "<command>" "<arg>" ...`.
 */
async function commandsSent(redisUrl: string, run: () => Promise<void>): Promise<Record<string, number>> {
  const { hostname, port } = new URL(redisUrl)
  const socket = connect({ host: hostname.replace(/^\[|\]$/g, ''), port: Number(port) })
  const token = `bench-count-${randomUUID()}`
  const byCommand: Record<string, number> = {}
  let counting = false
  let buffered = ''
  const events = new EventEmitter()
  socket.on('data', (chunk: Buffer) => {
    buffered += chunk.toString('latin1')
    let newline: number
    while ((newline = buffered.indexOf('\r\n')) >= 0) {
      const line = buffered.slice(0, newline)
      buffered = buffered.slice(newline + 2)
      if (line === '+OK') events.emit('monitoring')
      const match = /^\+\S+ \[\d+ ([^\]]+)\] "([^"]*)"(?: "([^"]*)")?/.exec(line)
      if (!match) continue
      const [, source, command, first] = match
      const name = command!.toLowerCase()
      if (name === 'echo' && first === `${token}-start`) counting = true
      else if (name === 'echo' && first === `${token}-end`) events.emit('end')
      else if (counting && source !== 'lua') byCommand[name] = (byCommand[name] ?? 0) + 1
    }
  })
  const failed = new Promise<never>((_, reject) => {
    socket.once('error', reject)
    socket.once('close', () => reject(new Error('the MONITOR connection to Redis closed')))
    setTimeout(() => reject(new Error('MONITOR did not show the end of the counting pass in time')), 60_000).unref()
  })
  failed.catch(() => {})
  const echo = new Redis(redisUrl, { maxRetriesPerRequest: 1 })
  echo.on('error', () => {})
  try {
    await Promise.race([once(socket, 'connect'), failed])
    const monitoring = once(events, 'monitoring')
    socket.write('MONITOR\r\n')
    await Promise.race([monitoring, failed])
    await echo.echo(`${token}-start`)
    await run()
    const ended = once(events, 'end')
    await echo.echo(`${token}-end`)
    await Promise.race([ended, failed])
  } finally {
    socket.destroy()
    echo.disconnect()
  }
  return byCommand
}

interface Placement {
  /** The instance the sender is on (null: a server without INSTANCE_ID, alone). */
  sender: string | null
  /** Receivers per instance ("in memory" alone). */
  receivers: Record<string, number>
}

async function presence(url: string, room: string, node?: string): Promise<Member[]> {
  const pin = node ? `?node=${encodeURIComponent(node)}` : ''
  const res = await fetch(`${url}/api/rooms/${encodeURIComponent(room)}/presence${pin}`, {
    signal: AbortSignal.timeout(10_000),
  })
  if (!res.ok) throw new Error(`GET presence of ${room} answered ${res.status}`)
  return (await res.json()) as Member[]
}

/**
 * Where the room's receivers and its sender are, once the servers that answer see all of them. Every instance
 * serves the receivers' room and so knows all its members; only the sender's instance serves the sender's own
 * room, so that one is asked of each instance (`?node=`).
 */
async function placementOf(
  running: RunningSetup,
  room: string,
  receivers: number,
  senderName: string,
): Promise<Placement> {
  const { url, nodes } = running
  const deadline = performance.now() + 10_000
  for (;;) {
    const [members, ...senderRooms] = await Promise.all([
      presence(url, room),
      ...(nodes.length > 1 ? nodes : [undefined]).map((node) => presence(url, `${room}-s`, node)),
    ])
    const senders = senderRooms.flat()
    const sender = senders.find((m) => m.name === senderName)
    if ((members.length >= receivers && sender) || performance.now() > deadline) {
      const byInstance: Record<string, number> = {}
      for (const m of members) byInstance[m.instance ?? 'in memory'] = (byInstance[m.instance ?? 'in memory'] ?? 0) + 1
      return { sender: sender?.instance ?? null, receivers: byInstance }
    }
    await sleep(50)
  }
}

interface Counted {
  byCommand: Record<string, number>
  messages: number
}

interface Reading {
  placement: Placement
  measuredMs: number
  messages: number
  deliveries: number
  deliveriesPerSecond: number
  messagesPerSecond: number
  latencyMeasuredMs: number
  p50Us: number | null
  p99Us: number | null
  samples: number
  deliveriesMeasured: number
  clamped: number
  loadCpuCores: number
  /** Commands Redis ran over the window pass, and the commands sent to it over the counting pass, each with its messages. */
  redis: { ran: Counted; sent: Counted } | null
  accounting: Accounting
  notes: string[]
}

async function measure(ctx: Context, running: RunningSetup): Promise<Reading> {
  const { options } = ctx
  const load = ctx.load.caller
  const endpoint: Endpoint = {
    target: 'lab',
    transport: 'websocket',
    url: running.url,
    pollIntervalMs: ctx.settings.shortPollIntervalMs,
  }
  const notes: string[] = []
  let placement: Placement
  for (let attempt = 1; ; attempt++) {
    const room = ctx.tag('k')
    const prefix = `${ctx.tag('k')}-`
    await load.call(
      'delivery.open',
      {
        endpoint,
        room,
        receivers: options.receivers,
        textBytes: options.messageTextBytes,
        prefix,
        connections: 1,
        sticky: running.instances > 1,
      },
      60_000,
    )
    placement = await placementOf(running, room, options.receivers, `${prefix}sender`)
    const spread = Object.keys(placement.receivers).length >= running.instances
    if (spread || attempt === PLACEMENT_TRIES) {
      if (!spread) notes.push(`nginx put every receiver on one instance ${PLACEMENT_TRIES} times running`)
      break
    }
    // Nothing was sent: the session closes with nothing to account for, and the next one has other sticky values.
    await load.call('delivery.stop', { drainMs: 0 }, 60_000)
  }

  // The latency pass: a fixed offered rate, only the messages sent between the two marks timed.
  await load.call('delivery.rate', { rateHz: options.rate, maxOutstanding: MAX_OUTSTANDING })
  await sleep(options.warmupMs)
  const from = await load.call<Mark>('delivery.mark', { measure: true })
  await sleep(options.latencyMs)
  const to = await load.call<Mark>('delivery.mark', { measure: false })
  const quiet = await load.call<Mark>('delivery.drain', { drainMs: DRAIN_MS }, DRAIN_MS + 10_000)
  const before = running.redis ? await commandStats(running.redis) : undefined

  // The window pass: as many messages in flight as the throughput scenario allows, read in slices.
  await load.call('delivery.window', { window: options.window, maxOutstanding: options.window })
  await sleep(options.warmupMs)
  const measureMs = options.throughputMs
  const slices = Math.max(1, Math.round(measureMs / Math.min(1000, measureMs / 2)))
  const marks: Mark[] = [await load.call<Mark>('delivery.mark')]
  for (let i = 0; i < slices; i++) {
    await sleep(measureMs / slices)
    marks.push(await load.call<Mark>('delivery.mark'))
  }
  const drained = await load.call<Mark>('delivery.drain', { drainMs: DRAIN_MS }, DRAIN_MS + 10_000)
  const after = running.redis ? await commandStats(running.redis) : undefined
  let sent: Counted | undefined
  if (running.redis) {
    let messages = 0
    const byCommand = await commandsSent(running.redisUrl!, async () => {
      const start = await load.call<Mark>('delivery.mark')
      await load.call('delivery.rate', { rateHz: options.rate, maxOutstanding: MAX_OUTSTANDING })
      await sleep(Math.min(COUNT_MS_MAX, options.latencyMs))
      const end = await load.call<Mark>('delivery.drain', { drainMs: DRAIN_MS }, DRAIN_MS + 10_000)
      messages = end.issued - start.issued
    })
    sent = { byCommand, messages }
  }
  const result = await load.call<StopResult>('delivery.stop', { drainMs: DRAIN_MS }, 60_000)
  ctx.account('scale', result.accounting)

  const m0 = marks[0]!
  const m1 = marks.at(-1)!
  const measuredMs = m1.at - m0.at
  const sliceRates = marks.slice(1).map((m, i) => ({
    deliveries: perSecond(m.deliveries - marks[i]!.deliveries, m.at - marks[i]!.at),
    messages: perSecond(m.completed - marks[i]!.completed, m.at - marks[i]!.at),
  }))
  const loadCpu = cpuSeconds(
    { user: m0.cpuUserUs, system: m0.cpuSystemUs },
    { user: m1.cpuUserUs, system: m1.cpuSystemUs },
  )
  if (result.stalled) notes.push('deliveries stopped for 10 s; the pump gave up')
  if (result.latency.count !== result.deliveriesMeasured)
    ctx.note(
      `scale: ${running.setup} recorded ${result.latency.count} samples for ${result.deliveriesMeasured} measured deliveries.`,
    )
  return {
    placement,
    measuredMs,
    messages: m1.completed - m0.completed,
    deliveries: m1.deliveries - m0.deliveries,
    deliveriesPerSecond:
      median(sliceRates.map((r) => r.deliveries)) ?? perSecond(m1.deliveries - m0.deliveries, measuredMs),
    messagesPerSecond: median(sliceRates.map((r) => r.messages)) ?? perSecond(m1.completed - m0.completed, measuredMs),
    latencyMeasuredMs: to.at - from.at,
    p50Us: result.latency.p50Us,
    p99Us: result.latency.p99Us,
    samples: result.latency.count,
    deliveriesMeasured: result.deliveriesMeasured,
    clamped: result.clamped,
    loadCpuCores: loadCpu / (measuredMs / 1000),
    redis:
      before && after && sent
        ? { ran: { byCommand: commandsBetween(before, after), messages: drained.issued - quiet.issued }, sent }
        : null,
    accounting: result.accounting,
    notes,
  }
}

function sum(values: number[]): number {
  return values.reduce((n, v) => n + v, 0)
}

function addCounts(counts: Counted[]): RedisCount {
  const byCommand: Record<string, number> = {}
  for (const count of counts)
    for (const [name, calls] of Object.entries(count.byCommand)) byCommand[name] = (byCommand[name] ?? 0) + calls
  const commands = sum(Object.values(byCommand))
  const messages = sum(counts.map((c) => c.messages))
  return { messages, commands, perMessage: messages > 0 ? commands / messages : null, byCommand }
}

/** One setup's row from its repetitions: rates and percentiles are their medians, counts add up. */
function rowOf(ctx: Context, setup: ScaleSetup, instances: number, readings: Reading[]): Omit<ScaleRow, 'vsAlone'> {
  const { options } = ctx
  const mid = (pick: (r: Reading) => number | null) => median(readings.map(pick).filter((v): v is number => v != null))
  const withRedis = readings.flatMap((r) => (r.redis ? [r.redis] : []))
  const redis: ScaleRow['redis'] =
    withRedis.length > 0
      ? { sent: addCounts(withRedis.map((r) => r.sent)), ran: addCounts(withRedis.map((r) => r.ran)) }
      : null
  const accounts = readings.map((r) => r.accounting)
  const loadCpuCores = mid((r) => r.loadCpuCores) ?? 0
  const notes = [...new Set(readings.flatMap((r) => r.notes))]
  const clamped = sum(readings.map((r) => r.clamped))
  if (clamped > 0) notes.push(`${clamped} samples raised to 1 ns`)
  return {
    setup,
    label: SCALE_LABELS[setup],
    instances,
    repetitions: readings.length,
    receivers: options.receivers,
    placements: readings.map((r) => r.placement),
    window: options.window,
    measuredMs: sum(readings.map((r) => r.measuredMs)),
    messages: sum(readings.map((r) => r.messages)),
    deliveries: sum(readings.map((r) => r.deliveries)),
    deliveriesPerSecond: mid((r) => r.deliveriesPerSecond) ?? 0,
    messagesPerSecond: mid((r) => r.messagesPerSecond) ?? 0,
    rateHz: options.rate,
    latencyMeasuredMs: sum(readings.map((r) => r.latencyMeasuredMs)),
    p50Us: mid((r) => r.p50Us),
    p99Us: mid((r) => r.p99Us),
    samples: sum(readings.map((r) => r.samples)),
    deliveriesMeasured: sum(readings.map((r) => r.deliveriesMeasured)),
    clamped,
    spread: {
      deliveriesPerSecond: spreadOf(readings.map((r) => r.deliveriesPerSecond)),
      p50Us: spreadOf(readings.map((r) => r.p50Us)),
      p99Us: spreadOf(readings.map((r) => r.p99Us)),
    },
    redis,
    loadCpuCores,
    clientBound: loadCpuCores > CLIENT_BOUND_CORES,
    accounting: { receivers: sum(accounts.map((a) => a.receivers)), ...addAccounts(accounts) },
    ...(notes.length ? { note: notes.join('; ') } : {}),
  }
}

export async function runScale(ctx: Context) {
  const { options } = ctx
  const { setups, skipped } = scaleSetups((binary) => findBinary(binary) !== undefined)
  for (const line of skipped) ctx.progress.log(`scale: ${line}`)
  const running: RunningSetup[] = []
  try {
    // One at a time: a cluster's four processes starting beside another server's would only slow both.
    for (const setup of setups) {
      const label = `scale ${SCALE_LABELS[setup]}`
      ctx.progress.log(`${label}: starting`)
      try {
        running.push(
          await startWithRetry(
            label,
            () => STARTS[setup](ctx),
            (reason) => ctx.note(`${label} did not start at the first attempt (${reason}) and was started once more.`),
          ),
        )
      } catch (error) {
        if (!ctx.skipped(error, label)) throw error
        skipped.push(`${SCALE_LABELS[setup]}: not measured, it did not start twice (see the notes)`)
      }
    }
    const bar = ctx.progress.scenario('scale', running.length * options.repetitions)
    const readings = new Map<ScaleSetup, Reading[]>()
    // The setups take turns, so that a machine that slows down half way slows each of them alike.
    for (let repetition = 1; repetition <= options.repetitions; repetition++) {
      for (const setup of running) {
        const reading = await measure(ctx, setup)
        readings.set(setup.setup, [...(readings.get(setup.setup) ?? []), reading])
        bar.tick(`${setup.setup} ${repetition}/${options.repetitions}`)
      }
    }
    bar.done()
    const rows = running.map((r) => rowOf(ctx, r.setup, r.instances, readings.get(r.setup)!))
    const alone = rows.find((r) => r.setup === 'alone')
    return {
      transport: 'websocket' as const,
      receivers: options.receivers,
      rateHz: options.rate,
      window: options.window,
      textBytes: options.messageTextBytes,
      skipped,
      rows: rows.map((row): ScaleRow => ({
        ...row,
        vsAlone: {
          deliveriesPerSecond: ratioTo(row.deliveriesPerSecond, alone?.deliveriesPerSecond),
          p50Us: ratioTo(row.p50Us, alone?.p50Us),
          p99Us: ratioTo(row.p99Us, alone?.p99Us),
        },
      })),
    }
  } finally {
    await Promise.allSettled(running.map((r) => r.stop()))
  }
}
