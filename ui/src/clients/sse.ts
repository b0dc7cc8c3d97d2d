// Server-Sent Events with the browser's EventSource. The stream carries the
// room's entries; sending is a POST with the session from the stream's welcome.
// EventSource reconnects by itself and sends Last-Event-ID; this client only
// steps in when the browser gives up (readyState CLOSED).
import type { Cursor, ErrorMessage, LogEntry, TransportName, Welcome } from '../../../server/core/protocol.ts'
import { cursorQuery } from './chat-client.ts'
import { HttpClient } from './http-client.ts'
import { now } from '../clock.ts'

/** One event as the page's EventSource dispatched it, for the Inspector's event-stream view. */
export interface SseEvent {
  /** The event's id: field, if it had one. */
  id: string
  /** Its event: field ("message" when it had none). */
  type: string
  data: string
  at: number
}

const EVENTS_KEPT = 300

export class SseClient extends HttpClient {
  readonly transport: TransportName = 'sse'
  private source: EventSource | undefined
  /** The newest events received, oldest first, like DevTools' EventStream tab. */
  readonly events: SseEvent[] = []

  protected open(after: Cursor | undefined): void {
    const token: Record<string, string> = this.token ? { token: this.token } : {}
    const source = new EventSource(this.url({ room: this.room, name: this.name, ...cursorQuery(after), ...token }))
    this.source = source
    this.stats.requests++
    this.onFrame({
      dir: 'up',
      bytes: 0,
      kind: 'GET /sse (EventSource)',
      content: `room=${this.room}${after ? ` since=${after.seq}` : ''}`,
    })
    const frame = (event: MessageEvent<string>, type: string) => {
      // Page scripts see the parsed event, not its bytes: this is the event re-serialized as the server wrote it.
      // lastEventId outlives the event that set it; the server gives ids to the welcome and the entries only.
      const carriesId = type !== 'bye' && type !== 'error'
      const text = `${event.lastEventId && carriesId ? `id: ${event.lastEventId}\n` : ''}${type === 'message' ? '' : `event: ${type}\n`}data: ${event.data}\n\n`
      this.events.push({ id: carriesId ? event.lastEventId : '', type, data: event.data, at: now() })
      if (this.events.length > EVENTS_KEPT) this.events.splice(0, this.events.length - EVENTS_KEPT)
      this.onFrame({
        dir: 'down',
        bytes: new TextEncoder().encode(text).length,
        kind: `event: ${type}`,
        content: event.data,
      })
    }
    // Events already read from a stream may still be dispatched after close(): only the current stream's count.
    const on = (type: string, handle: (event: MessageEvent<string>) => void) => {
      source.addEventListener(type, (event) => {
        if (this.source === source) handle(event as MessageEvent<string>)
      })
    }
    // Every welcome after the first on this source is a reconnection EventSource made by itself: one more GET.
    let welcomes = 0
    let renewing = false
    on('welcome', (event) => {
      if (welcomes++ > 0) this.stats.requests++
      renewing = false
      frame(event, 'welcome')
      const welcome = JSON.parse(event.data) as Welcome
      if (welcome.session) this.session = welcome.session
      this.onWelcome(welcome)
    })
    on('message', (event) => {
      frame(event, 'message')
      this.onEntry(JSON.parse(event.data) as LogEntry)
    })
    for (const type of ['notice', 'presence'] as const)
      on(type, (event) => {
        frame(event, type)
        this.onEntry(JSON.parse(event.data) as LogEntry)
      })
    // The server ending the stream on purpose: a renewal (EventSource is back within the
    // server's retry of 100 ms, resuming from Last-Event-ID), or a limit, which is worth showing.
    on('bye', (event) => {
      frame(event, 'bye')
      const bye = errorFrom(event.data)
      if (bye.code === 'LAB_RENEW') renewing = true
      else this.onError(bye)
    })
    on('error', (event) => {
      // The browser's own "error" is a plain Event; an `event: error` the server wrote has data.
      if (typeof event.data === 'string') {
        frame(event, 'error')
        this.onError(errorFrom(event.data))
      } else if (source.readyState === EventSource.CLOSED) {
        this.connectionLost()
      } else if (!renewing) {
        // A renewal's end is not news on the projector; any other break is.
        this.setState('reconnecting')
      }
    })
  }

  protected close(): void {
    this.source?.close()
    this.source = undefined
  }

  /** The stream is the membership: closing it is leaving. */
  protected override async leaveRoom(): Promise<void> {}
}

/** An `event: error` the server wrote: { code, message } as JSON, or else just text. */
function errorFrom(data: string): ErrorMessage {
  let parsed: Partial<Record<keyof ErrorMessage, unknown>> = {}
  try {
    const value: unknown = JSON.parse(data)
    if (typeof value === 'object' && value !== null) parsed = value
  } catch {
    // Not JSON: the text itself is the message.
  }
  const code = typeof parsed.code === 'string' ? parsed.code : 'LAB_ERR_INTERNAL'
  return { type: 'error', code, message: typeof parsed.message === 'string' ? parsed.message : data }
}
