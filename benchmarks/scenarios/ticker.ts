// Scenario 8, live prices: the server's own stream of small updates, as each
// transport carries it. A Transport Lab process of its own runs with
// TICKER_HZ (10 by default) and one receiver per transport joins its `ticker`
// room, which starts the ticker. After a warm-up, the measured updates are
// those the server's log gained between two readings of the room's seq. Each
// receiver says, of those, how many it got, in how many deliveries (HTTP
// responses, SSE events, WebSocket frames, Socket.IO packets), how many one
// delivery carried, and how old each update was when it arrived: receipt
// minus the tick's time (sentAt), both read from the machine's wall clock in
// their own process, recorded in a perf_hooks histogram (ns, shown in µs).
// Short polling shows what an interval does to a stream: bunches of about
// TICKER_HZ × SHORT_POLL_INTERVAL_MS / 1000 updates, the oldest nearly an
// interval old; the push transports carry each update alone, at once.
import { TICKER_ROOM } from '../../server/core/ticker.ts'
import type { Context } from '../context.ts'
import type { TickerSeen } from '../clients/ticker.ts'
import { sleep } from '../clients/common.ts'
import type { TickerRow } from '../schema.ts'
import { subject } from '../subjects.ts'
import type { RunningTarget } from '../targets.ts'
import { TRANSPORT_INFO } from '../../server/core/names.ts'

/** The settings of this scenario's server on top of the run's. */
export function tickerEnv(options: Pick<Context['options'], 'tickerHz'>): Record<string, string> {
  return { TICKER_HZ: String(options.tickerHz) }
}

interface RoomState {
  seq: number
  epoch: string
}

async function roomState(target: RunningTarget): Promise<RoomState> {
  const res = await fetch(`${target.url}/api/rooms`, { signal: AbortSignal.timeout(10_000) })
  const rooms = (await res.json()) as Array<{ room: string; seq: number; epoch: string }>
  const room = rooms.find((r) => r.room === TICKER_ROOM)
  if (!room) throw new Error(`the server has no ${TICKER_ROOM} room: its receivers did not join`)
  return { seq: room.seq, epoch: room.epoch }
}

/** The seqs of the server's updates after `from`, up to `toSeq`, read from its log a page at a time (a reader, not a member). */
async function loggedUpdates(target: RunningTarget, from: RoomState, toSeq: number): Promise<number[]> {
  const seqs: number[] = []
  let since = from.seq
  while (since < toSeq) {
    const query = new URLSearchParams({ room: TICKER_ROOM, since: String(since), epoch: from.epoch })
    const res = await fetch(`${target.url}${TRANSPORT_INFO['short-polling'].path}?${query}`, {
      signal: AbortSignal.timeout(10_000),
    })
    const batch = (await res.json()) as {
      seq: number
      recovered: boolean
      entries: Array<{ type: string; seq: number; from?: { transport: string } }>
    }
    if (!batch.recovered)
      throw new Error(
        `the ${TICKER_ROOM} room's log no longer holds the measured window (HISTORY_LIMIT): measure a shorter one`,
      )
    for (const entry of batch.entries) {
      if (entry.seq <= toSeq && entry.type === 'message' && entry.from?.transport === 'server') seqs.push(entry.seq)
    }
    if (batch.seq <= since) break
    since = batch.seq
  }
  return seqs
}

export async function runTicker(ctx: Context) {
  const { options, settings } = ctx
  const bar = ctx.progress.scenario('ticker', 1)
  const target = await ctx.labWith(tickerEnv(options), 'ticker')
  const load = ctx.load.caller
  let seen: TickerSeen[]
  let seqs: number[]
  let measuredMs: number
  try {
    const endpoints = options.transports.map((transport) => ctx.endpoint({ target: 'lab', transport }, target))
    await load.call('ticker.open', { endpoints, room: TICKER_ROOM }, 60_000)
    try {
      await sleep(options.warmupMs)
      const from = await roomState(target)
      const startedAt = performance.now()
      await sleep(options.tickerMs)
      const to = await roomState(target)
      measuredMs = performance.now() - startedAt
      seqs = await loggedUpdates(target, from, to.seq)
      // Short polling gets the last of them at its next poll, an interval later at most.
      seen = await load.call<TickerSeen[]>(
        'ticker.stop',
        { seqs, drainMs: 2 * settings.shortPollIntervalMs + 1000 },
        60_000,
      )
    } finally {
      await load.call('ticker.close')
    }
  } finally {
    await target.stop()
  }
  const rows = seen.map((s): TickerRow => {
    ctx.account('ticker', s.accounting)
    const notes: string[] = []
    if (s.transport === 'short-polling')
      notes.push(`polls every ${settings.shortPollIntervalMs} ms (SHORT_POLL_INTERVAL_MS)`)
    if (s.clamped > 0)
      notes.push(`${s.clamped} ages below 1 ns raised to it (the two processes' clocks disagree by that much)`)
    return {
      ...ctx.row(subject('lab', s.transport)),
      published: seqs.length,
      received: s.received,
      deliveries: s.deliveries,
      updatesPerDeliveryMean: s.updatesPerDeliveryMean,
      updatesPerDeliveryMax: s.updatesPerDeliveryMax,
      age: s.age,
      clamped: s.clamped,
      accounting: s.accounting,
      ...(notes.length ? { note: notes.join('; ') } : {}),
    }
  })
  bar.tick(`${rows.length} transports side by side`)
  bar.done()
  return {
    hz: options.tickerHz,
    measuredMs,
    published: seqs.length,
    publishedPerSecond: seqs.length / (measuredMs / 1000),
    shortPollIntervalMs: settings.shortPollIntervalMs,
    rows,
  }
}
