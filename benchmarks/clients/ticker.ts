// The load side of the ticker scenario: one receiver per transport in the
// server's `ticker` room, each noting every delivery it gets (a polling
// response, an SSE event, a WebSocket frame, a Socket.IO packet) with the
// price updates it carried and when it arrived. The updates are stamped with
// the tick's wall-clock time by the server (performance.timeOrigin +
// performance.now() there), and receipt is stamped on the same kind of clock
// here, so their difference is the update's age across the two processes.
import { createHistogram } from 'node:perf_hooks'
import { Ledger, type Accounting } from '../accounting.ts'
import { summarizeAge, tallyDeliveries, toNanoseconds, type AgeSummary, type TickerDelivery } from '../metrics.ts'
import type { Endpoint } from '../subjects.ts'
import type { TransportName } from '../../server/core/protocol.ts'
import { sleep, type Receiver } from './common.ts'
import { createReceiver } from './index.ts'

export interface TickerOpenParams {
  endpoints: Endpoint[]
  room: string
}

export interface TickerStopParams {
  /** The updates the server's log holds for the measured window. */
  seqs: number[]
  /** How long to wait for every receiver to have them all. */
  drainMs: number
}

export interface TickerSeen {
  transport: TransportName
  received: number
  deliveries: number
  updatesPerDeliveryMean: number | null
  updatesPerDeliveryMax: number | null
  age: AgeSummary
  clamped: number
  accounting: Accounting
}

interface Watcher {
  transport: TransportName
  receiver: Receiver
  deliveries: TickerDelivery[]
  seqs: Set<number>
}

const wallClock = () => performance.timeOrigin + performance.now()

/** The server's updates among a delivery's entries: messages from the server with their tick time. */
function updatesOf(entries: unknown[]): TickerDelivery['updates'] {
  const updates: TickerDelivery['updates'] = []
  for (const entry of entries) {
    const e = entry as { type?: unknown; seq?: unknown; sentAt?: unknown; from?: { transport?: unknown } } | null
    if (
      e?.type === 'message' &&
      e.from?.transport === 'server' &&
      typeof e.seq === 'number' &&
      typeof e.sentAt === 'number'
    )
      updates.push({ seq: e.seq, sentAt: e.sentAt })
  }
  return updates
}

let watchers: Watcher[] = []

async function closeAll(): Promise<void> {
  const closing = watchers
  watchers = []
  await Promise.allSettled(closing.map((w) => w.receiver.close()))
}

export const tickerHandlers = {
  'ticker.open': async (params: TickerOpenParams) => {
    await closeAll()
    watchers = params.endpoints.map((endpoint) => {
      const deliveries: TickerDelivery[] = []
      const seqs = new Set<number>()
      const receiver = createReceiver({
        endpoint,
        room: params.room,
        name: `watch-${endpoint.transport}`,
        onMessage: () => {},
        onDelivery: (entries) => {
          const receivedAt = wallClock()
          const updates = updatesOf(entries)
          if (updates.length === 0) return
          deliveries.push({ receivedAt, updates })
          for (const u of updates) seqs.add(u.seq)
        },
      })
      return { transport: endpoint.transport, receiver, deliveries, seqs }
    })
    try {
      await Promise.all(watchers.map((w) => w.receiver.ready))
    } catch (error) {
      await closeAll()
      throw error
    }
    return { receivers: watchers.length }
  },

  'ticker.stop': async (params: TickerStopParams): Promise<TickerSeen[]> => {
    const deadline = performance.now() + params.drainMs
    const complete = () => watchers.every((w) => params.seqs.every((seq) => w.seqs.has(seq)))
    while (!complete() && performance.now() < deadline) await sleep(10)
    const measured = new Set(params.seqs)
    const seen = watchers.map((w): TickerSeen => {
      const tally = tallyDeliveries(w.deliveries, measured)
      const histogram = createHistogram()
      let clamped = 0
      for (const ageMs of tally.agesMs) {
        const { ns, clamped: raised } = toNanoseconds(ageMs)
        if (raised) clamped++
        histogram.record(ns)
      }
      // The ledger's accounting, with the updates in the place of sent messages: each is expected once by this receiver.
      const ledger = new Ledger(1)
      for (const seq of params.seqs) {
        const index = ledger.issue()
        ledger.accept(index)
        if (w.seqs.has(seq)) ledger.deliver(0, index)
      }
      return {
        transport: w.transport,
        received: tally.received,
        deliveries: tally.deliveries,
        updatesPerDeliveryMean: tally.updatesPerDeliveryMean,
        updatesPerDeliveryMax: tally.updatesPerDeliveryMax,
        age: summarizeAge(histogram),
        clamped,
        accounting: ledger.account([w.receiver]),
      }
    })
    await closeAll()
    return seen
  },

  'ticker.close': () => closeAll(),
}
