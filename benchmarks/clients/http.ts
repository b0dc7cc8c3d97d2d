// Load clients for the three HTTP transports, on node:http with keep-alive
// agents: a short-polling receiver (one poll per interval), a long-polling
// receiver (one held poll at a time), an SSE receiver (one stream) and the
// POST sender they all share. node:http rather than fetch or EventSource so
// that one load process can hold 10,000 of them without becoming the bottleneck.
import { Agent, request as httpRequest, type ClientRequest, type IncomingMessage } from 'node:http'
import { isLab } from '../subjects.ts'
import { SESSION_HEADER, TRANSPORT_INFO } from '../../server/core/names.ts'
import {
  isPresence,
  readMessage,
  sleep,
  withQuery,
  ReceiverBase,
  type Receiver,
  type ReceiverOptions,
  type SendBody,
  type Sender,
  type SenderOptions,
} from './common.ts'

/** Consecutive failed polls after which a polling receiver gives up (and says why). */
const MAX_CONSECUTIVE_ERRORS = 5

interface HttpAnswer {
  status: number
  body: string
}

export function httpCall(
  agent: Agent,
  method: 'GET' | 'POST',
  url: string,
  body?: string,
  headers: Record<string, string> = {},
  onRequest?: (req: ClientRequest) => void,
): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      {
        method,
        agent,
        headers:
          body === undefined
            ? headers
            : { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), ...headers },
      },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (chunk: Buffer) => chunks.push(chunk))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }))
        res.on('error', reject)
      },
    )
    req.on('error', reject)
    onRequest?.(req)
    req.end(body)
  })
}

/** A poll's answer; Transport Lab answers a page at most (after a cursor 1,000 entries, without one the newest 100; 64 KiB of text) and says `more` when the rest waits. */
interface Batch {
  seq: number
  epoch?: string
  recovered: boolean
  entries: unknown[]
  more?: boolean
}
interface Welcome {
  seq: number
  epoch: string
  session?: string
  pollIntervalMs?: number
}

/** Short and long polling: the same loop, with or without a pause between polls; a page that says `more` is followed at once. */
export class PollingReceiver extends ReceiverBase implements Receiver {
  readonly ready: Promise<void>
  private readonly options: ReceiverOptions
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 1 })
  private readonly base: string
  private readonly long: boolean
  private session: string | undefined
  private cursor: { seq: number; epoch?: string } = { seq: 0 }
  private intervalMs: number
  private closed = false
  private inFlight: ClientRequest | undefined
  private wake: (() => void) | undefined
  private pending: Promise<void> = Promise.resolve()
  /** Polls started, the last one fully written, the last one that brought entries. */
  private pollsStarted = 0
  private lastWritten = 0
  private lastWithEntries = 0

  constructor(options: ReceiverOptions) {
    super()
    this.options = options
    this.long = options.endpoint.transport === 'long-polling'
    this.base = `${options.endpoint.url}${TRANSPORT_INFO[options.endpoint.transport].path}`
    this.intervalMs = options.endpoint.pollIntervalMs
    this.ready = this.start()
  }

  private async start(): Promise<void> {
    const { endpoint, room, name } = this.options
    const role = this.options.role ?? 'receive'
    if (isLab(endpoint)) {
      // A Transport Lab client joins (presence, a session); the welcome says where the log is.
      const answer = await httpCall(
        this.agent,
        'POST',
        withQuery(this.base, { role }),
        JSON.stringify({ type: 'join', room, name }),
      )
      if (answer.status !== 200) throw new Error(`join answered ${answer.status}: ${answer.body}`)
      const welcome = JSON.parse(answer.body) as Welcome
      this.session = welcome.session
      this.cursor = { seq: welcome.seq, epoch: welcome.epoch }
      if (welcome.pollIntervalMs) this.intervalMs = welcome.pollIntervalMs
    } else {
      const answer = await httpCall(
        this.agent,
        'GET',
        withQuery(`${this.options.endpoint.url}${TRANSPORT_INFO['short-polling'].path}`, { room, since: 0, role }),
      )
      this.cursor = { seq: (JSON.parse(answer.body) as Batch).seq }
    }
    if (this.options.drive !== 'manual') void this.loop()
  }

  private url(): string {
    return withQuery(this.base, {
      room: this.options.room,
      since: this.cursor.seq,
      epoch: this.cursor.epoch,
      role: this.options.role ?? 'receive',
    })
  }

  async pollOnce(): Promise<void> {
    await this.ready
    const poll = this.poll()
    this.pending = poll
    await poll
  }

  /** Resolves once a poll started after the last one that brought entries is on the wire (at most 2 s). */
  async pollPending(): Promise<void> {
    if (!this.long) return
    const deadline = performance.now() + 2000
    while (this.lastWritten <= this.lastWithEntries && !this.closed && performance.now() < deadline) await sleep(1)
  }

  /** Whether the last answer said more entries were waiting after its page. */
  private more = false

  private async poll(): Promise<void> {
    const id = ++this.pollsStarted
    const answer = await httpCall(
      this.agent,
      'GET',
      this.url(),
      undefined,
      this.session ? { [SESSION_HEADER]: this.session } : {},
      (req) => {
        this.inFlight = req
        req.once('finish', () => {
          this.lastWritten = Math.max(this.lastWritten, id)
        })
      },
    )
    this.inFlight = undefined
    if (answer.status !== 200) throw new Error(`poll answered ${answer.status}: ${answer.body.slice(0, 200)}`)
    const batch = JSON.parse(answer.body) as Batch
    if (!batch.recovered) this.historyLost++
    if (batch.entries.length > 0) this.lastWithEntries = id
    for (const entry of batch.entries) {
      readMessage(entry, this.options.onMessage)
      if (this.options.onPresence && isPresence(entry)) this.options.onPresence(entry)
    }
    this.options.onDelivery?.(batch.entries)
    this.cursor = { seq: batch.seq, epoch: batch.epoch }
    this.more = batch.more === true
  }

  private async loop(): Promise<void> {
    let consecutiveErrors = 0
    // Short-polling clients start at random phases, as real clients would, then poll at a fixed rate.
    let next = performance.now() + (this.long ? 0 : Math.random() * this.intervalMs)
    if (!this.long) await this.pause(next - performance.now())
    while (!this.closed) {
      try {
        await this.poll()
        consecutiveErrors = 0
      } catch (error) {
        if (this.closed) return
        this.errors++
        if (++consecutiveErrors >= MAX_CONSECUTIVE_ERRORS) {
          this.failure = `gave up after ${consecutiveErrors} failed polls: ${(error as Error).message}`
          return
        }
        await this.pause(100)
        continue
      }
      // A page that said more is waiting: the rest at once, as a client reading the backlog would.
      if (this.long || this.more) continue
      next += this.intervalMs
      const now = performance.now()
      // A client that fell behind does not fire a burst to catch up: it polls now and keeps the interval from here.
      if (next < now) next = now
      await this.pause(next - now)
    }
  }

  private pause(ms: number): Promise<void> {
    if (ms <= 0 || this.closed) return Promise.resolve()
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wake = undefined
        resolve()
      }, ms)
      this.wake = () => {
        clearTimeout(timer)
        resolve()
      }
    })
  }

  async close(): Promise<void> {
    this.closed = true
    this.wake?.()
    this.inFlight?.destroy()
    await this.pending.catch(() => {})
    this.agent.destroy()
  }
}

/** One event of a text/event-stream, as the EventSource spec parses it. */
export interface SseEvent {
  event: string
  data: string
  /** The id field, when the event had one. */
  id: string | undefined
  /** The retry field, when the event had one (ms). */
  retry: number | undefined
}

/**
 * Splits a text/event-stream into events: fields up to each blank line,
 * `field: value` with one optional space, comments (`: ping`) ignored. Feed it
 * chunks; it keeps an unfinished event for the next one. Blocks without data
 * still carry id and retry (the spec applies them), so they are passed on.
 */
export class SseParser {
  private buffer = ''

  push(chunk: string, onEvent: (event: SseEvent) => void): void {
    this.buffer += chunk
    let end: number
    while ((end = this.buffer.indexOf('\n\n')) >= 0) {
      const block = this.buffer.slice(0, end)
      this.buffer = this.buffer.slice(end + 2)
      const event: SseEvent = { event: 'message', data: '', id: undefined, retry: undefined }
      let data: string[] | undefined
      for (const line of block.split('\n')) {
        if (line === '' || line.startsWith(':')) continue
        const colon = line.indexOf(':')
        const field = colon < 0 ? line : line.slice(0, colon)
        let value = colon < 0 ? '' : line.slice(colon + 1)
        if (value.startsWith(' ')) value = value.slice(1)
        if (field === 'data') (data ??= []).push(value)
        else if (field === 'event') event.event = value
        else if (field === 'id') event.id = value
        else if (field === 'retry' && /^\d+$/.test(value)) event.retry = Number(value)
      }
      event.data = data?.join('\n') ?? ''
      if (data !== undefined || event.id !== undefined || event.retry !== undefined) onEvent(event)
    }
  }
}

/** Failed reopenings in a row after which the receiver gives up (and says why). */
const SSE_MAX_REOPEN_FAILURES = 5

/**
 * An SSE stream read as a browser's EventSource reads it: when the server
 * ends the stream (Transport Lab renews every stream after SSE_STREAM_MAX_MS
 * with `event: bye` and `retry: 100`), it opens it again after the last
 * `retry:` delay with Last-Event-ID = the last event id seen (EPOCH-SEQ), and
 * the server carries on from there: nothing is lost. Each reopening is
 * counted (`reconnects`), and so is a welcome with another clientId
 * (`rejoinedAsNew`: the server took it for a new member).
 */
export class SseReceiver extends ReceiverBase implements Receiver {
  readonly ready: Promise<void>
  private readonly options: ReceiverOptions
  private req: ClientRequest | undefined
  private closed = false
  private lastEventId: string | undefined
  /** EventSource's delay before reopening a stream; the server sets it with `retry:`. */
  private retryMs = 2000
  private clientId: string | undefined
  private reopenFailures = 0
  private timer: NodeJS.Timeout | undefined
  /**
   * A stream the server ended leaves its connection open (keep-alive): the next one reuses it, as a browser's
   * EventSource does from its connection pool, rather than paying a new TCP handshake per renewal.
   */
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 1 })

  constructor(options: ReceiverOptions) {
    super()
    this.options = options
    this.ready = new Promise((resolve, reject) => this.open(resolve, reject))
  }

  private open(onReady: () => void, onFail: (error: Error) => void): void {
    const { endpoint, room, name } = this.options
    const url = withQuery(`${endpoint.url}${TRANSPORT_INFO.sse.path}`, {
      room,
      name,
      role: this.options.role ?? 'receive',
    })
    const headers: Record<string, string> = { accept: 'text/event-stream' }
    if (this.lastEventId !== undefined) headers['last-event-id'] = this.lastEventId
    // One stream ends once, whether its response closes or its request fails: then it is reopened once.
    let ended = false
    const end = () => {
      if (ended || this.closed) return
      ended = true
      this.reopen(onReady, onFail)
    }
    const req = httpRequest(url, { agent: this.agent, headers }, (res) => {
      if (res.statusCode !== 200) {
        ended = true
        res.resume()
        // EventSource gives up on a status other than 200; so does the bench, and it says why.
        this.failure ??= `/sse answered ${res.statusCode}${this.reconnects > 0 ? ' to a reconnect' : ''}`
        onFail(new Error(`/sse answered ${res.statusCode}`))
        return
      }
      this.reopenFailures = 0
      // Transport Lab's stream starts with a welcome event; a bare stream is ready once it is open.
      if (!isLab(endpoint)) onReady()
      this.read(res, onReady)
      // The end of the stream, whoever ended it: a browser reopens it after the retry delay.
      res.once('close', end)
    })
    req.on('error', (error) => {
      if (this.closed || ended) return
      if (this.clientId === undefined && this.reconnects === 0) {
        ended = true
        this.failure ??= `stream error: ${error.message}`
        onFail(error)
        return
      }
      this.errors++
      if (++this.reopenFailures >= SSE_MAX_REOPEN_FAILURES) {
        ended = true
        this.failure ??= `gave up after ${this.reopenFailures} failed reconnects: ${error.message}`
        return
      }
      end()
    })
    req.end()
    this.req = req
  }

  private read(res: IncomingMessage, onWelcome: () => void): void {
    const parser = new SseParser()
    res.setEncoding('utf8')
    res.on('data', (chunk: string) =>
      parser.push(chunk, (e) => {
        if (e.id !== undefined) this.lastEventId = e.id
        if (e.retry !== undefined) this.retryMs = e.retry
        if (!e.data) return
        if (e.event === 'message') {
          const message: unknown = JSON.parse(e.data)
          readMessage(message, this.options.onMessage)
          this.options.onDelivery?.([message])
        } else if (e.event === 'welcome')
          this.onWelcome(JSON.parse(e.data) as { clientId?: string; recovered?: boolean }, onWelcome)
        else if ((e.event === 'notice' || e.event === 'presence') && this.options.onPresence)
          this.options.onPresence(JSON.parse(e.data))
      }),
    )
  }

  private onWelcome(welcome: { clientId?: string; recovered?: boolean }, ready: () => void): void {
    if (this.clientId !== undefined) {
      if (welcome.clientId !== this.clientId) this.rejoinedAsNew++
      if (welcome.recovered === false) this.historyLost++
    }
    this.clientId = welcome.clientId ?? ''
    ready()
  }

  private reopen(onReady: () => void, onFail: (error: Error) => void): void {
    if (this.closed || this.failure !== undefined) return
    this.timer = setTimeout(() => {
      if (this.closed) return
      this.reconnects++
      this.open(onReady, onFail)
    }, this.retryMs)
  }

  async close(): Promise<void> {
    this.closed = true
    clearTimeout(this.timer)
    this.req?.destroy()
    this.agent.destroy()
  }
}

/** POST /<transport> with a send: what every HTTP transport sends with. Anonymous on Transport Lab (no session needed). */
export class HttpSender implements Sender {
  readonly ready = Promise.resolve()
  private readonly agent: Agent
  private readonly url: string

  constructor(options: SenderOptions) {
    this.agent = new Agent({ keepAlive: true, maxSockets: options.connections ?? 1 })
    this.url = withQuery(`${options.endpoint.url}${TRANSPORT_INFO[options.endpoint.transport].path}`, {
      role: options.role ?? 'send',
    })
  }

  async send(body: SendBody): Promise<void> {
    const answer = await httpCall(this.agent, 'POST', this.url, JSON.stringify({ type: 'send', ...body }))
    if (answer.status !== 200) throw new Error(`send answered ${answer.status}: ${answer.body.slice(0, 200)}`)
  }

  async close(): Promise<void> {
    this.agent.destroy()
  }
}
