// What the three baselines share, and nothing more: they listen on 127.0.0.1,
// meter bytes with the server's own WireMeter (imported, unchanged) so that
// their bytes are counted exactly like Transport Lab's, and tell the runner
// where they listen. A client names its role in the URL (?role=send or
// ?role=receive) so that a single-transport baseline can still split the
// sender's bytes from the receivers'.
import type { Server } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { WireMeter, type WireRecorder } from '../../server/wire/meter.ts'
import { exposeMeter } from '../probe.ts'
import { emit } from '../ipc.ts'

export function setting(name: string, fallback: number): number {
  const raw = process.env[name]
  const value = raw === undefined || raw === '' ? fallback : Number(raw)
  if (!Number.isFinite(value)) throw new Error(`${name}=${raw} is not a number`)
  return value
}

/** A WireMeter whose tallies are `transport` or `transport:role`, the transport found by path. */
export function meterByRole(transportOf: (path: string) => string | undefined): WireMeter {
  const meter = new WireMeter((url) => {
    const [path = '/', query = ''] = url.split('?')
    const transport = transportOf(path)
    if (!transport) return 'other'
    const role = new URLSearchParams(query).get('role')
    return role === 'send' || role === 'receive' ? `${transport}:${role}` : transport
  })
  exposeMeter(meter)
  return meter
}

/**
 * The recorder of the tally a connection belongs to (its transport and role),
 * for a baseline to fetch once per connection or request and keep: the hot
 * path then counts payload with a plain call, as Transport Lab's transports
 * do. Connections of one tally share one recorder.
 */
export function recorders(meter: WireMeter): (socket: Socket) => WireRecorder {
  const byTally = new Map<string, WireRecorder>()
  return (socket) => {
    const tally = meter.transportOf(socket)
    let recorder = byTally.get(tally)
    if (!recorder) byTally.set(tally, (recorder = meter.recorder(tally)))
    return recorder
  }
}

export async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(setting('PORT', 0), '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  emit('ready', { url })
  process.stdout.write(`baseline listening at ${url}\n`)
  return url
}

/** The fields of a send that a bare server copies into the message it relays. */
export interface BareSend {
  type?: unknown
  room?: unknown
  text?: unknown
  sentAt?: unknown
  clientMsgId?: unknown
}

export interface BareMessage {
  type: 'message'
  room: string
  seq: number
  text: string
  sentAt?: number
  clientMsgId?: string
  serverAt: number
}

/**
 * The least a chat server does with a send: check it, number it, stamp it.
 * The caller has told a send from anything else: by its `type` (a WebSocket
 * frame, a POST body) or by its event (Socket.IO's `send`).
 */
export function toMessage(body: BareSend, seq: number): BareMessage | undefined {
  if (typeof body.room !== 'string' || typeof body.text !== 'string') return undefined
  const message: BareMessage = { type: 'message', room: body.room, seq, text: body.text, serverAt: Date.now() }
  if (typeof body.sentAt === 'number') message.sentAt = body.sentAt
  if (typeof body.clientMsgId === 'string') message.clientMsgId = body.clientMsgId
  return message
}
