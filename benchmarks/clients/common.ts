// The shape every load client has, whatever its transport: a receiver reports
// each chat message it gets (by clientMsgId, with the sender's sentAt) and a
// sender puts one message on the wire. The benchmark's own ids carry the
// message's index after the last '-', so receivers can count without lookups.
import type { Endpoint } from '../subjects.ts'

export interface SendBody {
  room: string
  text: string
  sentAt: number
  clientMsgId: string
}

export type Role = 'send' | 'receive'

export interface ReceiverOptions {
  endpoint: Endpoint
  room: string
  name: string
  role?: Role
  /** Behind the cluster's balancer: the `?sticky=` value nginx hashes to pick this connection's instance (WebSocket only). */
  sticky?: string
  onMessage: (clientMsgId: string, sentAt: number | undefined) => void
  /**
   * Once per delivery, whatever it carried: a polling response (its entries),
   * an SSE event, a WebSocket frame or a Socket.IO packet (one entry each).
   * For scenarios that count what each delivery carried (ticker).
   */
  onDelivery?(entries: unknown[]): void
  /**
   * Once per presence delivery: a join or leave `notice`, or a coalesced `presence` entry (a batch of joins and
   * leaves), whichever the server sends (joins).
   */
  onPresence?(entry: unknown): void
  /**
   * Polling: 'auto' polls on its own (short polling at the interval from a random phase, long polling again at
   * once); 'manual' only when pollOnce() is called.
   */
  drive?: 'auto' | 'manual'
}

export interface Receiver {
  /** Resolves once the server has the receiver in its room. */
  readonly ready: Promise<void>
  /** Times the server answered recovered: false (the history no longer held what the receiver had not seen). */
  historyLost: number
  /** Why the receiver stopped before it was closed, if it did. */
  failure: string | undefined
  /** Requests that failed and were retried (polling). */
  errors: number
  /** Streams the server ended that the receiver opened again (SSE renewals), like a browser's EventSource. */
  reconnects: number
  /** Of those, how many came back as another member (another clientId in the welcome) instead of the same one. */
  rejoinedAsNew: number
  /** Short polling in manual mode: one poll, now. */
  pollOnce?(): Promise<void>
  /** Long polling: resolves once the next poll is on the wire (so a byte count after it includes it). */
  pollPending?(): Promise<void>
  close(): Promise<void>
}

/** What every receiver keeps about how it is doing, for the ledger's reasons. */
export abstract class ReceiverBase {
  historyLost = 0
  failure: string | undefined
  errors = 0
  reconnects = 0
  rejoinedAsNew = 0
}

export interface SenderOptions {
  endpoint: Endpoint
  /** The sender's own room: push senders join it so that they do not receive what they send. */
  ownRoom: string
  name: string
  role?: Role
  /** Behind the cluster's balancer: the `?sticky=` value (WebSocket only), as for a receiver. */
  sticky?: string
  /** HTTP senders: how many requests may be in flight at once (one keep-alive connection each). */
  connections?: number
}

export interface Sender {
  readonly ready: Promise<void>
  /** Resolves when the server accepted the message (HTTP: its 200; push: written to the socket). */
  send(body: SendBody): Promise<void>
  close(): Promise<void>
}

export function messageIndex(clientMsgId: string, prefix: string): number {
  if (!clientMsgId.startsWith(prefix)) return -1
  const index = Number(clientMsgId.slice(prefix.length))
  return Number.isInteger(index) && index >= 0 ? index : -1
}

export function withQuery(url: string, query: Record<string, string | number | undefined>): string {
  const params = new URLSearchParams()
  for (const [key, value] of Object.entries(query)) if (value !== undefined) params.set(key, String(value))
  return `${url}${url.includes('?') ? '&' : '?'}${params}`
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/** A received object that is a chat message: the Lab's `message` or a baseline's, same fields. */
export function readMessage(value: unknown, onMessage: ReceiverOptions['onMessage']): void {
  const m = value as { type?: unknown; clientMsgId?: unknown; sentAt?: unknown } | null
  if (m?.type !== 'message' || typeof m.clientMsgId !== 'string') return
  onMessage(m.clientMsgId, typeof m.sentAt === 'number' ? m.sentAt : undefined)
}

/** A delivered entry that tells of members joining or leaving: a `notice`, or a coalesced `presence` entry. */
export function isPresence(value: unknown): boolean {
  const type = (value as { type?: unknown } | null)?.type
  return type === 'notice' || type === 'presence'
}
