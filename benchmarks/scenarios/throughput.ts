// Scenario 3, throughput at saturation: one sender keeps a window of messages
// in flight (sent but not yet delivered to every receiver) to 1 and to 100
// receivers; the load process counts deliveries between two marks, the server
// process reports its CPU time at the same marks, and the load process its own
// (a load client near one full core is the bottleneck, and the row says so).
// A warm-up pass is thrown away; the window is read in slices of about a
// second and a window's rates are its slices' median. Every subject is
// measured --repetitions times (3), the repetitions interleaved over the
// subjects so that the machine's drift reaches all of them alike; a row
// reports the median of its repetitions and their spread. Short polling delivers once
// per interval and its history holds HISTORY_LIMIT entries, so its window is
// kept below that (nothing is lost) and it is read over whole intervals.
//
// Then the HTTP endpoints on their own, with autocannon: the send POST of each
// HTTP transport and the short-polling GET (an empty poll), Transport Lab and
// the bare Fastify route alike, requests per second and per server CPU-second,
// repeated the same way. Within a repetition the two take turns of about a
// second, the order reversed each round: a reading of one and of the other
// were seconds apart, and this machine's speed drifts over seconds.
import type { Context } from '../context.ts'
import type { Mark, StopResult } from '../clients/delivery.ts'
import type { HttpRunResult } from '../clients/autocannon.ts'
import { addAccounts } from '../accounting.ts'
import { cpuSeconds, median, notesOf, perSecond, requestsPerMessageOf, spreadOf } from '../metrics.ts'
import type { ProbeReading } from '../probe.ts'
import type { HttpRow, ThroughputRow } from '../schema.ts'
import type { Subject } from '../subjects.ts'
import { TRANSPORT_INFO } from '../../server/core/names.ts'
import type { RunningTarget } from '../targets.ts'
import { sleep } from '../clients/common.ts'

/** A load process using more than this share of a core is taken to be the limit. */
export const CLIENT_BOUND_CORES = 0.9
const HTTP_TRANSPORTS = new Set(['short-polling', 'long-polling', 'sse'])

const probeCpu = (p: ProbeReading) => ({ user: p.cpuUserUs, system: p.cpuSystemUs })
const markCpu = (m: Mark) => ({ user: m.cpuUserUs, system: m.cpuSystemUs })

/** One repetition of a delivery window: a row without the repetitions' fields. */
type DeliveryReading = Omit<ThroughputRow, 'repetitions' | 'spread'>
type HttpReading = Omit<HttpRow, 'repetitions' | 'spread'>

async function measureDelivery(ctx: Context, subject: Subject, fanout: number): Promise<DeliveryReading> {
  const { options, settings } = ctx
  const load = ctx.load.caller
  const target = await ctx.target(subject.target)
  const http = HTTP_TRANSPORTS.has(subject.transport)
  const polling = subject.transport === 'short-polling'
  // Short polling: a receiver gets at most what the history still holds at its next poll; keep the window under it.
  const window = polling ? Math.floor(settings.historyLimit * 0.8) : options.window
  // ... and measure over whole intervals (one in a quick run, three otherwise).
  const warmupMs =
    polling && !options.quick ? Math.max(options.warmupMs, settings.shortPollIntervalMs) : options.warmupMs
  const measureMs = polling
    ? Math.max(options.throughputMs, (options.quick ? 1 : 3) * settings.shortPollIntervalMs)
    : options.throughputMs
  await load.call(
    'delivery.open',
    {
      endpoint: ctx.endpoint(subject, target),
      room: ctx.tag('t'),
      receivers: fanout,
      textBytes: options.messageTextBytes,
      prefix: `${ctx.tag('t')}-`,
      connections: options.httpConnections,
    },
    60_000,
  )
  await load.call('delivery.window', { window, maxOutstanding: http ? options.httpConnections : window })
  await sleep(warmupMs)
  // The window in slices of about a second (a poll interval for short polling): the rates reported are the slices' median.
  const slices = Math.max(
    1,
    Math.round(measureMs / (polling ? settings.shortPollIntervalMs : Math.min(1000, measureMs / 2))),
  )
  // HTTP: the requests the server's meter counted, read just outside the marks (polls and sends alike).
  const w0 = http ? await target.wire() : undefined
  const marks: Mark[] = [await load.call<Mark>('delivery.mark')]
  const p0 = await target.probe()
  for (let i = 0; i < slices; i++) {
    await sleep(measureMs / slices)
    marks.push(await load.call<Mark>('delivery.mark'))
  }
  const p1 = await target.probe()
  const w1 = http ? await target.wire() : undefined
  const m0 = marks[0]!
  const m1 = marks.at(-1)!
  const sliceRates = marks.slice(1).map((m, i) => ({
    deliveries: perSecond(m.deliveries - marks[i]!.deliveries, m.at - marks[i]!.at),
    messages: perSecond(m.completed - marks[i]!.completed, m.at - marks[i]!.at),
  }))
  const result = await load.call<StopResult>(
    'delivery.stop',
    { drainMs: polling ? 2 * settings.shortPollIntervalMs + 1000 : 5000 },
    60_000,
  )
  ctx.account('throughput', result.accounting)
  const measuredMs = m1.at - m0.at
  const deliveries = m1.deliveries - m0.deliveries
  const messages = m1.completed - m0.completed
  const requestsPerMessage =
    w0 && w1 ? requestsPerMessageOf({ before: w0, after: w1 }, { before: m0, after: m1 }, subject.transport) : undefined
  const serverCpu = cpuSeconds(probeCpu(p0), probeCpu(p1))
  const loadCpu = cpuSeconds(markCpu(m0), markCpu(m1))
  const loadCpuCores = loadCpu / (measuredMs / 1000)
  const notes: string[] = []
  if (polling)
    notes.push(
      `short polling at ${settings.shortPollIntervalMs} ms: at most ${window} messages per interval (window kept under HISTORY_LIMIT ${settings.historyLimit})`,
    )
  if (result.stalled) notes.push('deliveries stopped for 10 s; the pump gave up')
  if (result.reconnects > 0)
    notes.push(`${result.reconnects} streams renewed by the server and reopened with Last-Event-ID`)
  return {
    ...ctx.row(subject),
    fanout,
    window,
    measuredMs,
    messages,
    deliveries,
    messagesPerSecond: median(sliceRates.map((r) => r.messages)) ?? perSecond(messages, measuredMs),
    deliveriesPerSecond: median(sliceRates.map((r) => r.deliveries)) ?? perSecond(deliveries, measuredMs),
    sliceDeliveriesPerSecond: sliceRates.map((r) => Math.round(r.deliveries)),
    serverCpuSeconds: serverCpu,
    serverCpuCores: serverCpu / (measuredMs / 1000),
    deliveriesPerServerCpuSecond: serverCpu > 0 ? deliveries / serverCpu : null,
    ...(requestsPerMessage !== undefined ? { requestsPerMessage } : {}),
    loadCpuSeconds: loadCpu,
    loadCpuCores,
    clientBound: loadCpuCores > CLIENT_BOUND_CORES,
    accounting: result.accounting,
    ...(notes.length ? { note: notes.join('; ') } : {}),
  }
}

/** An HTTP endpoint's window is read in turns of about this long, the subjects of a transport taking turns. */
const HTTP_TURN_MS = 1000

type Endpoint = HttpRow['endpoint']

/**
 * One repetition of an HTTP endpoint on every subject of one transport (Transport Lab and its bare route):
 * each is warmed up, then they take turns with autocannon, the order reversed every round (A B, B A, A B...),
 * so that a drift of the machine over the seconds of the window reaches each subject alike. A subject's
 * reading adds its turns up: requests over the time and the server CPU of its turns.
 */
async function measureHttpTurns(ctx: Context, subjects: Subject[], endpoint: Endpoint): Promise<HttpReading[]> {
  const { options } = ctx
  const load = ctx.load.caller
  const each = await Promise.all(
    subjects.map(async (subject) => {
      const target = await ctx.target(subject.target)
      return { subject, target, run: httpRun(ctx, subject, target, endpoint), turns: [] as HttpTurn[] }
    }),
  )
  for (const { run } of each)
    await load.call('http.run', { ...run, connections: options.httpConnections, durationMs: options.warmupMs }, 60_000)
  // At least two rounds, A B B A: a drift that runs one way over the window costs each subject alike.
  const rounds = Math.max(2, Math.round(options.httpMs / HTTP_TURN_MS))
  const turnMs = options.httpMs / rounds
  for (const one of turnOrder(each, rounds)) {
    const p0 = await one.target.probe()
    const result = await load.call<HttpRunResult>(
      'http.run',
      { ...one.run, connections: options.httpConnections, durationMs: turnMs },
      60_000 + turnMs,
    )
    const p1 = await one.target.probe()
    one.turns.push({ result, serverCpu: cpuSeconds(probeCpu(p0), probeCpu(p1)) })
    // Sent to a room without receivers: accepted sends are accounted, none is expected anywhere.
    if (endpoint === 'POST send') ctx.account('throughput', sendsAccount(result))
  }
  return each.map(({ subject, turns }) => httpReading(ctx, subject, endpoint, turns))
}

/** Who goes when: every taker once a round, in the given order, then reversed, and so on (A B, B A, A B...). */
export function turnOrder<T>(takers: readonly T[], rounds: number): T[] {
  const order: T[] = []
  for (let round = 0; round < rounds; round++) order.push(...(round % 2 === 0 ? takers : [...takers].reverse()))
  return order
}

interface HttpTurn {
  result: HttpRunResult
  serverCpu: number
}

/** What autocannon asks of `subject`'s endpoint: the send POST to a room of its own, or an empty poll. */
function httpRun(ctx: Context, subject: Subject, target: RunningTarget, endpoint: Endpoint) {
  const room = ctx.tag('a')
  const path = TRANSPORT_INFO[subject.transport].path
  return endpoint === 'POST send'
    ? {
        url: `${target.url}${path}?role=send`,
        method: 'POST' as const,
        body: JSON.stringify({
          type: 'send',
          room,
          text: 'x'.repeat(ctx.options.messageTextBytes),
          clientMsgId: `${room}-[<id>]`,
        }),
      }
    : // A fresh room and since=0: an empty poll, the request a polling client makes most often.
      {
        url: `${target.url}${TRANSPORT_INFO['short-polling'].path}?room=${room}&since=0&role=receive`,
        method: 'GET' as const,
      }
}

function sendsAccount(result: HttpRunResult) {
  return {
    receivers: 0,
    sent: result.ok,
    failedSends: result.non2xx + result.errors + result.timeouts,
    expected: 0,
    delivered: 0,
    lost: 0,
    losses: [],
    duplicates: 0,
  }
}

/** A subject's turns of one repetition as one reading: their requests over their time and server CPU. */
function httpReading(ctx: Context, subject: Subject, endpoint: Endpoint, turns: HttpTurn[]): HttpReading {
  const results = turns.map((t) => t.result)
  const measuredMs = sum(results.map((r) => r.durationMs))
  const requests = sum(results.map((r) => r.requests))
  const serverCpu = sum(turns.map((t) => t.serverCpu))
  const loadCpuCores = sum(results.map((r) => r.cpuUserUs + r.cpuSystemUs)) / 1e6 / (measuredMs / 1000)
  return {
    ...ctx.row(subject),
    endpoint,
    connections: ctx.options.httpConnections,
    measuredMs,
    requests,
    requestsPerSecond: perSecond(requests, measuredMs),
    // autocannon's percentiles are per run: the turns' median.
    latencyMsP50: median(results.map((r) => r.latencyMsP50))!,
    latencyMsP99: median(results.map((r) => r.latencyMsP99))!,
    non2xx: sum(results.map((r) => r.non2xx)),
    errors: sum(results.map((r) => r.errors + r.timeouts)),
    serverCpuSeconds: serverCpu,
    requestsPerServerCpuSecond: serverCpu > 0 ? requests / serverCpu : null,
    loadCpuCores,
    clientBound: loadCpuCores > CLIENT_BOUND_CORES,
  }
}

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0)

/** A subject's repetitions as one row: rates are the medians, counts and times add up, the spread keeps every reading. */
export function combineDelivery(readings: DeliveryReading[]): ThroughputRow {
  // The first reading gives the subject's fields; its own note is replaced by all the readings' notes.
  const { note, ...first } = readings[0]!
  const measuredMs = sum(readings.map((r) => r.measuredMs))
  const serverCpuSeconds = sum(readings.map((r) => r.serverCpuSeconds))
  const loadCpuSeconds = sum(readings.map((r) => r.loadCpuSeconds))
  const { receivers } = first.accounting
  const each = <K extends 'messagesPerSecond' | 'deliveriesPerSecond' | 'deliveriesPerServerCpuSecond'>(key: K) =>
    readings.map((r) => r[key])
  const requestsPerMessage = median(readings.flatMap((r) => r.requestsPerMessage ?? []))
  return {
    ...first,
    repetitions: readings.length,
    measuredMs,
    messages: sum(readings.map((r) => r.messages)),
    deliveries: sum(readings.map((r) => r.deliveries)),
    messagesPerSecond: median(each('messagesPerSecond'))!,
    deliveriesPerSecond: median(each('deliveriesPerSecond'))!,
    sliceDeliveriesPerSecond: readings.flatMap((r) => r.sliceDeliveriesPerSecond ?? []),
    serverCpuSeconds,
    serverCpuCores: serverCpuSeconds / (measuredMs / 1000),
    deliveriesPerServerCpuSecond: median(each('deliveriesPerServerCpuSecond').filter((v) => v != null)),
    ...(requestsPerMessage != null ? { requestsPerMessage } : {}),
    loadCpuSeconds,
    loadCpuCores: loadCpuSeconds / (measuredMs / 1000),
    clientBound: readings.some((r) => r.clientBound),
    accounting: { receivers, ...addAccounts(readings.map((r) => r.accounting)) },
    spread: {
      messagesPerSecond: spreadOf(each('messagesPerSecond')),
      deliveriesPerSecond: spreadOf(each('deliveriesPerSecond')),
      deliveriesPerServerCpuSecond: spreadOf(each('deliveriesPerServerCpuSecond')),
    },
    ...notesOf(readings),
  }
}

export function combineHttp(readings: HttpReading[]): HttpRow {
  const first = readings[0]!
  const measuredMs = sum(readings.map((r) => r.measuredMs))
  return {
    ...first,
    repetitions: readings.length,
    measuredMs,
    requests: sum(readings.map((r) => r.requests)),
    requestsPerSecond: median(readings.map((r) => r.requestsPerSecond))!,
    latencyMsP50: median(readings.map((r) => r.latencyMsP50))!,
    latencyMsP99: median(readings.map((r) => r.latencyMsP99))!,
    non2xx: sum(readings.map((r) => r.non2xx)),
    errors: sum(readings.map((r) => r.errors)),
    serverCpuSeconds: sum(readings.map((r) => r.serverCpuSeconds)),
    requestsPerServerCpuSecond: median(readings.flatMap((r) => r.requestsPerServerCpuSecond ?? [])),
    loadCpuCores: median(readings.map((r) => r.loadCpuCores))!,
    clientBound: readings.some((r) => r.clientBound),
    spread: {
      requestsPerSecond: spreadOf(readings.map((r) => r.requestsPerSecond)),
      requestsPerServerCpuSecond: spreadOf(readings.map((r) => r.requestsPerServerCpuSecond)),
    },
  }
}

/** Appends a reading to its subject's list, in a map that keeps the order of first appearance. */
function collect<T>(map: Map<string, T[]>, key: string, reading: T) {
  const list = map.get(key)
  if (list) list.push(reading)
  else map.set(key, [reading])
}

export async function runThroughput(ctx: Context) {
  const { repetitions } = ctx.options
  const deliveries = new Map<string, DeliveryReading[]>()
  const requests = new Map<string, HttpReading[]>()
  const httpSubjects = ctx.subjects.filter((s) => HTTP_TRANSPORTS.has(s.transport))
  const httpRuns = httpSubjects.length + httpSubjects.filter((s) => s.transport === 'short-polling').length
  const bar = ctx.progress.scenario(
    'throughput',
    (ctx.subjects.length * ctx.options.fanouts.length + httpRuns) * repetitions,
  )
  for (let rep = 1; rep <= repetitions; rep++) {
    const of = repetitions > 1 ? ` (${rep}/${repetitions})` : ''
    for (const subject of ctx.subjects) {
      for (const fanout of ctx.options.fanouts) {
        collect(deliveries, `${subject.id} ${fanout}`, await measureDelivery(ctx, subject, fanout))
        bar.tick(`${subject.id} fan-out ${fanout}${of}`)
      }
    }
    for (const transport of new Set(httpSubjects.map((s) => s.transport))) {
      const turnTakers = httpSubjects.filter((s) => s.transport === transport)
      const endpoints: Endpoint[] = transport === 'short-polling' ? ['POST send', 'GET poll'] : ['POST send']
      for (const endpoint of endpoints) {
        const readings = await measureHttpTurns(ctx, turnTakers, endpoint)
        const method = endpoint.split(' ')[0]
        turnTakers.forEach((subject, i) => {
          collect(requests, `${subject.id} ${method}`, readings[i]!)
          bar.tick(`${subject.id} ${method} (autocannon)${of}`)
        })
      }
    }
  }
  bar.done()
  return { rows: [...deliveries.values()].map(combineDelivery), http: [...requests.values()].map(combineHttp) }
}
