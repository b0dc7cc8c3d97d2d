// Scenario 6, slow readers: what N readers that stop reading cost the server,
// per push transport (SSE, WebSocket, Socket.IO over a WebSocket), and
// whether the slow-consumer policy (SEND_BUFFER_BYTES) bounds it. On a fresh
// Transport Lab process per transport:
//
//   1. N readers join a room and stop reading after their welcome (their TCP
//      socket paused: the kernel's buffers fill, then the server's queue grows);
//      one bystander on the same transport keeps reading;
//   2. memory "before" after a full GC;
//   3. a WebSocket sender floods the room with messages of ~4 KiB, a window
//      of WINDOW at a time (paced by the bystander, which must get all of
//      them); every SAMPLE_MS the server's RSS, heap and external memory are
//      read (no GC: the peak), and its presence, until every stopped reader
//      has left the room (closed as slow) or the time limit;
//   4. memory "held" after a full GC, the flood over and the bystander served:
//      live memory, with the queues the server still keeps for the readers it
//      closed (until they read them, or its 5 s grace ends);
//   5. the stopped readers read again, within that grace, and say what they
//      were told (the goodbye, or a cut);
//   6. memory "after", after a full GC.
//
// Then the control: the same number of messages through a room with only the
// bystander, on another fresh process. The flood itself grows the heap
// (garbage between collections, V8 growing its spaces), so what the stopped
// readers cost is the difference between the two: held (heap + external,
// after a GC) over before, and the peak RSS's growth. That is compared with
// N x SEND_BUFFER_BYTES, what the policy lets them hold before it closes them
// (what sits in the kernel's socket buffers is not the process's memory).
import type { Context } from '../context.ts'
import type { Mark, StopResult } from '../clients/delivery.ts'
import type { Loss } from '../accounting.ts'
import { sleep } from '../clients/common.ts'
import { peakMemory, ratioTo, sendBufferBudget, type Memory } from '../metrics.ts'
import type { ProbeReading } from '../probe.ts'
import type { PushTransport, SlowReadersRow } from '../schema.ts'
import { TRANSPORT_INFO } from '../../server/core/names.ts'
import type { RunningTarget } from '../targets.ts'
import { settledReading } from './idle.ts'

export const SLOW_TRANSPORTS: PushTransport[] = ['sse', 'websocket', 'socket.io']
const WINDOW = 32
const SAMPLE_MS = 100
/** Presence is read every few samples: it costs the server a request. */
const PRESENCE_EVERY = 2
/** Under the server's 5 s grace, so that a reader closed as slow can still read its goodbye. */
const RESUME_TIMEOUT_MS = 4000
const NAME_PREFIX = 'slow'

const memoryOf = (p: ProbeReading): Memory => ({
  rssBytes: p.rssBytes,
  heapUsedBytes: p.heapUsedBytes,
  externalBytes: p.externalBytes + p.arrayBuffersBytes,
})

async function stoppedPresent(target: RunningTarget, room: string): Promise<number> {
  const res = await fetch(`${target.url}/api/rooms/${room}/presence`, { signal: AbortSignal.timeout(10_000) })
  const members = (await res.json()) as Array<{ name: string }>
  return members.filter((m) => m.name.startsWith(NAME_PREFIX)).length
}

interface Pass {
  before: Memory
  peak: Memory
  /** After a full GC once the flood is over, before the stopped readers are let go: live memory, their queues included. */
  held: Memory
  /** After a full GC once the readers are gone; not read for the control. */
  after: Memory | null
  samples: number
  messages: number
  floodMs: number
  /** Stopped readers still in the room when the flood stopped. */
  present: number
  allClosedAfterMs: number | null
  told: Loss[]
  bystander: StopResult
}

/**
 * One flood through a room with `readers` stopped readers and a reading
 * bystander. With readers, it floods until they have all left the room (or
 * the time limit); without (the control), exactly `messages` messages.
 */
async function floodPass(
  ctx: Context,
  transport: PushTransport,
  target: RunningTarget,
  readers: number,
  messages?: number,
): Promise<Pass> {
  const { options } = ctx
  const load = ctx.load.caller
  const room = ctx.tag('s')
  const endpoint = ctx.endpoint({ target: 'lab', transport }, target)
  if (readers > 0) await load.call('slow.open', { endpoint, room, count: readers, namePrefix: NAME_PREFIX }, 60_000)
  let resumed = false
  try {
    await load.call(
      'delivery.open',
      {
        endpoint,
        senderEndpoint: ctx.endpoint({ target: 'lab', transport: 'websocket' }, target),
        room,
        receivers: 1,
        textBytes: options.slowTextBytes,
        prefix: `${room}-`,
        connections: 1,
      },
      60_000,
    )
    const settleMs = options.quick ? 1000 : 10_000
    const before = await settledReading(target, settleMs)
    await load.call('delivery.window', {
      window: WINDOW,
      maxOutstanding: WINDOW,
      ...(messages === undefined ? {} : { maxMessages: messages }),
    })
    const started = performance.now()
    const samples: Memory[] = []
    let present = readers
    let allClosedAfterMs: number | null = null
    let mark: Mark
    for (let i = 0; ; i++) {
      samples.push(memoryOf(await target.probe()))
      if (readers > 0) {
        if (i % PRESENCE_EVERY === 0) present = await stoppedPresent(target, room)
        if (present === 0) {
          allClosedAfterMs = performance.now() - started
          mark = await load.call<Mark>('delivery.mark')
          break
        }
      } else {
        mark = await load.call<Mark>('delivery.mark')
        if (mark.completed >= messages!) break
      }
      if (performance.now() - started > options.slowFloodMaxMs) {
        mark = await load.call<Mark>('delivery.mark')
        break
      }
      await sleep(SAMPLE_MS)
    }
    const floodMs = performance.now() - started
    samples.push(memoryOf(await target.probe()))
    const bystander = await load.call<StopResult>('delivery.stop', { drainMs: 5000 }, 60_000)
    ctx.account('slow-readers', bystander.accounting)
    // Garbage gone, the stopped readers' queues still there (the server keeps them for its 5 s grace or until they are read).
    const held = memoryOf(await target.probe(true))
    let told: Loss[] = []
    if (readers > 0) {
      resumed = true
      told = await load.call<Loss[]>('slow.resume', { timeoutMs: RESUME_TIMEOUT_MS }, RESUME_TIMEOUT_MS + 10_000)
      await load.call('slow.close')
    }
    const after = readers > 0 ? memoryOf(await settledReading(target, settleMs)) : null
    return {
      before: memoryOf(before),
      peak: peakMemory(samples),
      held,
      after,
      samples: samples.length,
      messages: mark.issued,
      floodMs,
      present,
      allClosedAfterMs,
      told,
      bystander,
    }
  } finally {
    if (readers > 0 && !resumed) await load.call('slow.close').catch(() => {})
  }
}

const growth = (pass: Pass) => ({
  rss: pass.peak.rssBytes - pass.before.rssBytes,
  heap: pass.peak.heapUsedBytes - pass.before.heapUsedBytes,
  external: pass.peak.externalBytes - pass.before.externalBytes,
  /** heap + external, live (after a GC) at the end of the flood, over before. */
  held: pass.held.heapUsedBytes + pass.held.externalBytes - pass.before.heapUsedBytes - pass.before.externalBytes,
})

async function measureSlow(
  ctx: Context,
  transport: PushTransport,
  target: RunningTarget,
  control: RunningTarget,
): Promise<SlowReadersRow> {
  const { options, settings } = ctx
  const readers = options.slowReaders
  const slow = await floodPass(ctx, transport, target, readers)
  // The same flood on a server of its own with nobody stopped: what the flood costs by itself.
  const alone = await floodPass(ctx, transport, control, 0, slow.messages)
  const budget = sendBufferBudget(readers, settings.config.sendBufferBytes)
  const g = growth(slow)
  const c = growth(alone)
  const notes: string[] = []
  if (slow.allClosedAfterMs === null)
    notes.push(
      `${slow.present} of ${readers} stopped readers were still in the room when the flood stopped after ${Math.round(slow.floodMs / 1000)} s`,
    )
  if (slow.bystander.reconnects > 0) notes.push(`the bystander reopened its stream ${slow.bystander.reconnects} times`)
  if (alone.bystander.accounting.lost > 0)
    notes.push(`the control flood lost ${alone.bystander.accounting.lost} deliveries`)
  return {
    transport,
    label: TRANSPORT_INFO[transport].short,
    readers,
    sendBufferBytes: settings.config.sendBufferBytes,
    budgetBytes: budget,
    textBytes: options.slowTextBytes,
    floodMessages: slow.messages,
    floodMs: slow.floodMs,
    stoppedBecause: slow.allClosedAfterMs === null ? 'time limit' : 'all closed',
    closedAsSlow: readers - slow.present,
    allClosedAfterMs: slow.allClosedAfterMs,
    told: slow.told,
    before: slow.before,
    peak: slow.peak,
    after: slow.after!,
    samples: slow.samples,
    peakRssGrowthBytes: g.rss,
    peakHeapGrowthBytes: g.heap,
    peakExternalGrowthBytes: g.external,
    controlPeakRssGrowthBytes: c.rss,
    controlPeakHeapGrowthBytes: c.heap,
    controlPeakExternalGrowthBytes: c.external,
    readersRssBytes: g.rss - c.rss,
    readersRssToBudget: ratioTo(g.rss - c.rss, budget),
    held: slow.held,
    heldGrowthBytes: g.held,
    controlHeldGrowthBytes: c.held,
    readersHeldBytes: g.held - c.held,
    readersHeldToBudget: ratioTo(g.held - c.held, budget),
    afterRssGrowthBytes: slow.after!.rssBytes - slow.before.rssBytes,
    bystander: slow.bystander.accounting,
    ...(notes.length ? { note: notes.join('; ') } : {}),
  }
}

/** The keys ctx.prepareLab() starts this scenario's servers under: per transport, one for the stopped readers and one for the control. */
export function slowReadersServers(transports: readonly string[]): string[] {
  return SLOW_TRANSPORTS.filter((t) => transports.includes(t)).flatMap((t) => [`slow:${t}`, `slow:${t}:control`])
}

export async function runSlowReaders(ctx: Context) {
  const transports = SLOW_TRANSPORTS.filter((t) => ctx.options.transports.includes(t))
  const bar = ctx.progress.scenario('slow-readers', transports.length)
  // Fresh servers (memory figures), started ahead by the runner when it could.
  const targets = transports.map((t) => [ctx.labWith({}, `slow:${t}`), ctx.labWith({}, `slow:${t}:control`)] as const)
  for (const pair of targets) for (const t of pair) t.catch(() => {})
  const rows: SlowReadersRow[] = []
  try {
    for (const [i, transport] of transports.entries()) {
      let target: RunningTarget
      let control: RunningTarget
      try {
        ;[target, control] = await Promise.all(targets[i]!)
      } catch (error) {
        // A transport whose servers did not start is left out; the others are measured.
        if (!ctx.skipped(error, `slow-readers ${transport}`)) throw error
        bar.tick(transport)
        continue
      }
      try {
        rows.push(await measureSlow(ctx, transport, target, control))
      } finally {
        await Promise.allSettled([target.stop(), control.stop()])
      }
      bar.tick(transport)
    }
  } finally {
    await Promise.allSettled(targets.flat().map(async (t) => (await t).stop()))
  }
  bar.done()
  return {
    readers: ctx.options.slowReaders,
    textBytes: ctx.options.slowTextBytes,
    sendBufferBytes: ctx.settings.config.sendBufferBytes,
    rows,
  }
}
