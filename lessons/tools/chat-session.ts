// One terminal chat: the workbench's own ChatClient, driven from stdin and
// printing to stdout, so that what a lesson shows is what the browser panels
// do (the same joins, resumes and reconnections). The lines it prints are
// written in chat-format.ts.
import { randomUUID } from 'node:crypto'
import { clearLine, clearScreenDown, createInterface, cursorTo, moveCursor, type Interface } from 'node:readline'
import { setTimeout as delay } from 'node:timers/promises'
import { EventSource } from 'eventsource'
import WebSocket from 'ws'
import type { Cursor, ErrorMessage, Welcome } from '../../server/core/protocol.ts'
import type { Received } from '../../ui/src/clients/chat-client.ts'
import { createChatClient, type ChatClient } from '../../ui/src/clients/index.ts'
import { now } from '../../ui/src/clock.ts'
import { EXIT, type ChatOptions } from './chat-args.ts'
import { entryLine, errorLine, historyLostLine, welcomeLine } from './chat-format.ts'

/**
 * ws with a browser's manners: a failed connection fires 'error' and then
 * 'close', and the client handles the close. ws, an EventEmitter, would throw
 * an 'error' that nobody listens to.
 */
class BrowserWebSocket extends WebSocket {
  constructor(url: string | URL, protocols?: string | string[]) {
    super(url, protocols)
    this.on('error', () => {})
  }
}

// The clients were written for a browser. Node 20 has its fetch but neither
// of these, so they are lent spec-following stand-ins, as the tests do.
if (!('WebSocket' in globalThis)) Object.assign(globalThis, { WebSocket: BrowserWebSocket })
if (!('EventSource' in globalThis)) Object.assign(globalThis, { EventSource })

/** A server that is gone must not hold the exit up: leaving is a courtesy. */
const LEAVE_GRACE_MS = 2000

export class TerminalChat {
  private readonly client: ChatClient
  private input: Interface | undefined
  /** A person at a terminal: typed input is redrawn below what arrives. */
  private readonly interactive = Boolean(process.stdin.isTTY && process.stdout.isTTY)
  private welcomed = false
  private reconnecting = false
  private received = 0
  private done = false
  private inputEnded = false
  private refusals = 0
  private sayCameBack = false
  /** Sent and not back yet: clientMsgId -> whether it is the --say. */
  private readonly awaitingEcho = new Map<string, boolean>()
  private sendChain: Promise<void> = Promise.resolve()
  private sendsQueued = 0
  /** The send being made now: HTTP and Socket.IO answer a refusal before it returns. */
  private inFlight: { clientMsgId: string; errors: Set<string> } | undefined
  /** The cursor the server could not resume from, until its line is printed. */
  private lost: { cursor: Cursor | undefined } | undefined
  private timer: ReturnType<typeof setTimeout> | undefined
  private finish: (code: number) => void = () => {}

  private readonly options: ChatOptions

  constructor(options: ChatOptions) {
    this.options = options
    this.client = createChatClient(options.transport, {
      baseUrl: options.url,
      name: options.name,
      room: options.room,
      token: options.token,
    })
  }

  /** Runs until the flags are satisfied, the input ends or the user leaves; resolves with the exit code. */
  run(): Promise<number> {
    const exited = new Promise<number>((resolve) => {
      this.finish = resolve
    })
    const client = this.client
    client.on('welcome', ({ detail }) => this.onWelcome(detail))
    client.on('entry', ({ detail }) => this.onEntry(detail))
    client.on('error', ({ detail }) => this.onError(detail))
    client.on('state', ({ detail }) => {
      if (detail === 'reconnecting') this.onConnectionLost()
    })
    // The client reports the loss before the welcome or entry that revealed it,
    // with the cursor it could not resume from still in place: keep that, and
    // print the line after the joined line but before any entry.
    client.on('history-lost', () => {
      this.lost = { cursor: client.cursor && { ...client.cursor } }
      queueMicrotask(() => this.printLost())
    })
    if (this.options.since) client.cursor = { ...this.options.since }
    this.restartTimer()
    client.start()
    if (this.options.say !== undefined) this.enqueueSend(this.options.say, true)
    else this.readInput()
    process.on('SIGINT', () => void this.quit(EXIT.ok))
    process.on('SIGTERM', () => void this.quit(EXIT.ok))
    process.stdout.on('error', () => void this.quit(EXIT.ok))
    return exited
  }

  private readInput(): void {
    const input = createInterface({
      input: process.stdin,
      output: this.interactive ? process.stdout : undefined,
      terminal: this.interactive,
    })
    this.input = input
    input.setPrompt('')
    input.on('line', (line) => {
      // The echo of a sent line comes back as a numbered entry: that replaces what was typed.
      if (this.interactive) this.eraseTyped(line)
      if (line.trim() !== '') this.enqueueSend(line, false)
    })
    input.on('close', () => {
      this.inputEnded = true
      // Ctrl-D at a terminal means "I am done"; piped input ending means "that was all there is to send".
      if (process.stdin.isTTY) void this.quit(EXIT.ok)
      else this.settle()
    })
    // In terminal mode readline takes Ctrl-C for itself.
    input.on('SIGINT', () => void this.quit(EXIT.ok))
  }

  private onWelcome(welcome: Welcome): void {
    if (this.done) return
    if (this.options.json) this.out(JSON.stringify(welcome))
    else if (!this.welcomed) this.out(welcomeLine(welcome))
    if (this.reconnecting) this.note('reconnected')
    // The server says how often short polling should ask; the client's own default is the workbench's slider.
    if (welcome.pollIntervalMs) this.client.pollIntervalMs = welcome.pollIntervalMs
    this.welcomed = true
    this.reconnecting = false
    this.printLost()
    this.settle()
  }

  private onEntry(received: Received): void {
    if (this.done) return
    this.printLost()
    const { entry } = received
    this.out(this.options.json ? JSON.stringify(entry) : entryLine(received))
    if (entry.type !== 'message') return
    this.received++
    this.restartTimer()
    const id = entry.clientMsgId
    if (id !== undefined && this.awaitingEcho.has(id)) {
      if (this.awaitingEcho.get(id)) this.sayCameBack = true
      this.awaitingEcho.delete(id)
    }
    this.settle()
  }

  private onError(error: ErrorMessage): void {
    if (this.done) return
    const inFlight = this.inFlight
    const refusedId =
      error.ref !== undefined && this.awaitingEcho.has(error.ref)
        ? error.ref
        : (inFlight?.clientMsgId ?? this.oldestAwaitingEcho())
    if (inFlight && refusedId === inFlight.clientMsgId) {
      // Socket.IO tells of a refused send twice: as an error event and in the ack.
      const key = `${error.code} ${error.message}`
      if (inFlight.errors.has(key)) return
      inFlight.errors.add(key)
    }
    if (this.options.json) this.out(JSON.stringify(error))
    else this.note(errorLine(error))
    // The client stops for these (a token refused, the instructor's disconnect): nothing more will come.
    if (error.code === 'LAB_ERR_AUTH' || error.code === 'LAB_ERR_DISCONNECTED') {
      void this.quit(EXIT.failed)
      return
    }
    if (refusedId !== undefined) this.refused(refusedId)
  }

  /**
   * On a WebSocket the send returns before the server has read it, and a text
   * it cannot parse (too long, say) is refused without naming it. The server
   * answers each frame in turn, with its echo or an error, so the refused one
   * is the oldest still waiting.
   */
  private oldestAwaitingEcho(): string | undefined {
    return this.awaitingEcho.keys().next().value
  }

  private onConnectionLost(): void {
    if (this.done) return
    if (!this.welcomed) {
      void this.whyRefused().then((why) => {
        this.note(`error: could not connect to ${this.options.url} over ${this.options.transport}${why}`)
        void this.quit(EXIT.failed)
      })
    } else if (!this.reconnecting) {
      this.reconnecting = true
      this.note('connection lost, reconnecting...')
    }
  }

  /**
   * An EventSource is not told why it was refused (a 401 looks like any
   * failure): a class that needs a token says so at /api/auth.
   */
  private async whyRefused(): Promise<string> {
    try {
      const headers: Record<string, string> = this.options.token
        ? { authorization: `Bearer ${this.options.token}` }
        : {}
      const res = await fetch(`${this.options.url}/api/auth`, { headers, signal: AbortSignal.timeout(2000) })
      const auth = (await res.json()) as { classCode?: boolean; session?: unknown; problem?: string }
      if (auth.classCode && !auth.session)
        return `: LAB_ERR_AUTH ${auth.problem ?? 'this class needs a token'} (log in with POST /api/login, then --token)`
    } catch {
      // Nothing answers, or an older server: the plain line says enough.
    }
    return ''
  }

  private printLost(): void {
    if (!this.lost || this.done) return
    const line = historyLostLine(this.lost.cursor)
    this.lost = undefined
    if (this.options.json) this.note(line)
    else this.out(line)
  }

  /** Sends one at a time, in order: two HTTP POSTs in flight could be numbered the other way round. */
  private enqueueSend(text: string, isSay: boolean): void {
    this.sendsQueued++
    this.sendChain = this.sendChain
      .then(() => this.send(text, isSay))
      .finally(() => {
        this.sendsQueued--
        this.settle()
      })
  }

  private async send(text: string, isSay: boolean): Promise<void> {
    await this.opened()
    if (this.done) return
    const clientMsgId = randomUUID()
    this.awaitingEcho.set(clientMsgId, isSay)
    const inFlight = { clientMsgId, errors: new Set<string>() }
    this.inFlight = inFlight
    try {
      await this.client.send(text, { sentAt: now(), clientMsgId })
    } catch (error) {
      if (!this.done) this.note(`error: could not send: ${error instanceof Error ? error.message : String(error)}`)
      this.refused(clientMsgId)
    } finally {
      if (this.inFlight === inFlight) this.inFlight = undefined
    }
  }

  private opened(): Promise<void> {
    if (this.client.state === 'open') return Promise.resolve()
    return new Promise((resolve) => {
      const off = this.client.on('state', ({ detail }) => {
        if (detail !== 'open') return
        off()
        resolve()
      })
    })
  }

  private refused(clientMsgId: string): void {
    const isSay = this.awaitingEcho.get(clientMsgId)
    if (!this.awaitingEcho.delete(clientMsgId)) return
    this.refusals++
    if (isSay) void this.quit(EXIT.failed)
    else this.settle()
  }

  /** Exits once what the flags wait for has happened. Input that ended early still waits to have joined: that much was asked for. */
  private settle(): void {
    if (this.done) return
    const { count, say, timeoutMs } = this.options
    if (count !== undefined) {
      if (this.received >= count) void this.quit(EXIT.ok)
    } else if (say !== undefined) {
      if (this.sayCameBack) void this.quit(EXIT.ok)
    } else if (
      this.inputEnded &&
      this.welcomed &&
      timeoutMs === undefined &&
      this.sendsQueued === 0 &&
      this.awaitingEcho.size === 0
    ) {
      void this.quit(this.refusals > 0 ? EXIT.failed : EXIT.ok)
    }
  }

  private restartTimer(): void {
    const timeoutMs = this.options.timeoutMs
    if (timeoutMs === undefined) return
    clearTimeout(this.timer)
    this.timer = setTimeout(() => {
      this.note(`timed out: no chat message within ${timeoutMs} ms`)
      void this.quit(EXIT.timedOut)
    }, timeoutMs)
  }

  private async quit(code: number): Promise<void> {
    if (this.done) return
    this.done = true
    clearTimeout(this.timer)
    this.input?.close()
    // Leaving says so to the room at once; a polling session would otherwise linger until its lease ran out.
    await Promise.race([this.client.stop(), delay(LEAVE_GRACE_MS)])
    this.finish(code)
  }

  private out(line: string): void {
    this.write(process.stdout, line)
  }

  private note(line: string): void {
    this.write(process.stderr, line)
  }

  private write(stream: NodeJS.WriteStream, line: string): void {
    if (!this.interactive || !this.input || this.done) {
      stream.write(`${line}\n`)
      return
    }
    clearLine(process.stdout, 0)
    cursorTo(process.stdout, 0)
    stream.write(`${line}\n`)
    this.input.prompt(true)
  }

  private eraseTyped(line: string): void {
    const rows = Math.max(1, Math.ceil(line.length / (process.stdout.columns || 80)))
    moveCursor(process.stdout, 0, -rows)
    cursorTo(process.stdout, 0)
    clearScreenDown(process.stdout)
  }
}
