// Logging in, and one client per transport that shows a token and keeps a
// record of how its connection ended, so that a test can say which idiom it
// was ended in. The token goes in the Authorization header where the client
// can set one (a script's channel); Socket.IO's in its auth object.
import { EventSource } from 'eventsource'
import WebSocket from 'ws'
import { io, type Socket } from 'socket.io-client'
import type { Cursor, ErrorMessage, LogEntry, Welcome } from '../../server/core/protocol.ts'
import type { TransportName } from '../../server/core/names.ts'
import { until } from './wait.ts'

export interface Login {
  status: number
  body: Record<string, unknown>
  setCookie: string | null
}

export interface Session {
  token: string
  expiresAt: number
  name: string
  role: string
}

export async function login(url: string, code: unknown, name: unknown, token?: string): Promise<Login> {
  const res = await fetch(`${url}/api/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ code, name }),
  })
  return {
    status: res.status,
    body: (await res.json()) as Record<string, unknown>,
    setCookie: res.headers.get('set-cookie'),
  }
}

/** A login that must succeed. */
export async function loggedIn(url: string, code: string, name: string): Promise<Session> {
  const answer = await login(url, code, name)
  if (answer.status !== 200) throw new Error(`login as ${name} failed: ${JSON.stringify(answer.body)}`)
  return answer.body as unknown as Session
}

export function bearer(token: string): Record<string, string> {
  return { authorization: `Bearer ${token}` }
}

/** What a token holder's connection saw, and how it ended. */
export interface Held {
  readonly transport: TransportName
  readonly welcome: Welcome
  readonly entries: LogEntry[]
  /** Errors the server said before it ended the connection (an error message, an `error` event, SSE's `bye`). */
  readonly errors: ErrorMessage[]
  /** Set once the connection is over, with what ended it in this transport's words. */
  ended(): Ending | undefined
  close(): void
}

export type Ending =
  | { kind: 'websocket'; code: number; reason: string }
  | { kind: 'sse'; status: number | undefined }
  | { kind: 'socket.io'; reason: string }
  | { kind: 'polling'; status: number; body: ErrorMessage }

interface Where {
  url: string
  room: string
  token: string
  after?: Cursor
}

/** A client on `transport` in `room` with the token, resuming after `after` when given. Rejects when refused. */
export function holdWith(transport: TransportName, where: Where): Promise<Held> {
  switch (transport) {
    case 'websocket':
      return webSocketHolder(where)
    case 'sse':
      return sseHolder(where)
    case 'socket.io':
      return socketIoHolder(where)
    case 'short-polling':
    case 'long-polling':
      return pollingHolder(transport, where)
  }
}

function cursorQuery(after?: Cursor): Record<string, string> {
  return after ? { since: String(after.seq), ...(after.epoch ? { epoch: after.epoch } : {}) } : {}
}

async function webSocketHolder({ url, room, token, after }: Where): Promise<Held> {
  const query = new URLSearchParams({ room, ...cursorQuery(after) })
  const socket = new WebSocket(`${url.replace('http', 'ws')}/ws?${query}`, { headers: bearer(token) })
  const entries: LogEntry[] = []
  const errors: ErrorMessage[] = []
  let ending: Ending | undefined
  let welcome: Welcome | undefined
  let refused: string | undefined
  socket.on('unexpected-response', (_req, res) => {
    refused = `HTTP ${res.statusCode}`
    socket.terminate()
  })
  socket.on('error', () => {})
  socket.on('message', (data) => {
    const message = JSON.parse((data as Buffer).toString()) as Welcome | LogEntry | ErrorMessage
    if (message.type === 'welcome') welcome = message
    else if (message.type === 'error') errors.push(message)
    else entries.push(message)
  })
  socket.on('close', (code, reason) => (ending = { kind: 'websocket', code, reason: reason.toString() }))
  await until(() => welcome ?? refused ?? ending, 'the WebSocket welcome')
  if (!welcome) throw new Error(`the WebSocket was refused: ${refused ?? JSON.stringify(ending)}`)
  return {
    transport: 'websocket',
    welcome,
    entries,
    errors,
    ended: () => ending,
    close: () => socket.close(),
  }
}

/** SSE resumes the way a browser does: its cursor in Last-Event-ID (EPOCH-SEQ), which EventSource keeps up to date after. */
async function sseHolder({ url, room, token, after }: Where): Promise<Held> {
  const source = new EventSource(`${url}/sse?${new URLSearchParams({ room })}`, {
    fetch: (input, init) => {
      const headers = new Headers(init.headers)
      if (after && !headers.has('last-event-id')) headers.set('last-event-id', `${after.epoch}-${after.seq}`)
      headers.set('authorization', `Bearer ${token}`)
      return fetch(input, { ...init, headers })
    },
  })
  const entries: LogEntry[] = []
  const errors: ErrorMessage[] = []
  let welcome: Welcome | undefined
  let failed: number | undefined
  let gaveUp = false
  source.addEventListener('welcome', (event) => (welcome = JSON.parse(event.data as string) as Welcome))
  source.addEventListener('message', (event) => entries.push(JSON.parse(event.data as string) as LogEntry))
  source.addEventListener('notice', (event) => entries.push(JSON.parse(event.data as string) as LogEntry))
  source.addEventListener('bye', (event) =>
    errors.push({ type: 'error', ...JSON.parse(event.data as string) } as ErrorMessage),
  )
  source.addEventListener('error', (event) => {
    failed = event.code
    // EventSource stops for good (CLOSED) on a refusal; a dropped stream it reopens (CONNECTING).
    if (source.readyState === EventSource.CLOSED) gaveUp = true
  })
  await until(() => welcome ?? gaveUp, 'the SSE welcome')
  if (!welcome) throw new Error(`the EventSource was refused: HTTP ${failed}`)
  return {
    transport: 'sse',
    welcome,
    entries,
    errors,
    ended: () => (gaveUp ? { kind: 'sse', status: failed } : undefined),
    close: () => source.close(),
  }
}

async function socketIoHolder({ url, room, token, after }: Where): Promise<Held> {
  const socket: Socket = io(url, {
    forceNew: true,
    reconnection: false,
    auth: { protocol: 'lab', room, token, ...(after ? { since: after.seq, epoch: after.epoch } : {}) },
  })
  const entries: LogEntry[] = []
  const errors: ErrorMessage[] = []
  let welcome: Welcome | undefined
  let refused: string | undefined
  let ending: Ending | undefined
  socket.on('welcome', (w: Welcome) => (welcome = w))
  socket.on('message', (entry: LogEntry) => entries.push(entry))
  socket.on('notice', (entry: LogEntry) => entries.push(entry))
  socket.on('error', (error: ErrorMessage) => errors.push(error))
  socket.on('connect_error', (error: Error & { data?: { code?: string } }) => {
    refused = `${error.data?.code ?? ''} ${error.message}`
  })
  socket.on('disconnect', (reason) => (ending = { kind: 'socket.io', reason }))
  await until(() => welcome ?? refused, 'the Socket.IO welcome')
  if (!welcome) {
    socket.close()
    throw new Error(`Socket.IO was refused: ${refused}`)
  }
  return {
    transport: 'socket.io',
    welcome,
    entries,
    errors,
    ended: () => ending,
    close: () => socket.close(),
  }
}

async function pollingHolder(
  transport: 'short-polling' | 'long-polling',
  { url, room, token, after }: Where,
): Promise<Held> {
  const endpoint = `${url}${transport === 'short-polling' ? '/poll' : '/long-poll'}`
  const joined = await fetch(endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...bearer(token) },
    body: JSON.stringify({ type: 'join', room, ...(after ? { after } : {}) }),
  })
  const answer = (await joined.json()) as Welcome | ErrorMessage
  if (answer.type !== 'welcome') throw new Error(`the ${transport} join was refused: ${JSON.stringify(answer)}`)
  const welcome = answer
  const entries: LogEntry[] = []
  const errors: ErrorMessage[] = []
  const abort = new AbortController()
  let ending: Ending | undefined
  let cursor = { seq: welcome.seq, epoch: welcome.epoch }
  void (async () => {
    while (!abort.signal.aborted && !ending) {
      try {
        const query = new URLSearchParams({ room, since: String(cursor.seq), epoch: cursor.epoch })
        const res = await fetch(`${endpoint}?${query}`, {
          headers: { 'x-lab-session': welcome.session ?? '', ...bearer(token) },
          signal: abort.signal,
        })
        const body = (await res.json()) as { entries: LogEntry[]; seq: number; epoch: string } | ErrorMessage
        if ('code' in body) {
          errors.push(body)
          ending = { kind: 'polling', status: res.status, body }
          return
        }
        entries.push(...body.entries)
        cursor = { seq: body.seq, epoch: body.epoch }
      } catch {
        return
      }
      // A short poller's interval between polls is its behaviour, not a wait in the test.
      if (transport === 'short-polling') await new Promise((resolve) => setTimeout(resolve, 25))
    }
  })()
  return {
    transport,
    welcome,
    entries,
    errors,
    ended: () => ending,
    close: () => abort.abort(),
  }
}
