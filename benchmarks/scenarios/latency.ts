// Scenario 2, delivery latency: one sender and N receivers at a fixed offered
// rate. The sender stamps sentAt with performance.now() and the receivers, in
// the same load process (the same clock), record now - sentAt on receipt into
// a perf_hooks histogram in nanoseconds; the report gives microseconds.
// A warm-up pass at the same rate is thrown away; only messages sent between
// the two marks are recorded. Short polling runs at the server's configured
// interval, so its latency is mostly the wait for the next poll.
// A tail is what a few stalls make of it (a GC pause, the other processes on
// two cores), so each subject is measured --repetitions times, interleaved as
// throughput's are: the row shows the repetition whose p99 is the median, and
// keeps every repetition's p50 and p99 as its spread.
import type { Context } from '../context.ts'
import type { StopResult } from '../clients/delivery.ts'
import type { LatencyRow } from '../schema.ts'
import type { Subject } from '../subjects.ts'
import { sleep } from '../clients/common.ts'
import { notesOf, spreadOf } from '../metrics.ts'

/** Sends in flight at most (HTTP senders): past this the sender counts late sends instead of queueing them. */
const MAX_OUTSTANDING = 64

type LatencyReading = Omit<LatencyRow, 'repetitions' | 'spread'>

async function measureLatency(ctx: Context, subject: Subject): Promise<LatencyReading> {
  const { options, settings } = ctx
  const load = ctx.load.caller
  const target = await ctx.target(subject.target)
  const polling = subject.transport === 'short-polling'
  await load.call(
    'delivery.open',
    {
      endpoint: ctx.endpoint(subject, target),
      room: ctx.tag('l'),
      receivers: options.receivers,
      textBytes: options.messageTextBytes,
      prefix: `${ctx.tag('l')}-`,
      connections: 4,
    },
    60_000,
  )
  await load.call('delivery.rate', { rateHz: options.rate, maxOutstanding: MAX_OUTSTANDING })
  await sleep(options.warmupMs)
  const from = await load.call<{ at: number }>('delivery.mark', { measure: true })
  await sleep(options.latencyMs)
  const to = await load.call<{ at: number }>('delivery.mark', { measure: false })
  // Whatever is still in flight gets time to arrive: for short polling, two intervals.
  const result = await load.call<StopResult>(
    'delivery.stop',
    { drainMs: polling ? 2 * settings.shortPollIntervalMs + 1000 : 3000 },
    60_000,
  )
  ctx.account('latency', result.accounting)
  if (result.latency.count !== result.deliveriesMeasured) {
    ctx.note(
      `latency: ${subject.id} recorded ${result.latency.count} samples for ${result.deliveriesMeasured} measured deliveries.`,
    )
  }
  const notes: string[] = []
  if (polling)
    notes.push(
      `polls every ${settings.shortPollIntervalMs} ms (SHORT_POLL_INTERVAL_MS): latency is mostly the wait for the next poll`,
    )
  if (result.lateSends > 0)
    notes.push(`${result.lateSends} sends could not go out on time (${MAX_OUTSTANDING} already in flight)`)
  if (result.clamped > 0) notes.push(`${result.clamped} samples raised to 1 ns`)
  if (result.reconnects > 0)
    notes.push(`${result.reconnects} streams renewed by the server and reopened with Last-Event-ID`)
  return {
    ...ctx.row(subject),
    rateHz: options.rate,
    receivers: options.receivers,
    measuredMs: to.at - from.at,
    latency: result.latency,
    deliveriesMeasured: result.deliveriesMeasured,
    clamped: result.clamped,
    accounting: result.accounting,
    ...(notes.length ? { note: notes.join('; ') } : {}),
  }
}

/** A subject's repetitions as one row: the one whose p99 is the median, with every p50 and p99 as the spread. */
export function combineLatency(readings: LatencyReading[]): LatencyRow {
  const byP99 = [...readings].sort((a, b) => (a.latency.p99Us ?? Infinity) - (b.latency.p99Us ?? Infinity))
  const middle = byP99[Math.floor((byP99.length - 1) / 2)]!
  const { note, ...shown } = middle
  return {
    ...shown,
    repetitions: readings.length,
    spread: {
      p50Us: spreadOf(readings.map((r) => r.latency.p50Us)),
      p99Us: spreadOf(readings.map((r) => r.latency.p99Us)),
    },
    ...notesOf(readings),
  }
}

export async function runLatency(ctx: Context) {
  const { options, settings } = ctx
  const { repetitions } = options
  const readings = new Map<string, LatencyReading[]>()
  const bar = ctx.progress.scenario('latency', ctx.subjects.length * repetitions)
  for (let rep = 1; rep <= repetitions; rep++) {
    const of = repetitions > 1 ? ` (${rep}/${repetitions})` : ''
    for (const subject of ctx.subjects) {
      const reading = await measureLatency(ctx, subject)
      const list = readings.get(subject.id)
      if (list) list.push(reading)
      else readings.set(subject.id, [reading])
      bar.tick(`${subject.id}${of}`)
    }
  }
  bar.done()
  return {
    rateHz: options.rate,
    receivers: options.receivers,
    shortPollIntervalMs: settings.shortPollIntervalMs,
    rows: [...readings.values()].map(combineLatency),
  }
}
