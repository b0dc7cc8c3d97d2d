// Scenario 5, the noisy neighbour: what one client flooding the server costs
// everybody else. Bystanders chat at a modest rate in a room (senders each
// under the default MESSAGE_RATE, receivers timing every delivery as in the
// latency scenario: sentAt stamped with performance.now(), perf_hooks
// histograms in ns, reported in µs), measured over the same window:
//
//   quiet  nobody floods
//   flood  one client (WebSocket frames, Socket.IO emits or HTTP POSTs) sends
//          as fast as its connection takes them into a room of its own that
//          nobody reads, from a load process of its own, starting at the
//          window's first mark
//
// on two Transport Lab processes that differ only in the message limit: the
// server's defaults (MESSAGE_RATE 10/s, MESSAGE_BURST 20) and MESSAGE_RATE=0
// (off). Each flood phase is given as a ratio to the quiet phase on the same
// server. The flood goes to a room of its own so that what is measured is what
// the flood costs the server, not the bystanders' own receive queue (a flood
// into their room with the limit off would close them as slow consumers:
// the slow-readers scenario measures that). What the flooder got is counted:
// sends attempted, accepted (the flooded room's seq on the server), refused
// (LAB_ERR_RATE_LIMIT), and how its connection was closed.
import { defaultConfig } from '../../server/config.ts'
import type { TransportName } from '../../server/core/protocol.ts'
import type { Context } from '../context.ts'
import type { StopResult } from '../clients/delivery.ts'
import type { FloodParams, FloodSeen, FloodTransport } from '../clients/flood.ts'
import { sleep } from '../clients/common.ts'
import type { LoadProcess } from '../load.ts'
import { cpuSeconds, ratioTo } from '../metrics.ts'
import type { NoisyRow } from '../schema.ts'
import type { RunningTarget } from '../targets.ts'

/** The bystanders' transport: one path measured in every phase. */
const BYSTANDER_TRANSPORT: TransportName = 'websocket'
const MAX_OUTSTANDING = 64

export const FLOOD_LABELS: Record<FloodTransport, string> = {
  websocket: 'WebSocket',
  'socket.io': 'Socket.IO',
  http: 'HTTP POST',
}

/** The flooders the chosen transports allow: WebSocket, Socket.IO, and an HTTP POST when any HTTP transport is in. */
export function floodTransports(transports: readonly TransportName[]): FloodTransport[] {
  const list: FloodTransport[] = []
  if (transports.includes('websocket')) list.push('websocket')
  if (transports.includes('socket.io')) list.push('socket.io')
  if (transports.some((t) => t === 'short-polling' || t === 'long-polling' || t === 'sse')) list.push('http')
  return list
}

interface Server {
  limit: 'on' | 'off'
  messageRate: number
  messageBurst: number
  target: RunningTarget
}

async function roomSeq(target: RunningTarget, room: string): Promise<number> {
  const res = await fetch(`${target.url}/api/rooms`, { signal: AbortSignal.timeout(10_000) })
  const rooms = (await res.json()) as Array<{ room: string; seq: number }>
  return rooms.find((r) => r.room === room)?.seq ?? 0
}

async function measurePhase(
  ctx: Context,
  server: Server,
  flooder: FloodTransport | null,
  floodLoad: LoadProcess,
): Promise<Omit<NoisyRow, 'p50Ratio' | 'p99Ratio'>> {
  const { options } = ctx
  const load = ctx.load.caller
  const room = ctx.tag('n')
  const floodRoom = `${room}-flood`
  await load.call(
    'delivery.open',
    {
      endpoint: ctx.endpoint({ target: 'lab', transport: BYSTANDER_TRANSPORT }, server.target),
      room,
      receivers: options.noisyReceivers,
      senders: options.noisySenders,
      textBytes: options.messageTextBytes,
      prefix: `${room}-`,
      connections: 1,
    },
    60_000,
  )
  await load.call('delivery.rate', { rateHz: options.noisyRateHz, maxOutstanding: MAX_OUTSTANDING })
  await sleep(options.warmupMs)
  if (flooder) {
    const params: FloodParams = {
      endpoint: ctx.endpoint({ target: 'lab', transport: 'websocket' }, server.target),
      transport: flooder,
      ownRoom: `${room}-f`,
      floodRoom,
      textBytes: options.messageTextBytes,
    }
    await floodLoad.caller.call('flood.start', params, 30_000)
  }
  const from = await load.call<{ at: number }>('delivery.mark', { measure: true })
  const p0 = await server.target.probe()
  await sleep(options.noisyMs)
  const p1 = await server.target.probe()
  const to = await load.call<{ at: number }>('delivery.mark', { measure: false })
  const seen = flooder ? await floodLoad.caller.call<FloodSeen>('flood.stop', {}, 30_000) : null
  const result = await load.call<StopResult>('delivery.stop', { drainMs: 5000 }, 60_000)
  ctx.account('noisy', result.accounting)
  const measuredMs = to.at - from.at
  const cpu = cpuSeconds({ user: p0.cpuUserUs, system: p0.cpuSystemUs }, { user: p1.cpuUserUs, system: p1.cpuSystemUs })
  const notes: string[] = []
  if (result.lateSends > 0)
    notes.push(`${result.lateSends} bystander sends could not go out on time (${MAX_OUTSTANDING} already in flight)`)
  if (result.clamped > 0) notes.push(`${result.clamped} samples raised to 1 ns`)
  if (result.latency.count !== result.deliveriesMeasured)
    ctx.note(
      `noisy: ${server.limit} ${flooder ?? 'quiet'} recorded ${result.latency.count} samples for ${result.deliveriesMeasured} measured deliveries.`,
    )
  const limitLabel = `limit ${server.limit}`
  return {
    phase: flooder ? 'flood' : 'quiet',
    limit: server.limit,
    messageRate: server.messageRate,
    messageBurst: server.messageBurst,
    label: flooder ? `${FLOOD_LABELS[flooder]} flood, ${limitLabel}` : `nobody flooding, ${limitLabel}`,
    flood: seen ? { ...seen, accepted: await roomSeq(server.target, floodRoom) } : null,
    measuredMs,
    latency: result.latency,
    deliveriesMeasured: result.deliveriesMeasured,
    clamped: result.clamped,
    serverCpuCores: cpu / (Math.max(1, p1.at - p0.at) / 1000),
    accounting: result.accounting,
    ...(notes.length ? { note: notes.join('; ') } : {}),
  }
}

/**
 * The two servers, by the key ctx.prepareLab() starts them under. Everything comes from 127.0.0.1: the address
 * limit stays off on both, the message limit is what differs.
 */
export const NOISY_SERVERS: Record<'noisy:on' | 'noisy:off', Record<string, string>> = {
  'noisy:on': {
    MESSAGE_RATE: String(defaultConfig.messageRate),
    MESSAGE_BURST: String(defaultConfig.messageBurst),
    MAX_CLIENTS_PER_ADDRESS: '0',
  },
  'noisy:off': { MESSAGE_RATE: '0', MAX_CLIENTS_PER_ADDRESS: '0' },
}

export async function runNoisy(ctx: Context) {
  const { options } = ctx
  const flooders = floodTransports(options.transports)
  const bar = ctx.progress.scenario('noisy', 2 * (1 + flooders.length))
  const starting = [
    ctx.labWith(NOISY_SERVERS['noisy:on'], 'noisy:on'),
    ctx.labWith(NOISY_SERVERS['noisy:off'], 'noisy:off'),
    ctx.startLoad('flood'),
  ] as const
  const started = await Promise.allSettled(starting)
  const failed = started.find((s) => s.status === 'rejected')
  if (failed) {
    // Stop what did start before giving up on the scenario.
    await Promise.allSettled(started.flatMap((s) => (s.status === 'fulfilled' ? [s.value.stop()] : [])))
    throw failed.reason
  }
  const [on, off, floodLoad] = await Promise.all(starting)
  const rows: NoisyRow[] = []
  try {
    const servers: Server[] = [
      { limit: 'on', messageRate: defaultConfig.messageRate, messageBurst: defaultConfig.messageBurst, target: on },
      { limit: 'off', messageRate: 0, messageBurst: defaultConfig.messageBurst, target: off },
    ]
    for (const server of servers) {
      const quiet = await measurePhase(ctx, server, null, floodLoad)
      bar.tick(quiet.label)
      rows.push({
        ...quiet,
        p50Ratio: ratioTo(quiet.latency.p50Us, quiet.latency.p50Us),
        p99Ratio: ratioTo(quiet.latency.p99Us, quiet.latency.p99Us),
      })
      for (const flooder of flooders) {
        const row = await measurePhase(ctx, server, flooder, floodLoad)
        bar.tick(row.label)
        rows.push({
          ...row,
          p50Ratio: ratioTo(row.latency.p50Us, quiet.latency.p50Us),
          p99Ratio: ratioTo(row.latency.p99Us, quiet.latency.p99Us),
        })
      }
    }
  } finally {
    await Promise.allSettled([on.stop(), off.stop(), floodLoad.stop()])
  }
  bar.done()
  return {
    transport: BYSTANDER_TRANSPORT,
    rateHz: options.noisyRateHz,
    senders: options.noisySenders,
    receivers: options.noisyReceivers,
    textBytes: options.messageTextBytes,
    rows,
  }
}
