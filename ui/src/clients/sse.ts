// Server-Sent Events with the browser's EventSource. The stream carries the
// room's entries; sending is a POST with the session from the stream's welcome.
// EventSource reconnects by itself and sends Last-Event-ID; this client only
// steps in when the browser gives up (readyState CLOSED).
import type { Cursor, LogEntry, TransportName, Welcome } from '../../../server/core/protocol.ts'
import { cursorQuery } from './chat-client.ts'
import { HttpClient } from './http-client.ts'

export class SseClient extends HttpClient {
  readonly transport: TransportName = 'sse'
  protected readonly path = '/sse'
  private source: EventSource | undefined

  protected open(after: Cursor | undefined): void {
    const source = new EventSource(this.url({ room: this.room, name: this.name, ...cursorQuery(after) }))
    this.source = source
    this.stats.requests++
    this.onFrame({ dir: 'up', bytes: 0, kind: 'GET /sse (EventSource)', content: `room=${this.room}${after ? ` since=${after.seq}` : ''}` })
    const frame = (event: MessageEvent<string>, type: string) => {
      // Page scripts see the parsed event, not its bytes: this is the event re-serialized as the server wrote it.
      const text = `${event.lastEventId && type !== 'welcome' ? `id: ${event.lastEventId}\n` : ''}${type === 'message' ? '' : `event: ${type}\n`}data: ${event.data}\n\n`
      this.onFrame({ dir: 'down', bytes: new TextEncoder().encode(text).length, kind: `event: ${type}`, content: event.data })
    }
    source.addEventListener('welcome', (event) => {
      frame(event, 'welcome')
      const welcome = JSON.parse(event.data) as Welcome
      if (welcome.session) this.session = welcome.session
      this.onWelcome(welcome)
    })
    source.addEventListener('message', (event) => {
      frame(event, 'message')
      this.onEntry(JSON.parse(event.data) as LogEntry)
    })
    source.addEventListener('notice', (event) => {
      frame(event as MessageEvent<string>, 'notice')
      this.onEntry(JSON.parse((event as MessageEvent<string>).data) as LogEntry)
    })
    source.addEventListener('error', () => {
      if (this.source !== source) return
      if (source.readyState === EventSource.CLOSED) this.connectionLost()
      else this.setState('reconnecting')
    })
  }

  protected close(): void {
    this.source?.close()
    this.source = undefined
  }

  /** The stream is the membership: closing it is leaving. */
  protected override async leaveRoom(): Promise<void> {}
}
