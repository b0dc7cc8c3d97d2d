// Scenario 1, wire cost: bytes on the wire per delivered message, split into
// payload and overhead, for each text size; the bytes of each handshake; and
// the classic projection (Mbit/s for 1,000 / 10,000 / 100,000 clients each
// receiving one message per second) computed from the measured bytes.
//
// All bytes come from the server's wire meter (socket bytesRead/bytesWritten),
// read before and after a lockstep pass: one message at a time, each delivered
// before the next, so a polling receiver makes exactly one poll per message.
// The two legs of a delivery are told apart:
//   Transport Lab  two passes per transport T: T sends while the receiver is on
//                  another transport (T's tally = the send leg), then T receives
//                  while the sender is on another transport (= the receive leg);
//   baselines      one pass; clients say ?role=send or ?role=receive and the
//                  baseline's meter keeps a tally per role.
// Heartbeats are not in these figures (the windows are far shorter than any
// heartbeat interval); the idle scenario counts them.
import type { TransportName } from '../../server/core/protocol.ts'
import type { WireSnapshot } from '../../server/wire/meter.ts'
import type { Context } from '../context.ts'
import type { OpenParams, StopResult } from '../clients/delivery.ts'
import { perMessage, projectMbps, PROJECTION_CLIENTS, tallyDelta, tallyOf, type LegBytes } from '../metrics.ts'
import type { HandshakeRow, ProjectionRow, WireRow } from '../schema.ts'
import { isLab, type Subject } from '../subjects.ts'
import type { RunningTarget } from '../targets.ts'

const LOCKSTEP_TIMEOUT_MS = 5000

/** Transport Lab: who receives while T is measured sending, and who sends while T is measured receiving. */
const helperReceiver = (t: TransportName): TransportName => (t === 'websocket' ? 'sse' : 'websocket')
/** An HTTP POST, because its 200 comes after the message is published: the next poll is sure to find it. */
const helperSender = (t: TransportName): TransportName => (t === 'short-polling' ? 'long-polling' : 'short-polling')

interface Pass {
  before: WireSnapshot
  after: WireSnapshot
  delivered: number
  stop: StopResult
}

async function lockstepPass(ctx: Context, target: RunningTarget, params: OpenParams): Promise<Pass> {
  const load = ctx.load.caller
  await load.call('delivery.open', params)
  try {
    const before = await target.wire()
    const delivered = await load.call<number>(
      'delivery.lockstep',
      { count: ctx.options.wireMessages, timeoutMs: LOCKSTEP_TIMEOUT_MS },
      120_000,
    )
    const after = await target.wire()
    const stop = await load.call<StopResult>('delivery.stop', { drainMs: 2000 })
    ctx.account('wire', stop.accounting)
    return { before, after, delivered, stop }
  } catch (error) {
    await load.call('delivery.stop', { drainMs: 0 }).catch(() => {})
    throw error
  }
}

function leg(pass: Pass, tally: string): LegBytes {
  return perMessage(tallyDelta(tallyOf(pass.before, tally), tallyOf(pass.after, tally)), Math.max(1, pass.delivered))
}

async function measureWire(ctx: Context, subject: Subject, textBytes: number): Promise<WireRow> {
  const target = await ctx.target(subject.target)
  const endpoint = ctx.endpoint(subject, target)
  const base = { room: ctx.tag('w'), receivers: 1, textBytes, connections: 1 }
  let send: LegBytes
  let receive: LegBytes
  let delivered: number
  if (isLab(subject)) {
    const sendPass = await lockstepPass(ctx, target, {
      ...base,
      prefix: `${ctx.tag('ws')}-`,
      endpoint: ctx.endpoint({ target: 'lab', transport: helperReceiver(subject.transport) }, target),
      senderEndpoint: endpoint,
    })
    const receivePass = await lockstepPass(ctx, target, {
      ...base,
      room: ctx.tag('w'),
      prefix: `${ctx.tag('wr')}-`,
      endpoint,
      senderEndpoint: ctx.endpoint({ target: 'lab', transport: helperSender(subject.transport) }, target),
      drive: subject.transport === 'short-polling' ? 'manual' : 'auto',
    })
    send = leg(sendPass, subject.transport)
    receive = leg(receivePass, subject.transport)
    delivered = Math.min(sendPass.delivered, receivePass.delivered)
  } else {
    const pass = await lockstepPass(ctx, target, {
      ...base,
      prefix: `${ctx.tag('wb')}-`,
      endpoint,
      drive: subject.transport === 'short-polling' ? 'manual' : 'auto',
    })
    send = leg(pass, `${subject.transport}:send`)
    receive = leg(pass, `${subject.transport}:receive`)
    delivered = pass.delivered
  }
  if (delivered < ctx.options.wireMessages)
    ctx.note(
      `wire: ${subject.id} delivered ${delivered} of ${ctx.options.wireMessages} lockstep messages ` +
        `at ${textBytes} B; its bytes are divided by ${Math.max(1, delivered)}.`,
    )
  return {
    ...ctx.row(subject),
    textBytes,
    messages: delivered,
    send,
    receive,
    receiveBytesPerMessage: receive.in.bytes + receive.out.bytes,
    method: isLab(subject) ? 'two-pass' : 'role-tallies',
  }
}

function headerLines(
  side: { startLine: string; headers: Array<[string, string]> } | null | undefined,
): string[] | null {
  return side ? [side.startLine, ...side.headers.map(([k, v]) => `${k}: ${v}`)] : null
}

async function measureHandshake(
  ctx: Context,
  subject: Subject,
  start?: 'websocket' | 'polling-then-upgrade',
): Promise<HandshakeRow> {
  const target = await ctx.target(subject.target)
  const tally = isLab(subject) ? subject.transport : `${subject.transport}:receive`
  const before = await target.wire()
  try {
    await ctx.load.caller.call(
      'handshake.open',
      { endpoint: ctx.endpoint(subject, target), room: ctx.tag('h'), start },
      30_000,
    )
    const after = await target.wire()
    const handshake = (await target.handshakes())[tally]
    const d = tallyDelta(tallyOf(before, tally), tallyOf(after, tally))
    const payload = d.payloadIn + d.payloadOut
    return {
      ...ctx.row(subject),
      variant: handshakeVariant(subject.transport, isLab(subject), start),
      bytesIn: d.bytesIn,
      bytesOut: d.bytesOut,
      payloadBytes: payload,
      overheadBytes: d.bytesIn + d.bytesOut - payload,
      httpRequests: d.httpRequests,
      request: headerLines(handshake?.request),
      response: headerLines(handshake?.response),
    }
  } finally {
    await ctx.load.caller.call('handshake.close')
  }
}

function handshakeVariant(transport: TransportName, lab: boolean, start?: string): string {
  switch (transport) {
    case 'short-polling':
    case 'long-polling':
      return 'join POST, answered with the welcome'
    case 'sse':
      return 'GET /sse until the welcome event'
    case 'websocket':
      return lab ? 'upgrade (101) and the welcome frame' : 'upgrade (101)'
    case 'socket.io': {
      const how =
        start === 'polling-then-upgrade'
          ? 'Engine.IO polling, then upgrade (the client default)'
          : "WebSocket only (transports: ['websocket'])"
      return `${how}: 101, Engine.IO open, Socket.IO connect${lab ? ', welcome' : ''}`
    }
  }
}

export async function runWire(ctx: Context) {
  const rows: WireRow[] = []
  const handshakes: HandshakeRow[] = []
  // Handshakes for Transport Lab's transports and the two push baselines; a bare HTTP route has no connect step of its own.
  const handshakeSubjects = ctx.subjects.filter(
    (s) => isLab(s) || s.target === 'bare-ws' || s.target === 'bare-socket.io',
  )
  const steps = ctx.subjects.length * ctx.options.textBytes.length + handshakeSubjects.length
  const bar = ctx.progress.scenario('wire', steps)
  for (const subject of ctx.subjects) {
    for (const textBytes of ctx.options.textBytes) {
      rows.push(await measureWire(ctx, subject, textBytes))
      bar.tick(`${subject.id} ${textBytes} B`)
    }
  }
  for (const subject of handshakeSubjects) {
    handshakes.push(await measureHandshake(ctx, subject))
    if (subject.transport === 'socket.io') handshakes.push(await measureHandshake(ctx, subject, 'polling-then-upgrade'))
    bar.tick(`${subject.id} handshake`)
  }
  bar.done()
  return { rows, handshakes, projection: projection(rows) }
}

export function projection(rows: WireRow[]): ProjectionRow[] {
  return rows.map((row) => ({
    subject: row.subject,
    target: row.target,
    transport: row.transport,
    label: row.label,
    textBytes: row.textBytes,
    bytesPerMessage: row.receiveBytesPerMessage,
    mbps: PROJECTION_CLIENTS.map((clients) => ({ clients, mbps: projectMbps(clients, row.receiveBytesPerMessage) })),
  }))
}
