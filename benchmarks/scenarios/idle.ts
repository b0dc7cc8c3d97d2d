// Scenario 4, idle cost: N clients per transport connect, join and then only
// stay connected in their transport's idiom (short polls at the interval, a
// held long poll, an open SSE stream, a WebSocket answering pings, Socket.IO
// answering Engine.IO pings) for a fixed time. Each subject gets a fresh
// server process, so that memory per connection is not hidden by memory an
// earlier scenario left behind. The crowd comes in two halves, each held as
// long, and memory is read after each:
//
//   heap and RSS per connection = (after - before) / the second half, both
//                                  read after a full GC (--expose-gc)
//   server CPU, requests and bytes per idle minute = the second hold's deltas
//                                  x 60 s / hold, the whole crowd connected,
//                                  the hold starting after a full GC
//
// The first half pays what a server pays once, whatever its crowd: code
// compiled for the first join, the first renewal or the first long-poll
// timeout, tables grown to their first size. Read as the slope between the
// halves, a connection costs what one more connection adds.
// Every subject is measured --repetitions times (3), each time on a fresh
// server, the repetitions interleaved over the subjects; a row reports the
// median of each figure and the spread of memory and CPU.
// More than 5,000 clients are spread over several load processes. Up to 2,000
// clients, a transport and its baseline are held side by side (their figures
// are per process, and the load is light); past that, one at a time.
import { join } from 'node:path'
import type { Context } from '../context.ts'
import type { CrowdReport } from '../clients/crowd.ts'
import type { LoadProcess } from '../load.ts'
import { cpuSeconds, median, memoryPerConnection, perMinute, spreadOf, tallyDelta, tallyOf } from '../metrics.ts'
import type { ProbeReading } from '../probe.ts'
import type { IdleRow, Loss } from '../schema.ts'
import type { RunningTarget } from '../targets.ts'
import { isLab, type Subject } from '../subjects.ts'
import { sleep } from '../clients/common.ts'

export const CLIENTS_PER_LOAD_PROCESS = 5000
export const ROOM_SIZE = 50
export const OPEN_CONCURRENCY = 200
export const SIDE_BY_SIDE_MAX_CLIENTS = 2000
const SETTLE_LIMIT_MS = 15_000
/** Memory counts as settled once it has not moved over this many readings this far apart. */
const SETTLE_STEP_MS = 500
const SETTLE_STEADY_STEPS = 4
/** The hold's own CPU profile, in the server's folder under --profile. */
export const HOLD_PROFILE = 'idle-hold.cpuprofile'

function addReports(reports: CrowdReport[]): CrowdReport {
  const reasons = new Map<string, number>()
  for (const r of reports) for (const f of r.failures) reasons.set(f.reason, (reasons.get(f.reason) ?? 0) + f.count)
  return {
    connected: reports.reduce((n, r) => n + r.connected, 0),
    failed: reports.reduce((n, r) => n + r.failed, 0),
    failures: [...reasons].map(([reason, count]): Loss => ({ reason, count })),
    reconnects: reports.reduce((n, r) => n + (r.reconnects ?? 0), 0),
    rejoinedAsNew: reports.reduce((n, r) => n + (r.rejoinedAsNew ?? 0), 0),
  }
}

/** One repetition: a row without the repetitions' fields. */
type IdleReading = Omit<IdleRow, 'repetitions' | 'spread'>

async function measureIdle(ctx: Context, subject: Subject, loads: LoadProcess[]): Promise<IdleReading> {
  const { options } = ctx
  const clients = options.clients
  const target = await ctx.freshTarget(subject)
  try {
    const endpoint = ctx.endpoint(subject, target)
    const roomPrefix = ctx.tag('i')
    const crowd = roomPrefix
    // Each load process opens its share of the crowd, the first half of it, then the rest.
    const share = Math.ceil(clients / loads.length)
    const openHalf = async (second: boolean) =>
      addReports(
        await Promise.all(
          loads.map((load, i) => {
            const mine = Math.max(0, Math.min(share, clients - i * share))
            const firstHalf = Math.ceil(mine / 2)
            return load.caller.call<CrowdReport>(
              'crowd.open',
              {
                crowd,
                endpoint,
                count: second ? mine - firstHalf : firstHalf,
                roomSize: ROOM_SIZE,
                roomPrefix,
                offset: i * share + (second ? firstHalf : 0),
                concurrency: OPEN_CONCURRENCY,
              },
              600_000,
            )
          }),
        ),
      )
    const settleMs = options.quick ? 300 : 1000

    const openedFirst = await openHalf(false)
    // Not measured: the first half is held as long as the whole crowd will be, so that it has paid what holding costs once.
    await sleep(settleMs + options.idleHoldMs)
    const before = await settledReading(target)

    const openedSecond = await openHalf(true)
    const opened = addReports([openedFirst, openedSecond])
    // Joins, their notices and the first polls settle before the hold starts.
    await sleep(settleMs)

    const tally = isLab(subject) ? subject.transport : `${subject.transport}:receive`
    const checked = addReports(
      await Promise.all(loads.map((load) => load.caller.call<CrowdReport>('crowd.check', { crowd }))),
    )
    const w0 = await target.wire()
    const [c0, c1] = await measureHold(target, options.idleHoldMs)
    const w1 = await target.wire()
    // Read as "before" was: once the crowd's memory has stopped moving.
    const after = await settledReading(target)
    const held = addReports(
      await Promise.all(loads.map((load) => load.caller.call<CrowdReport>('crowd.check', { crowd }))),
    )
    await Promise.all(loads.map((load) => load.caller.call('crowd.close', { crowd }, 120_000)))

    const holdMs = c1.at - c0.at
    const d = tallyDelta(tallyOf(w0, tally), tallyOf(w1, tally))
    const connected = opened.connected
    const added = openedSecond.connected
    const memory = added > 0 ? memoryPerConnection(before, after, added) : undefined
    const notes: string[] = []
    if (subject.transport === 'short-polling') {
      const expected = perMinute(connected, ctx.settings.shortPollIntervalMs)
      const measured = perMinute(d.httpRequests, holdMs)
      notes.push(
        `polls every ${ctx.settings.shortPollIntervalMs} ms: ${Math.round(expected)} requests per minute expected` +
          (measured < expected * 0.9
            ? `, ${Math.round(measured)} made: the clients or the server could not keep the interval`
            : ''),
      )
    }
    // Counted since the crowd opened: the hold's share is the difference.
    const reconnects = (held.reconnects ?? 0) - (checked.reconnects ?? 0)
    const rejoinedAsNew = (held.rejoinedAsNew ?? 0) - (checked.rejoinedAsNew ?? 0)
    if (reconnects > 0) {
      notes.push(
        `${reconnects} streams renewed by the server (SSE_STREAM_MAX_MS) ` +
          `and reopened with Last-Event-ID during the hold; their requests and bytes are in the figures`,
      )
      if (rejoinedAsNew > 0)
        notes.push(
          `${rejoinedAsNew} of those reopened streams came back as a new member (another clientId, with join and leave notices)`,
        )
    }
    if (!before.collected) notes.push('no full GC before reading memory (--expose-gc missing)')
    return {
      ...ctx.row(subject),
      clients,
      connected,
      connectedBefore: openedFirst.connected,
      failed: opened.failed,
      failures: opened.failures,
      holdMs,
      loadProcesses: loads.length,
      heapBeforeBytes: before.heapUsedBytes,
      heapAfterBytes: after.heapUsedBytes,
      rssBeforeBytes: before.rssBytes,
      rssAfterBytes: after.rssBytes,
      youngBeforeBytes: before.youngGenerationBytes,
      youngAfterBytes: after.youngGenerationBytes,
      heapPerConnectionBytes: memory?.heapBytes ?? null,
      rssPerConnectionBytes: memory?.rssBytes ?? null,
      serverCpuSecondsPerMinute: perMinute(
        cpuSeconds({ user: c0.cpuUserUs, system: c0.cpuSystemUs }, { user: c1.cpuUserUs, system: c1.cpuSystemUs }),
        holdMs,
      ),
      serverGcSecondsPerMinute: perMinute((c1.gcPauseMs - c0.gcPauseMs) / 1000, holdMs),
      holdAfterGc: c0.collected,
      requestsPerMinute: perMinute(d.httpRequests, holdMs),
      bytesInPerMinute: perMinute(d.bytesIn, holdMs),
      bytesOutPerMinute: perMinute(d.bytesOut, holdMs),
      droppedDuringHold: held.failed,
      ...(subject.transport === 'sse' ? { reconnects } : {}),
      ...(notes.length ? { note: notes.join('; ') } : {}),
    }
  } finally {
    await target.stop()
  }
}

/**
 * The hold's CPU readings, the first after a full GC: the garbage the crowd's
 * joins left behind is the joins' cost, and whether V8 happened to collect it
 * before or during the hold would otherwise decide a figure of a few hundred
 * milliseconds. The last reading collects nothing, so the hold pays for the
 * garbage it makes only as far as V8 collects it while the hold lasts, as a
 * server left idle would. Under --profile, the hold gets a profile of its own:
 * the whole-life one is mostly the crowd joining.
 */
async function measureHold(target: RunningTarget, holdMs: number): Promise<[ProbeReading, ProbeReading]> {
  const holdProfile = target.profileDir === undefined ? undefined : join(target.profileDir, HOLD_PROFILE)
  const c0 = await target.probe(true)
  if (holdProfile) await target.startWindowProfile()
  await sleep(holdMs)
  const c1 = await target.probe()
  if (holdProfile) await target.stopWindowProfile(holdProfile)
  return [c0, c1]
}

/**
 * Memory after a full GC, once it has stopped shrinking: V8 gives back the
 * heap a process grew (while starting, or for the first half's joins) seconds
 * later, not at the GC, and an early "before" would make the crowd look
 * smaller than it is. At most `limitMs`.
 */
export async function settledReading(target: RunningTarget, limitMs = SETTLE_LIMIT_MS): Promise<ProbeReading> {
  const deadline = performance.now() + limitMs
  let previous = await target.probe(true)
  let steadyFor = 0
  for (;;) {
    await sleep(SETTLE_STEP_MS)
    const current = await target.probe(true)
    const steady =
      Math.abs(current.rssBytes - previous.rssBytes) < previous.rssBytes * 0.005 &&
      current.heapTotalBytes === previous.heapTotalBytes
    steadyFor = steady ? steadyFor + 1 : 0
    if (steadyFor >= SETTLE_STEADY_STEPS || performance.now() > deadline) return current
    previous = current
  }
}

/** Each Transport Lab transport with its baseline; subjects without a partner alone. */
function pairs(subjects: Subject[]): Subject[][] {
  const groups: Subject[][] = []
  const used = new Set<string>()
  for (const s of subjects) {
    if (used.has(s.id)) continue
    used.add(s.id)
    const partner = subjects.find((o) => !used.has(o.id) && o.transport === s.transport && isLab(o) !== isLab(s))
    if (partner) used.add(partner.id)
    groups.push(partner ? [s, partner] : [s])
  }
  return groups
}

/** A subject's repetitions as one row: each figure's median, the fewest connected, failures and drops added up. */
export function combineIdle(readings: IdleReading[]): IdleRow {
  // The first reading gives the subject's fields; its own note is replaced by all the readings' notes.
  const { note, ...first } = readings[0]!
  const mid = (pick: (r: IdleReading) => number | null) => median(readings.flatMap((r) => pick(r) ?? []))
  const failures = new Map<string, number>()
  for (const r of readings) for (const f of r.failures) failures.set(f.reason, (failures.get(f.reason) ?? 0) + f.count)
  const notes = [...new Set(readings.flatMap((r) => (r.note ? [r.note] : [])))]
  const reconnects = readings.some((r) => r.reconnects !== undefined)
    ? { reconnects: readings.reduce((n, r) => n + (r.reconnects ?? 0), 0) }
    : {}
  return {
    ...first,
    repetitions: readings.length,
    connected: Math.min(...readings.map((r) => r.connected)),
    ...(readings.every((r) => r.connectedBefore !== undefined)
      ? { connectedBefore: Math.min(...readings.map((r) => r.connectedBefore!)) }
      : {}),
    failed: readings.reduce((n, r) => n + r.failed, 0),
    failures: [...failures].map(([reason, count]) => ({ reason, count })),
    holdMs: mid((r) => r.holdMs)!,
    heapBeforeBytes: mid((r) => r.heapBeforeBytes)!,
    heapAfterBytes: mid((r) => r.heapAfterBytes)!,
    rssBeforeBytes: mid((r) => r.rssBeforeBytes)!,
    rssAfterBytes: mid((r) => r.rssAfterBytes)!,
    youngBeforeBytes: mid((r) => r.youngBeforeBytes ?? null) ?? undefined,
    youngAfterBytes: mid((r) => r.youngAfterBytes ?? null) ?? undefined,
    heapPerConnectionBytes: mid((r) => r.heapPerConnectionBytes),
    rssPerConnectionBytes: mid((r) => r.rssPerConnectionBytes),
    serverCpuSecondsPerMinute: mid((r) => r.serverCpuSecondsPerMinute)!,
    serverGcSecondsPerMinute: mid((r) => r.serverGcSecondsPerMinute ?? null) ?? undefined,
    ...(readings.some((r) => r.holdAfterGc !== undefined)
      ? { holdAfterGc: readings.every((r) => r.holdAfterGc === true) }
      : {}),
    requestsPerMinute: mid((r) => r.requestsPerMinute)!,
    bytesInPerMinute: mid((r) => r.bytesInPerMinute)!,
    bytesOutPerMinute: mid((r) => r.bytesOutPerMinute)!,
    droppedDuringHold: readings.reduce((n, r) => n + r.droppedDuringHold, 0),
    ...reconnects,
    spread: {
      heapPerConnectionBytes: spreadOf(readings.map((r) => r.heapPerConnectionBytes)),
      rssPerConnectionBytes: spreadOf(readings.map((r) => r.rssPerConnectionBytes)),
      serverCpuSecondsPerMinute: spreadOf(readings.map((r) => r.serverCpuSecondsPerMinute)),
    },
    ...(notes.length ? { note: notes.join('; ') } : {}),
  }
}

export async function runIdle(ctx: Context) {
  const rows: IdleRow[] = []
  // Memory figures need processes that did nothing else: the scenarios before this one leave theirs behind.
  await ctx.stopSharedTargets()
  const extra: LoadProcess[] = []
  const { repetitions } = ctx.options
  const bar = ctx.progress.scenario('idle', ctx.subjects.length * repetitions)
  try {
    const wanted = Math.ceil(ctx.options.clients / CLIENTS_PER_LOAD_PROCESS)
    for (let i = 1; i < wanted; i++) extra.push(await ctx.startLoad(`load-${i + 1}`))
    const loads = [ctx.load, ...extra]
    const sideBySide = ctx.options.clients <= SIDE_BY_SIDE_MAX_CLIENTS
    const measured = new Map<string, IdleReading[]>()
    const groups = sideBySide ? pairs(ctx.subjects) : ctx.subjects.map((s) => [s])
    for (let rep = 1; rep <= repetitions; rep++) {
      for (const group of groups) {
        const groupRows = await Promise.allSettled(group.map((subject) => measureIdle(ctx, subject, loads)))
        for (const [i, outcome] of groupRows.entries()) {
          const subject = group[i]!
          // A repetition whose fresh server did not start is left out; the others are measured.
          if (outcome.status === 'fulfilled')
            measured.set(subject.id, [...(measured.get(subject.id) ?? []), outcome.value])
          else if (!ctx.skipped(outcome.reason, `idle ${subject.id} (${rep}/${repetitions})`)) throw outcome.reason
          bar.tick(repetitions > 1 ? `${subject.id} (${rep}/${repetitions})` : subject.id)
        }
      }
    }
    // Rows in the order of the subjects, whatever order they were measured in.
    for (const subject of ctx.subjects) {
      const readings = measured.get(subject.id)
      if (readings) rows.push(combineIdle(readings))
    }
  } finally {
    await Promise.allSettled(extra.map((l) => l.stop()))
  }
  bar.done()
  return { clients: ctx.options.clients, holdMs: ctx.options.idleHoldMs, rows }
}
