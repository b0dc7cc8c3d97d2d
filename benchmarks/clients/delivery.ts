// The load side of the latency, throughput and wire scenarios: one room, N
// receivers of one subject, a sender, and a ledger that accounts for every
// message. The runner drives it step by step over IPC (open, start, mark,
// stop) so that it can read the server's CPU at exactly the marks.
//
//   rate mode (latency)      a message every 1/rate s; latencies of the messages
//                            sent between two marks go into a histogram (ns)
//   window mode (throughput) as fast as the receivers take them: at most
//                            `window` messages sent and not yet delivered to all
//   lockstep (wire)          one message at a time, each delivered before the next
import { createHistogram, type RecordableHistogram } from 'node:perf_hooks'
import { Ledger, type Accounting } from '../accounting.ts'
import { summarizeHistogram, toNanoseconds, type LatencySummary } from '../metrics.ts'
import type { Endpoint } from '../subjects.ts'
import { messageIndex, sleep, type Receiver, type Sender } from './common.ts'
import { createReceiver, createSender } from './index.ts'

export interface OpenParams {
  endpoint: Endpoint
  /** Who sends, when not a client of the measured subject (the wire scenario's other leg). */
  senderEndpoint?: Endpoint
  room: string
  receivers: number
  textBytes: number
  /** clientMsgId prefix, unique per session */
  prefix: string
  /** HTTP senders: requests in flight at once. */
  connections: number
  drive?: 'auto' | 'manual'
  /** Senders taking turns (noisy: each stays under the server's default MESSAGE_RATE); 1 when absent. */
  senders?: number
  /**
   * Behind the cluster's balancer (scale): each connection sends a `?sticky=` value of its own (the prefix and
   * its name), so that nginx's hash spreads the receivers, and the sender, over the instances.
   */
  sticky?: boolean
}

export interface Mark {
  /** performance.now() in the load process */
  at: number
  issued: number
  accepted: number
  deliveries: number
  completed: number
  cpuUserUs: number
  cpuSystemUs: number
}

export interface StopResult {
  accounting: Accounting
  latency: LatencySummary
  /** Deliveries of messages sent between the two marks: the histogram's count must equal it. */
  deliveriesMeasured: number
  clamped: number
  /** Sends that could not go out on time (rate mode): the sender, not the server, fell behind. */
  lateSends: number
  stalled: boolean
  sendFailures: Array<{ reason: string; count: number }>
  /** Streams the receivers reopened after the server ended them (SSE renewals), and how many of those came back as another member. */
  reconnects: number
  rejoinedAsNew: number
}

const OPEN_CONCURRENCY = 50
const STALL_MS = 10_000

let session: Delivery | undefined

class Delivery {
  readonly params: OpenParams
  readonly ledger: Ledger
  readonly receivers: Receiver[] = []
  readonly senders: Sender[] = []
  private readonly text: string
  private readonly histogram: RecordableHistogram = createHistogram()
  private measureFrom = Infinity
  private measureTo = Infinity
  private deliveriesMeasured = 0
  private clamped = 0
  private outstanding = 0
  private maxOutstanding = 1
  private window = 0
  private maxMessages = Infinity
  private stopped = true
  private timer: NodeJS.Timeout | undefined
  private lateSends = 0
  private stalled = false
  private lastProgressAt = 0
  private readonly waiters = new Map<number, () => void>()

  constructor(params: OpenParams) {
    this.params = params
    this.ledger = new Ledger(params.receivers)
    this.text = 'x'.repeat(params.textBytes)
  }

  async open(): Promise<void> {
    const { endpoint, room, receivers, prefix } = this.params
    for (let start = 0; start < receivers; start += OPEN_CONCURRENCY) {
      const batch: Receiver[] = []
      for (let r = start; r < Math.min(receivers, start + OPEN_CONCURRENCY); r++) {
        const receiverIndex = r
        const receiver = createReceiver({
          endpoint,
          room,
          name: `r${r}`,
          ...(this.params.sticky ? { sticky: `${prefix}r${r}` } : {}),
          drive: this.params.drive ?? 'auto',
          onMessage: (clientMsgId, sentAt) => this.onMessage(receiverIndex, clientMsgId, sentAt),
        })
        batch.push(receiver)
        this.receivers.push(receiver)
      }
      await Promise.all(batch.map((r) => r.ready))
    }
    const senderEndpoint = this.params.senderEndpoint ?? endpoint
    for (let s = 0; s < (this.params.senders ?? 1); s++) {
      this.senders.push(
        createSender({
          endpoint: senderEndpoint,
          ownRoom: `${room}-s`,
          name: `${prefix}sender${s || ''}`,
          ...(this.params.sticky ? { sticky: `${prefix}s${s}` } : {}),
          connections: this.params.connections,
        }),
      )
    }
    await Promise.all(this.senders.map((sender) => sender.ready))
    // Long polls are on the wire before anything is measured.
    for (const receiver of this.receivers) await receiver.pollPending?.()
  }

  private onMessage(receiver: number, clientMsgId: string, sentAt: number | undefined): void {
    const now = performance.now()
    const index = messageIndex(clientMsgId, this.params.prefix)
    if (index < 0) return
    const completedBefore = this.ledger.completed
    if (!this.ledger.deliver(receiver, index)) return
    if (index >= this.measureFrom && index < this.measureTo && sentAt !== undefined) {
      const { ns, clamped } = toNanoseconds(now - sentAt)
      if (clamped) this.clamped++
      this.histogram.record(ns)
      this.deliveriesMeasured++
    }
    if (this.ledger.completed !== completedBefore) {
      this.lastProgressAt = now
      this.waiters.get(index)?.()
      if (this.window > 0) this.pump()
    }
  }

  private sendOne(): number {
    const index = this.ledger.issue()
    this.outstanding++
    this.senders[index % this.senders.length]!.send({
      room: this.params.room,
      text: this.text,
      sentAt: performance.now(),
      clientMsgId: `${this.params.prefix}${index}`,
    })
      .then(
        () => this.ledger.accept(index),
        (error: unknown) => this.ledger.fail(index, (error as Error).message.slice(0, 120)),
      )
      .finally(() => {
        this.outstanding--
        if (this.window > 0) this.pump()
      })
    return index
  }

  /** Rate mode: sends on a fixed schedule; a send that cannot go out on time is counted, not burst later. */
  startRate(rateHz: number, maxOutstanding: number): void {
    this.stopped = false
    this.maxOutstanding = maxOutstanding
    const period = 1000 / rateHz
    let next = performance.now()
    const tick = () => {
      if (this.stopped) return
      const now = performance.now()
      while (next <= now) {
        if (this.outstanding < this.maxOutstanding) this.sendOne()
        else this.lateSends++
        next += period
      }
      this.timer = setTimeout(tick, next - performance.now())
    }
    tick()
  }

  /** Window mode: keeps `window` messages in flight; HTTP senders also at most `connections` requests; at most `maxMessages` in all when given. */
  startWindow(window: number, maxOutstanding: number, maxMessages = Infinity): void {
    this.stopped = false
    this.window = window
    this.maxMessages = maxMessages
    this.maxOutstanding = maxOutstanding
    this.lastProgressAt = performance.now()
    this.pump()
    const watch = setInterval(() => {
      if (this.stopped) return clearInterval(watch)
      if (this.ledger.issued >= this.maxMessages && this.ledger.inFlight() === 0) return
      if (performance.now() - this.lastProgressAt > STALL_MS) {
        this.stalled = true
        this.stopped = true
        clearInterval(watch)
      }
    }, 1000)
  }

  private pump(): void {
    while (
      !this.stopped &&
      this.ledger.inFlight() < this.window &&
      this.outstanding < this.maxOutstanding &&
      this.ledger.issued < this.maxMessages
    )
      this.sendOne()
  }

  /** Lockstep: each message delivered to every receiver before the next is sent. */
  async lockstep(count: number, timeoutMs: number): Promise<number> {
    let done = 0
    for (let k = 0; k < count; k++) {
      const index = this.ledger.issue()
      const delivered = new Promise<void>((resolve) => this.waiters.set(index, resolve))
      try {
        await this.senders[0]!.send({
          room: this.params.room,
          text: this.text,
          sentAt: performance.now(),
          clientMsgId: `${this.params.prefix}${index}`,
        })
        this.ledger.accept(index)
      } catch (error) {
        this.ledger.fail(index, (error as Error).message.slice(0, 120))
        continue
      }
      // Manually driven short polling: a poll per message, what a client polling once per message does.
      // The send was acknowledged after it was published, so the first poll finds it.
      if (this.params.drive === 'manual') {
        for (let poll = 0; poll < 3 && !this.ledger.has(0, index); poll++) {
          for (const receiver of this.receivers) await receiver.pollOnce?.()
        }
      }
      const timedOut = await Promise.race([delivered.then(() => false), sleep(timeoutMs).then(() => true)])
      this.waiters.delete(index)
      if (timedOut) break
      done++
    }
    // A long-polling receiver's next poll belongs to this window: wait until it is on the wire and read.
    for (const receiver of this.receivers) await receiver.pollPending?.()
    await sleep(20)
    return done
  }

  mark(measure?: boolean): Mark {
    if (measure === true) this.measureFrom = this.ledger.issued
    if (measure === false) this.measureTo = this.ledger.issued
    const cpu = process.cpuUsage()
    return {
      at: performance.now(),
      issued: this.ledger.issued,
      accepted: this.ledger.accepted,
      deliveries: this.ledger.deliveries,
      completed: this.ledger.completed,
      cpuUserUs: cpu.user,
      cpuSystemUs: cpu.system,
    }
  }

  /**
   * Stops sending and waits, `drainMs` at most, until every message sent has reached every receiver; the session
   * stays open for another pass (scale: the latency pass, then the window pass, on the same receivers).
   */
  async drain(drainMs: number): Promise<Mark> {
    this.stopped = true
    this.window = 0
    clearTimeout(this.timer)
    const deadline = performance.now() + drainMs
    while ((this.ledger.inFlight() > 0 || this.outstanding > 0) && performance.now() < deadline) await sleep(10)
    return this.mark()
  }

  async stop(drainMs: number): Promise<StopResult> {
    this.stopped = true
    clearTimeout(this.timer)
    const deadline = performance.now() + drainMs
    while ((this.ledger.inFlight() > 0 || this.outstanding > 0) && performance.now() < deadline) await sleep(10)
    const accounting = this.ledger.account(this.receivers)
    return {
      accounting,
      latency: summarizeHistogram(this.histogram),
      deliveriesMeasured: this.deliveriesMeasured,
      clamped: this.clamped,
      lateSends: this.lateSends,
      stalled: this.stalled,
      sendFailures: this.ledger.sendFailures(),
      reconnects: this.receivers.reduce((n, r) => n + r.reconnects, 0),
      rejoinedAsNew: this.receivers.reduce((n, r) => n + r.rejoinedAsNew, 0),
    }
  }

  async close(): Promise<void> {
    this.stopped = true
    clearTimeout(this.timer)
    await Promise.allSettled([...this.senders.map((s) => s.close()), ...this.receivers.map((r) => r.close())])
  }
}

function current(): Delivery {
  if (!session) throw new Error('no delivery session is open')
  return session
}

export const deliveryHandlers = {
  'delivery.open': async (params: OpenParams) => {
    await session?.close()
    session = new Delivery(params)
    try {
      await session.open()
    } catch (error) {
      await session.close()
      session = undefined
      throw error
    }
    return { receivers: params.receivers }
  },
  'delivery.rate': (params: { rateHz: number; maxOutstanding: number }) =>
    current().startRate(params.rateHz, params.maxOutstanding),
  'delivery.window': (params: { window: number; maxOutstanding: number; maxMessages?: number }) =>
    current().startWindow(params.window, params.maxOutstanding, params.maxMessages),
  'delivery.lockstep': (params: { count: number; timeoutMs: number }) =>
    current().lockstep(params.count, params.timeoutMs),
  'delivery.mark': (params: { measure?: boolean }) => current().mark(params.measure),
  'delivery.drain': (params: { drainMs: number }) => current().drain(params.drainMs),
  'delivery.stop': async (params: { drainMs: number }) => {
    const delivery = current()
    try {
      return await delivery.stop(params.drainMs)
    } finally {
      await delivery.close()
      session = undefined
    }
  },
}
