// The load side of the dead-peers scenario: one client per transport that
// joins a room of its own and then stops answering, the way a laptop whose
// lid closed does (its TCP connection stays open, nothing more comes from it):
//
//   websocket      `ws` with autoPong: false: never answers the server's pings
//   socket.io      Engine.IO by hand over a WebSocket ("40{auth}"), never answers "2"
//   sse            reads until the welcome, then pauses its socket and never
//                  reopens the stream the server renews
//   short-polling  joins and polls, then stops polling
//   long-polling   joins, leaves a held poll on the wire, then stops polling
//
// Then the watch, in this same process so that the moment each peer stopped
// and what the server says are on one clock: every `pollMs` it reads
// GET /api/rooms/:room/presence for each room and GET /api/wire for the open
// connections of each transport, until every peer is gone from both or `capMs` passes.
import { Agent, request as httpRequest, type ClientRequest, type IncomingMessage } from 'node:http'
import WebSocket from 'ws'
import type { TransportName } from '../../server/core/protocol.ts'
import type { WireSnapshot } from '../../server/wire/meter.ts'
import { sleep, withQuery } from './common.ts'
import { httpCall } from './http.ts'
import { SESSION_HEADER, TRANSPORT_INFO } from '../../server/core/names.ts'

export interface DeadOpenParams {
  url: string
  transports: TransportName[]
  /** Each peer's room: `${roomPrefix}${index}`. */
  roomPrefix: string
}

export interface DeadWatchParams {
  url: string
  pollMs: number
  capMs: number
}

export interface DeadPeerSeen {
  transport: TransportName
  room: string
  /** performance.now() here when it stopped answering, and the delays after it (null: not within the cap). */
  stoppedAt: number
  goneFromPresenceMs: number | null
  connectionClosedMs: number | null
  /** The transport's open connections on the server before the peer connected, and just after it stopped. */
  connectionsBefore: number
  connectionsAtStop: number
}

interface Peer {
  transport: TransportName
  room: string
  stoppedAt: number
  connectionsBefore: number
  connectionsAtStop: number
  release(): void
}

let peers: Peer[] = []

async function getJson<T>(url: string): Promise<T> {
  const res = await fetch(url, { signal: AbortSignal.timeout(5000) })
  if (!res.ok) throw new Error(`GET ${url} answered ${res.status}`)
  return (await res.json()) as T
}

async function openConnections(url: string): Promise<Record<string, number>> {
  const wire = await getJson<WireSnapshot>(`${url}/api/wire`)
  return Object.fromEntries(Object.entries(wire.transports).map(([name, tally]) => [name, tally.connectionsOpen]))
}

const wsUrl = (url: string) => url.replace(/^http/, 'ws')

/** Opens one peer, lets it join, makes it stop answering; resolves at the moment it stopped, with a function that lets go of its socket at the end. */
async function openPeer(
  url: string,
  transport: TransportName,
  room: string,
): Promise<{ stoppedAt: number; release(): void }> {
  const name = 'dead'
  switch (transport) {
    case 'websocket': {
      const ws = new WebSocket(withQuery(`${wsUrl(url)}${TRANSPORT_INFO.websocket.path}`, { room, name }), {
        autoPong: false,
      })
      ws.on('error', () => {})
      await new Promise<void>((resolve, reject) => {
        ws.on('message', (data) => {
          if ((JSON.parse((data as Buffer).toString()) as { type?: string }).type === 'welcome') resolve()
        })
        ws.once('close', (code) => reject(new Error(`closed with ${code} before the welcome`)))
      })
      return { stoppedAt: performance.now(), release: () => ws.terminate() }
    }
    case 'socket.io': {
      const ws = new WebSocket(`${wsUrl(url)}/socket.io/?EIO=4&transport=websocket`)
      ws.on('error', () => {})
      await new Promise<void>((resolve, reject) => {
        ws.on('message', (data) => {
          const packet = (data as Buffer).toString()
          // 0 = Engine.IO open: connect to the namespace with the protocol's auth; 42["welcome",...] = in the room.
          if (packet.startsWith('0')) ws.send(`40${JSON.stringify({ protocol: 'lab', room, name })}`)
          else if (packet.startsWith('42["welcome"')) resolve()
          else if (packet.startsWith('44')) reject(new Error(`connect refused: ${packet}`))
        })
        ws.once('close', (code) => reject(new Error(`closed with ${code} before the welcome`)))
      })
      // From here on nothing answers the "2" pings.
      return { stoppedAt: performance.now(), release: () => ws.terminate() }
    }
    case 'sse': {
      let res!: IncomingMessage
      let req!: ClientRequest
      await new Promise<void>((resolve, reject) => {
        req = httpRequest(
          withQuery(`${url}${TRANSPORT_INFO.sse.path}`, { room, name }),
          { agent: false, headers: { accept: 'text/event-stream' } },
          (r) => {
            res = r
            if (r.statusCode !== 200) reject(new Error(`/sse answered ${r.statusCode}`))
            let text = ''
            const onData = (chunk: Buffer) => {
              text += chunk.toString()
              if (!text.includes('event: welcome')) return
              r.off('data', onData)
              // Like a process under SIGSTOP: the socket stays open, nothing is read, the stream is never reopened.
              r.pause()
              resolve()
            }
            r.on('data', onData)
          },
        )
        req.on('error', reject)
        req.end()
      })
      return {
        stoppedAt: performance.now(),
        release: () => {
          res.destroy()
          req.destroy()
        },
      }
    }
    case 'short-polling':
    case 'long-polling': {
      const base = `${url}${TRANSPORT_INFO[transport].path}`
      const agent = new Agent({ keepAlive: true, maxSockets: 1 })
      const joined = await httpCall(agent, 'POST', base, JSON.stringify({ type: 'join', room, name }))
      if (joined.status !== 200) throw new Error(`join answered ${joined.status}: ${joined.body}`)
      const welcome = JSON.parse(joined.body) as { session: string; seq: number; epoch: string }
      const headers = { [SESSION_HEADER]: welcome.session }
      const poll = withQuery(base, { room, since: welcome.seq, epoch: welcome.epoch })
      if (transport === 'short-polling') {
        for (let i = 0; i < 2; i++) await httpCall(agent, 'GET', poll, undefined, headers)
        // Its last poll is answered: from here on it asks nothing, and its keep-alive connection stays as it is.
        return { stoppedAt: performance.now(), release: () => agent.destroy() }
      }
      // The last poll goes on the wire and is held; no other follows it.
      await new Promise<void>((resolve) => {
        void httpCall(agent, 'GET', poll, undefined, headers, (req) => req.once('finish', () => resolve())).catch(
          () => {},
        )
      })
      return { stoppedAt: performance.now(), release: () => agent.destroy() }
    }
  }
}

async function open(params: DeadOpenParams): Promise<Array<{ transport: TransportName; room: string }>> {
  close()
  const before = await openConnections(params.url)
  const opened = await Promise.all(
    params.transports.map(async (transport, i) => {
      const room = `${params.roomPrefix}${i}`
      const peer = await openPeer(params.url, transport, room)
      return { transport, room, ...peer }
    }),
  )
  const atStop = await openConnections(params.url)
  peers = opened.map((p) => ({
    ...p,
    connectionsBefore: before[p.transport] ?? 0,
    connectionsAtStop: atStop[p.transport] ?? 0,
  }))
  return peers.map(({ transport, room }) => ({ transport, room }))
}

async function watch(params: DeadWatchParams): Promise<DeadPeerSeen[]> {
  const seen: DeadPeerSeen[] = peers.map((p) => ({
    transport: p.transport,
    room: p.room,
    stoppedAt: p.stoppedAt,
    goneFromPresenceMs: null,
    connectionClosedMs: null,
    connectionsBefore: p.connectionsBefore,
    connectionsAtStop: p.connectionsAtStop,
  }))
  const started = performance.now()
  while (
    performance.now() - started < params.capMs &&
    seen.some((s) => s.goneFromPresenceMs === null || s.connectionClosedMs === null)
  ) {
    const [connections, ...presence] = await Promise.all([
      openConnections(params.url),
      ...seen.map((s) => getJson<unknown[]>(`${params.url}/api/rooms/${s.room}/presence`)),
    ])
    const now = performance.now()
    seen.forEach((s, i) => {
      if (s.goneFromPresenceMs === null && presence[i]!.length === 0) s.goneFromPresenceMs = now - s.stoppedAt
      // Each transport has one dead peer, and the watch's own requests are not theirs: back to the count before it connected.
      if (s.connectionClosedMs === null && (connections[s.transport] ?? 0) <= s.connectionsBefore)
        s.connectionClosedMs = now - s.stoppedAt
    })
    await sleep(Math.max(0, params.pollMs - (performance.now() - now)))
  }
  return seen
}

function close(): void {
  for (const peer of peers) peer.release()
  peers = []
}

export const deadHandlers = {
  'dead.open': (params: DeadOpenParams) => open(params),
  'dead.watch': (params: DeadWatchParams) => watch(params),
  'dead.close': () => close(),
}
