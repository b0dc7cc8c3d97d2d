// The load side of the idle and handshake scenarios: many clients that connect,
// join and then only keep their connection alive in their transport's idiom
// (short polls at the interval, a held long poll, an open stream, a WebSocket
// answering pings, a Socket.IO connection answering Engine.IO pings), and a
// single client whose connection is the thing measured.
import type { Loss } from '../accounting.ts'
import type { Endpoint } from '../subjects.ts'
import type { Receiver } from './common.ts'
import { createReceiver } from './index.ts'
import { PollingReceiver } from './http.ts'
import { SocketIoReceiver, type SocketIoStart } from './socket-io.ts'

export interface CrowdParams {
  /** Several crowds can be held at once (a transport and its baseline side by side). */
  crowd: string
  endpoint: Endpoint
  count: number
  /** Clients per room: rooms stay small so that join notices do not grow with the square of the crowd. */
  roomSize: number
  roomPrefix: string
  /** Index of this process's first client, so that several load processes fill distinct rooms. */
  offset: number
  concurrency: number
  /** joins: count each client's presence deliveries (notices, coalesced presence entries). */
  countPresence?: boolean
  /** joins: start no new batch of clients after this much time, ms; the report says how many were never started. */
  limitMs?: number
}

export interface CrowdReport {
  connected: number
  failed: number
  failures: Loss[]
  /** SSE: streams the server ended that the clients reopened, and how many of those came back as another member. */
  reconnects?: number
  rejoinedAsNew?: number
  /** With countPresence: presence deliveries received by the crowd's clients so far, all together. */
  presenceDeliveries?: number
  /** With limitMs: clients not started because the limit had passed. */
  notStarted?: number
}

const crowds = new Map<string, Receiver[]>()
const presenceCounts = new Map<string, number>()

function tally(reasons: Map<string, number>, reason: string): void {
  reasons.set(reason, (reasons.get(reason) ?? 0) + 1)
}

async function open(params: CrowdParams): Promise<CrowdReport> {
  const crowd = crowds.get(params.crowd) ?? []
  crowds.set(params.crowd, crowd)
  const reasons = new Map<string, number>()
  const counted = params.countPresence === true
  if (counted && !presenceCounts.has(params.crowd)) presenceCounts.set(params.crowd, 0)
  const onPresence = counted
    ? () => presenceCounts.set(params.crowd, (presenceCounts.get(params.crowd) ?? 0) + 1)
    : undefined
  const stopAt = params.limitMs === undefined ? Infinity : performance.now() + params.limitMs
  let connected = 0
  let started = 0
  for (let start = 0; start < params.count; start += params.concurrency) {
    if (performance.now() > stopAt) break
    const batch: Receiver[] = []
    for (let i = start; i < Math.min(params.count, start + params.concurrency); i++) {
      const n = params.offset + i
      batch.push(
        createReceiver({
          endpoint: params.endpoint,
          room: `${params.roomPrefix}${Math.floor(n / params.roomSize)}`,
          name: `idle${n}`,
          onMessage: () => {},
          ...(onPresence ? { onPresence } : {}),
        }),
      )
    }
    started += batch.length
    const settled = await Promise.allSettled(batch.map((r) => r.ready))
    settled.forEach((result, i) => {
      if (result.status === 'fulfilled') {
        connected++
        crowd.push(batch[i]!)
      } else {
        tally(reasons, String((result.reason as Error)?.message ?? result.reason).slice(0, 120))
        void batch[i]!.close()
      }
    })
  }
  return {
    connected,
    failed: started - connected,
    failures: [...reasons].map(([reason, count]) => ({ reason, count })),
    ...(params.limitMs === undefined ? {} : { notStarted: params.count - started }),
  }
}

function check(id: string): CrowdReport {
  const crowd = crowds.get(id) ?? []
  const reasons = new Map<string, number>()
  let dropped = 0
  for (const receiver of crowd) {
    if (receiver.failure) {
      dropped++
      tally(reasons, receiver.failure.slice(0, 120))
    }
  }
  return {
    connected: crowd.length - dropped,
    failed: dropped,
    failures: [...reasons].map(([reason, count]) => ({ reason, count })),
    reconnects: crowd.reduce((n, r) => n + r.reconnects, 0),
    rejoinedAsNew: crowd.reduce((n, r) => n + r.rejoinedAsNew, 0),
    ...(presenceCounts.has(id) ? { presenceDeliveries: presenceCounts.get(id) } : {}),
  }
}

async function close(id: string): Promise<void> {
  const closing = crowds.get(id) ?? []
  crowds.delete(id)
  presenceCounts.delete(id)
  for (let start = 0; start < closing.length; start += 500) {
    await Promise.allSettled(closing.slice(start, start + 500).map((r) => r.close()))
  }
}

let handshakeClient: Receiver | undefined

export const crowdHandlers = {
  'crowd.open': (params: CrowdParams) => open(params),
  'crowd.check': (params: { crowd: string }) => check(params.crowd),
  'crowd.close': (params: { crowd: string }) => close(params.crowd),
  /** One client, connected until it is ready: a join POST (polling), the stream's welcome (SSE), the 101 and welcome (WebSocket, Socket.IO). */
  'handshake.open': async (params: { endpoint: Endpoint; room: string; start?: SocketIoStart }) => {
    const options = {
      endpoint: params.endpoint,
      room: params.room,
      name: 'handshake',
      drive: 'manual' as const,
      onMessage: () => {},
    }
    const client =
      params.endpoint.transport === 'socket.io'
        ? new SocketIoReceiver(options, params.start ?? 'websocket')
        : createReceiver(options)
    handshakeClient = client
    await client.ready
    if (client instanceof SocketIoReceiver && params.start === 'polling-then-upgrade') {
      // Measured until the connection has moved to the WebSocket.
      const engine = client.socket.io.engine
      if (engine.transport.name !== 'websocket')
        await new Promise<void>((resolve) => engine.once('upgrade', () => resolve()))
    }
    // A polling client's welcome came with its join; for a bare polling route "ready" is its first GET.
    return { ready: true, polling: client instanceof PollingReceiver }
  },
  'handshake.close': async () => {
    await handshakeClient?.close()
    handshakeClient = undefined
  },
}
