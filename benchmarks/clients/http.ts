// Load clients for the three HTTP transports, on node:http with keep-alive
// agents: a short-polling receiver (one poll per interval), a long-polling
// receiver (one held poll at a time), an SSE receiver (one stream) and the
// POST sender they all share. node:http rather than fetch or EventSource so
// that one load process can hold 10,000 of them without becoming the bottleneck.
import { Agent, request as httpRequest, type ClientRequest, type IncomingMessage } from 'node:http'
import { isLab, TRANSPORT_PATHS } from '../subjects.ts'
import { readMessage, sleep, withQuery, ReceiverBase, type Receiver, type ReceiverOptions, type SendBody, type Sender, type SenderOptions } from './common.ts'

const SESSION_HEADER = 'x-lab-session'
/** Consecutive failed polls after which a polling receiver gives up (and says why). */
const MAX_CONSECUTIVE_ERRORS = 5

interface HttpAnswer { status: number; body: string }

export function httpCall(agent: Agent, method: 'GET' | 'POST', url: string, body?: string, headers: Record<string, string> = {}, onRequest?: (req: ClientRequest) => void): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, {
      method,
      agent,
      headers: body === undefined ? headers : { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), ...headers },
    }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }))
      res.on('error', reject)
    })
    req.on('error', reject)
    onRequest?.(req)
    req.end(body)
  })
}

interface Batch { seq: number; epoch?: string; recovered: boolean; entries: unknown[] }
interface Welcome { seq: number; epoch: string; session?: string; pollIntervalMs?: number }

/** Short and long polling: the same loop, with or without a pause between polls. */
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
    this.base = `${options.endpoint.url}${TRANSPORT_PATHS[options.endpoint.transport]}`
    this.intervalMs = options.endpoint.pollIntervalMs
    this.ready = this.start()
  }

  private async start(): Promise<void> {
    const { endpoint, room, name } = this.options
    const role = this.options.role ?? 'receive'
    if (isLab(endpoint)) {
      // A Transport Lab client joins (presence, a session); the welcome says where the log is.
      const answer = await httpCall(this.agent, 'POST', withQuery(this.base, { role }), JSON.stringify({ type: 'join', room, name }))
      if (answer.status !== 200) throw new Error(`join answered ${answer.status}: ${answer.body}`)
      const welcome = JSON.parse(answer.body) as Welcome
      this.session = welcome.session
      this.cursor = { seq: welcome.seq, epoch: welcome.epoch }
      if (welcome.pollIntervalMs) this.intervalMs = welcome.pollIntervalMs
    } else {
      const answer = await httpCall(this.agent, 'GET', withQuery(`${this.options.endpoint.url}/poll`, { room, since: 0, role }))
      this.cursor = { seq: (JSON.parse(answer.body) as Batch).seq }
    }
    if (this.options.drive !== 'manual') void this.loop()
  }

  private url(): string {
    return withQuery(this.base, { room: this.options.room, since: this.cursor.seq, epoch: this.cursor.epoch, role: this.options.role ?? 'receive' })
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

  private async poll(): Promise<void> {
    const id = ++this.pollsStarted
    const answer = await httpCall(this.agent, 'GET', this.url(), undefined, this.session ? { [SESSION_HEADER]: this.session } : {}, (req) => {
      this.inFlight = req
      req.once('finish', () => { this.lastWritten = Math.max(this.lastWritten, id) })
    })
    this.inFlight = undefined
    if (answer.status !== 200) throw new Error(`poll answered ${answer.status}: ${answer.body.slice(0, 200)}`)
    const batch = JSON.parse(answer.body) as Batch
    if (!batch.recovered) this.historyLost++
    if (batch.entries.length > 0) this.lastWithEntries = id
    for (const entry of batch.entries) readMessage(entry, this.options.onMessage)
    this.cursor = { seq: batch.seq, epoch: batch.epoch }
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
      if (this.long) continue
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
      const timer = setTimeout(() => { this.wake = undefined; resolve() }, ms)
      this.wake = () => { clearTimeout(timer); resolve() }
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

/** One text/event-stream response, parsed event by event. */
export class SseReceiver extends ReceiverBase implements Receiver {
  readonly ready: Promise<void>
  private readonly options: ReceiverOptions
  private req: ClientRequest | undefined
  private closed = false

  constructor(options: ReceiverOptions) {
    super()
    this.options = options
    this.ready = new Promise((resolve, reject) => {
      const { endpoint, room, name } = options
      const url = withQuery(`${endpoint.url}/sse`, { room, name, role: options.role ?? 'receive' })
      const req = httpRequest(url, { agent: false, headers: { accept: 'text/event-stream' } }, (res) => {
        if (res.statusCode !== 200) {
          reject(new Error(`/sse answered ${res.statusCode}`))
          res.resume()
          return
        }
        // Transport Lab's stream starts with a welcome event; a bare stream is ready once it is open.
        if (!isLab(endpoint)) resolve()
        this.read(res, resolve)
      })
      req.on('error', (error) => {
        if (!this.closed) this.failure ??= `stream error: ${error.message}`
        reject(error)
      })
      req.end()
      this.req = req
    })
  }

  private read(res: IncomingMessage, onWelcome: () => void): void {
    let buffer = ''
    res.setEncoding('utf8')
    res.on('data', (chunk: string) => {
      buffer += chunk
      let end: number
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end)
        buffer = buffer.slice(end + 2)
        let event = 'message'
        let data = ''
        for (const line of block.split('\n')) {
          if (line.startsWith('data: ')) data += line.slice(6)
          else if (line.startsWith('event: ')) event = line.slice(7)
        }
        if (!data) continue
        if (event === 'welcome') onWelcome()
        else if (event === 'message') readMessage(JSON.parse(data), this.options.onMessage)
      }
    })
    res.on('close', () => {
      if (!this.closed) this.failure ??= 'the server ended the stream'
    })
  }

  async close(): Promise<void> {
    this.closed = true
    this.req?.destroy()
  }
}

/** POST /<transport> with a send: what every HTTP transport sends with. Anonymous on Transport Lab (no session needed). */
export class HttpSender implements Sender {
  readonly ready = Promise.resolve()
  private readonly agent: Agent
  private readonly url: string

  constructor(options: SenderOptions) {
    this.agent = new Agent({ keepAlive: true, maxSockets: options.connections ?? 1 })
    this.url = withQuery(`${options.endpoint.url}${TRANSPORT_PATHS[options.endpoint.transport]}`, { role: options.role ?? 'send' })
  }

  async send(body: SendBody): Promise<void> {
    const answer = await httpCall(this.agent, 'POST', this.url, JSON.stringify({ type: 'send', ...body }))
    if (answer.status !== 200) throw new Error(`send answered ${answer.status}: ${answer.body.slice(0, 200)}`)
  }

  async close(): Promise<void> {
    this.agent.destroy()
  }
}

