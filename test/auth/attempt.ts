// One attempt to join a room over one transport, presenting a token on one
// channel (or none, or from a page on some origin), with the client each
// transport is really used with: fetch for polling, an EventSource for SSE,
// ws for /ws, socket.io-client for Socket.IO. An attempt either joins (and
// can send) or is refused: then it lists every answer that refused it, in
// the words the client got them, so that a test can say what each must be.
import { EventSource } from 'eventsource'
import WebSocket from 'ws'
import { io, type Socket } from 'socket.io-client'
import type { IncomingMessage } from 'node:http'
import type { TransportName, Welcome } from '../../server/core/protocol.ts'
import type { Channel } from '../../server/auth/gate.ts'
import { until } from '../support/wait.ts'

export type { Channel }

/** The channels a client of each transport can put a token on. */
export const CHANNELS: Record<TransportName, Channel[]> = {
  'short-polling': ['authorization', 'query', 'cookie'],
  'long-polling': ['authorization', 'query', 'cookie'],
  sse: ['authorization', 'query', 'cookie'],
  websocket: ['authorization', 'query', 'cookie', 'subprotocol'],
  'socket.io': ['authorization', 'query', 'cookie', 'socket.io-auth'],
}

export const TRANSPORTS = Object.keys(CHANNELS) as TransportName[]

export interface Presented {
  token?: string
  channel?: Channel
  /** The page's Origin header; none, as curl or a script sends. */
  origin?: string
  /** Socket.IO only: the Engine.IO transports the client may use (both by default, polling first). */
  engine?: Array<'polling' | 'websocket'>
}

/** One answer that refused the attempt. */
export interface Answer {
  /** Which request or event gave it. */
  via: string
  /** The HTTP status, where there was a response. */
  status?: number
  code?: string
  message?: string
  wwwAuthenticate?: string | null
}

export interface Joined {
  joined: true
  welcome: Welcome
  /** Sends over the same transport, the token on the same channel; resolves once the server accepted it. */
  send(text: string): Promise<void>
  close(): Promise<void>
  /** /ws: the 101's headers, as ws received them. */
  upgrade?: { protocol: string; rawHeaders: string[] }
}

export interface Refused {
  joined: false
  answers: Answer[]
  /** Socket.IO's refused upgrade: what socket.io-client itself said (answers holds what the server sent). */
  clientSaw?: string
}

export type Outcome = Joined | Refused

export function attempt(
  transport: TransportName,
  url: string,
  room: string,
  presented: Presented = {},
): Promise<Outcome> {
  switch (transport) {
    case 'short-polling':
    case 'long-polling':
      return pollingAttempt(transport === 'short-polling' ? '/poll' : '/long-poll', url, room, presented)
    case 'sse':
      return sseAttempt(url, room, presented)
    case 'websocket':
      return webSocketAttempt(url, room, presented)
    case 'socket.io':
      return socketIoAttempt(url, room, presented)
  }
}

/** The headers a script sends for `presented` (the token where its channel is a header, and the Origin). */
export function headersFor(presented: Presented): Record<string, string> {
  const headers: Record<string, string> = {}
  if (presented.origin) headers.origin = presented.origin
  if (presented.token === undefined) return headers
  if (presented.channel === 'authorization') headers.authorization = `Bearer ${presented.token}`
  if (presented.channel === 'cookie') headers.cookie = `lab_token=${presented.token}`
  return headers
}

/** `path` with the token in its query string when that is the channel. */
export function withQuery(path: string, presented: Presented): string {
  if (presented.token === undefined || presented.channel !== 'query') return path
  return `${path}${path.includes('?') ? '&' : '?'}token=${encodeURIComponent(presented.token)}`
}

async function answerOf(via: string, res: Response): Promise<Answer> {
  const text = await res.text()
  return { via, status: res.status, ...errorFields(text), wwwAuthenticate: res.headers.get('www-authenticate') }
}

/** The code and message of an error body: the lab's JSON, or Engine.IO's `{"code":4,"message":"LAB_ERR_…: …"}` or bare text. */
function errorFields(text: string): { code?: string; message?: string } {
  let body: unknown
  try {
    body = JSON.parse(text)
  } catch {
    body = { message: text }
  }
  const { code, message } = (body ?? {}) as { code?: unknown; message?: unknown }
  if (typeof code === 'string') return { code, message: typeof message === 'string' ? message : undefined }
  if (typeof message !== 'string') return {}
  const prefixed = /^(LAB_ERR_[A-Z_]+): ([^]*)$/.exec(message)
  return prefixed ? { code: prefixed[1], message: prefixed[2] } : { message }
}

/** Polling: join by POST, then a GET; a refusal is both answers. */
async function pollingAttempt(path: string, url: string, room: string, presented: Presented): Promise<Outcome> {
  const headers = { ...headersFor(presented), 'content-type': 'application/json' }
  const post = (body: unknown, session?: string) =>
    fetch(`${url}${withQuery(path, presented)}`, {
      method: 'POST',
      headers: session ? { ...headers, 'x-lab-session': session } : headers,
      body: JSON.stringify(body),
    })
  const join = await post({ type: 'join', room })
  const read = (since: number, session?: string) =>
    fetch(`${url}${withQuery(`${path}?room=${room}&since=${since}`, presented)}`, {
      headers: session ? { ...headersFor(presented), 'x-lab-session': session } : headersFor(presented),
    })
  if (join.status !== 200) {
    const get = await read(0)
    return { joined: false, answers: [await answerOf(`POST ${path}`, join), await answerOf(`GET ${path}`, get)] }
  }
  const welcome = (await join.json()) as Welcome
  const session = welcome.session
  const got = await read(welcome.seq, session)
  if (got.status !== 200) throw new Error(`joined, then the GET was refused: ${got.status} ${await got.text()}`)
  await got.body?.cancel()
  return {
    joined: true,
    welcome,
    async send(text) {
      const res = await post({ type: 'send', room, text }, session)
      if (res.status !== 200) throw new Error(`send refused: ${res.status} ${await res.text()}`)
      await res.body?.cancel()
    },
    async close() {
      await (await post({ type: 'leave', room }, session)).body?.cancel()
    },
  }
}

/** SSE: an EventSource whose fetch sets the headers a script can set, and keeps the answer of a refusal. */
async function sseAttempt(url: string, room: string, presented: Presented): Promise<Outcome> {
  let refusal: Promise<Answer> | undefined
  const source = new EventSource(`${url}${withQuery(`/sse?room=${room}`, presented)}`, {
    fetch: async (input, init) => {
      const res = await fetch(input, { ...init, headers: { ...init?.headers, ...headersFor(presented) } })
      if (res.status !== 200) refusal = answerOf('GET /sse', res.clone())
      return res
    },
  })
  let welcome: Welcome | undefined
  let failed = false
  source.addEventListener('welcome', (event) => {
    welcome = JSON.parse(event.data as string) as Welcome
  })
  source.addEventListener('error', () => {
    if (source.readyState === source.CLOSED) failed = true
  })
  await until(() => welcome ?? failed, 'the SSE welcome or a failed stream')
  if (!welcome) {
    source.close()
    return { joined: false, answers: [await (refusal ?? Promise.resolve({ via: 'GET /sse (no answer)' }))] }
  }
  const session = welcome.session!
  return {
    joined: true,
    welcome,
    async send(text) {
      const res = await fetch(`${url}${withQuery('/sse', presented)}`, {
        method: 'POST',
        headers: { ...headersFor(presented), 'content-type': 'application/json', 'x-lab-session': session },
        body: JSON.stringify({ type: 'send', room, text }),
      })
      if (res.status !== 200) throw new Error(`send refused: ${res.status} ${await res.text()}`)
      await res.body?.cancel()
    },
    async close() {
      source.close()
    },
  }
}

interface Upgraded {
  socket: WebSocket
  rawHeaders: string[]
  /** Every message since the 101 (the welcome can come in the same packet as the 101). */
  received: unknown[]
}

/** Opens a WebSocket; resolves with the socket after its 101, or with the answer that refused the upgrade. */
function upgrade(wsUrl: string, protocols: string[], headers: Record<string, string>, via: string) {
  const socket = new WebSocket(wsUrl, protocols, { headers })
  const received: unknown[] = []
  socket.on('message', (data) => received.push(JSON.parse((data as Buffer).toString())))
  return new Promise<Upgraded | Answer>((resolve, reject) => {
    socket.once('upgrade', (res: IncomingMessage) => resolve({ socket, rawHeaders: res.rawHeaders, received }))
    socket.once('unexpected-response', (req, res: IncomingMessage) => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('end', () => {
        resolve({
          via,
          status: res.statusCode,
          ...errorFields(Buffer.concat(chunks).toString()),
          wwwAuthenticate: res.headers['www-authenticate'] ?? null,
        })
        req.destroy()
      })
    })
    socket.once('error', reject)
  })
}

/** /ws: the token on a header, the query string or beside "bearer" in the subprotocol list; a refusal is the upgrade's answer. */
async function webSocketAttempt(url: string, room: string, presented: Presented): Promise<Outcome> {
  const protocols =
    presented.channel === 'subprotocol' && presented.token !== undefined ? ['bearer', presented.token] : []
  const wsUrl = `${url.replace('http', 'ws')}${withQuery(`/ws?room=${room}`, presented)}`
  const opened = await upgrade(wsUrl, protocols, headersFor(presented), 'GET /ws (upgrade)')
  if (!('socket' in opened)) return { joined: false, answers: [opened] }
  const { socket, rawHeaders, received } = opened
  const welcome = await until(
    () => received.find((m): m is Welcome => (m as Welcome).type === 'welcome'),
    'the /ws welcome',
  )
  return {
    joined: true,
    welcome,
    upgrade: { protocol: socket.protocol, rawHeaders },
    async send(text) {
      socket.send(JSON.stringify({ type: 'send', room, text }))
    },
    async close() {
      if (socket.readyState === WebSocket.CLOSED) return
      await new Promise((resolve) => {
        socket.once('close', resolve)
        socket.close()
      })
    },
  }
}

/**
 * Socket.IO: a token on any channel is checked by io.use (a connect_error
 * with data.code). What is refused before (a foreign Origin at the edge, a
 * head too large for Node's parser) fails the Engine.IO handshake instead:
 * socket.io-client hands over the polling handshake's body but only the
 * status of a refused upgrade, so for that one the same upgrade is made again
 * with ws to read it.
 */
async function socketIoAttempt(url: string, room: string, presented: Presented): Promise<Outcome> {
  const engine = presented.engine ?? ['polling', 'websocket']
  const socket: Socket = io(url, {
    forceNew: true,
    reconnection: false,
    transports: engine,
    extraHeaders: headersFor(presented),
    query: presented.channel === 'query' && presented.token !== undefined ? { token: presented.token } : {},
    auth: {
      protocol: 'lab',
      room,
      ...(presented.channel === 'socket.io-auth' && presented.token !== undefined ? { token: presented.token } : {}),
    },
  })
  // The polling handshake's body is read in the listener: once the client closes, its responseText is empty.
  let pollingBody = ''
  const result = await new Promise<Welcome | (Error & SocketIoError)>((resolve) => {
    socket.once('welcome', resolve)
    socket.once('connect_error', (error: Error & SocketIoError) => {
      pollingBody = error.context?.responseText ?? ''
      resolve(error)
    })
  })
  if ('type' in result && result.type === 'welcome') {
    return {
      joined: true,
      welcome: result,
      async send(text) {
        const ack = (await socket.emitWithAck('send', { room, text })) as { type: string }
        if (ack.type === 'error') throw new Error(`send refused: ${JSON.stringify(ack)}`)
      },
      async close() {
        socket.disconnect()
      },
    }
  }
  const error = result as Error & SocketIoError
  socket.disconnect()
  if (error.data?.code)
    return { joined: false, answers: [{ via: 'io.use connect_error', ...error.data, message: error.message }] }
  if (typeof error.description === 'number') {
    return {
      joined: false,
      answers: [{ via: 'Engine.IO polling handshake', status: error.description, ...errorFields(pollingBody) }],
    }
  }
  // The client saw only "Unexpected server response: 400": the same upgrade again, with ws, reads the answer.
  const clientSaw = `${error.message}: ${(error.description as { message?: string } | undefined)?.message ?? ''}`
  const again = await upgrade(
    `${url.replace('http', 'ws')}${withQuery('/socket.io/?EIO=4&transport=websocket', presented)}`,
    [],
    headersFor(presented),
    'Engine.IO upgrade',
  )
  if ('socket' in again) {
    again.socket.terminate()
    throw new Error(`socket.io-client was refused (${clientSaw}) but the same upgrade opened`)
  }
  return { joined: false, answers: [again], clientSaw }
}

interface SocketIoError {
  data?: { code: string }
  description?: unknown
  context?: { responseText?: string }
}
