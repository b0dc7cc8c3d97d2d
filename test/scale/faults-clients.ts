// The workbench's own clients (ui/src/clients), which reconnect and resume by
// themselves as a user's page does, run in Node through the balancer, each
// with a `sticky` query value of its own so that the test decides which
// instance it lands on. Node lacks the browser's WebSocket and EventSource:
// they are lent ws and the eventsource package, as lessons/tools/chat-session.ts
// and test/ui/clients.test.ts do.
//
// The clients have no option for extra query parameters (yet), so each gets
// its sticky value where its transport builds URLs: the HTTP clients' one url()
// (polls, posts and the SSE stream), the WebSocket's URL as it is opened, and
// Socket.IO's URL, whose query engine.io-client sends with every request.
import { EventSource } from 'eventsource'
import WebSocket from 'ws'
import type { ChatMessage, Cursor, ErrorMessage, LogEntry, TransportName, Welcome } from '../../server/core/protocol.ts'
import type { ChatClient, Frame } from '../../ui/src/clients/chat-client.ts'
import { LongPollingClient, ShortPollingClient } from '../../ui/src/clients/polling.ts'
import { SocketIoClient } from '../../ui/src/clients/socket-io.ts'
import { SseClient } from '../../ui/src/clients/sse.ts'
import { WebSocketClient } from '../../ui/src/clients/websocket.ts'

/** ws with a browser's manners: a failed connection fires 'error' then 'close', and nothing is thrown. */
class BrowserWebSocket extends WebSocket {
  constructor(url: string | URL, protocols?: string | string[]) {
    super(url, protocols)
    this.on('error', () => {})
  }
}

Object.assign(globalThis, { WebSocket: BrowserWebSocket, EventSource })

function withSticky(url: string, sticky: string): string {
  const parsed = new URL(url)
  parsed.searchParams.set('sticky', sticky)
  return parsed.toString()
}

interface StickyOptions {
  baseUrl: string
  name: string
  room: string
  sticky: string
}

const COMMON = { pollIntervalMs: 50, longPollTimeoutMs: 5000 }

function makeSticky(transport: TransportName, { baseUrl, name, room, sticky }: StickyOptions): ChatClient {
  const options = { baseUrl, name, room, ...COMMON }
  switch (transport) {
    case 'short-polling':
      return new (class extends ShortPollingClient {
        protected override url(query: Record<string, string> = {}): string {
          return withSticky(super.url(query), sticky)
        }
      })(options)
    case 'long-polling':
      return new (class extends LongPollingClient {
        protected override url(query: Record<string, string> = {}): string {
          return withSticky(super.url(query), sticky)
        }
      })(options)
    case 'sse':
      return new (class extends SseClient {
        protected override url(query: Record<string, string> = {}): string {
          return withSticky(super.url(query), sticky)
        }
      })(options)
    case 'websocket':
      return new (class extends WebSocketClient {
        // open() makes its socket at once, synchronously: for that moment the global WebSocket adds the value.
        protected override open(...args: Parameters<WebSocketClient['open']>): void {
          const lent = globalThis.WebSocket
          globalThis.WebSocket = class extends BrowserWebSocket {
            constructor(url: string | URL, protocols?: string | string[]) {
              super(withSticky(String(url), sticky), protocols)
            }
          } as unknown as typeof globalThis.WebSocket
          try {
            super.open(...args)
          } finally {
            globalThis.WebSocket = lent
          }
        }
      })(options)
    case 'socket.io':
      return new SocketIoClient({ ...options, baseUrl: withSticky(`${baseUrl}/`, sticky) })
  }
}

/** What a client showed its user, and what came over the wire before the client's own filtering. */
export interface Watched {
  transport: TransportName
  client: ChatClient
  /** Entries in the order the client handed them on (after its own de-duplication by cursor). */
  shown: LogEntry[]
  /** Every chat message as it arrived in a frame, event, batch or packet, repeats included. */
  wire: ChatMessage[]
  welcomes: Welcome[]
  /** Each welcome beside the position the client held when it came: what it resumed from. */
  resumes: Array<{ from: Cursor | undefined; welcome: Welcome }>
  errors: ErrorMessage[]
  historyLost: number
}

export function stickyClient(transport: TransportName, options: StickyOptions): Watched {
  const client = makeSticky(transport, options)
  const watched: Watched = {
    transport,
    client,
    shown: [],
    wire: [],
    welcomes: [],
    resumes: [],
    errors: [],
    historyLost: 0,
  }
  // Read before the client's own handlers move it: the welcome event comes after its cursor has changed.
  let position: Cursor | undefined
  client.on('entry', ({ detail }) => {
    watched.shown.push(detail.entry)
    position = { seq: detail.entry.seq, epoch: detail.entry.epoch }
  })
  client.on('welcome', ({ detail }) => {
    watched.welcomes.push(detail)
    watched.resumes.push({ from: position, welcome: detail })
    // As the client takes it: after a loss it reads the new epoch from its start.
    const lost = position !== undefined && (!detail.recovered || position.epoch !== detail.epoch)
    if (position === undefined || lost) position = { seq: lost ? 0 : detail.seq, epoch: detail.epoch }
  })
  client.on('error', ({ detail }) => watched.errors.push(detail))
  client.on('history-lost', () => {
    watched.historyLost++
  })
  client.on('frame', ({ detail }) => watched.wire.push(...messagesInFrame(detail, options.room)))
  return watched
}

export const shownTexts = (w: Watched): string[] =>
  w.shown.filter((e): e is ChatMessage => e.type === 'message').map((m) => m.text)

/** The chat messages a frame carried, read the way each transport frames them. */
function messagesInFrame(frame: Frame, room: string): ChatMessage[] {
  if (frame.dir !== 'down') return []
  let values: unknown[] = []
  try {
    if (frame.kind === 'text frame' || frame.kind === 'event: message') values = [JSON.parse(frame.content)]
    else if (/ batch \(\d+\)$/.test(frame.kind)) values = (JSON.parse(frame.content) as { entries: unknown[] }).entries
    else if (frame.kind.endsWith('EVENT "message"')) {
      const [, payload] = JSON.parse(frame.content.slice(frame.content.indexOf('['))) as [string, unknown]
      values = [payload]
    }
  } catch {
    return []
  }
  return values.filter(
    (v): v is ChatMessage =>
      typeof v === 'object' && v !== null && (v as LogEntry).type === 'message' && (v as LogEntry).room === room,
  )
}
