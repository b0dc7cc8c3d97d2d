// The bare baselines, each started as the bench starts it (its own process,
// read over IPC), with real clients that name their role (?role=send or
// ?role=receive): every tally counts exactly the payload its clients sent and
// were sent, each delivery once, and never more payload than bytes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { io, type Socket } from 'socket.io-client'
import { WebSocket } from 'ws'
import { startTarget, type RunningTarget } from '../../benchmarks/targets.ts'
import type { WireSnapshot, WireTally } from '../../server/wire/meter.ts'

const START_TIMEOUT_MS = 60_000

function tally(snapshot: WireSnapshot, name: string): WireTally {
  const found = snapshot.transports[name]
  if (!found) throw new Error(`no tally ${name} in ${Object.keys(snapshot.transports).join(', ')}`)
  return found
}

function expectPayloadWithinBytes(snapshot: WireSnapshot): void {
  for (const [name, t] of Object.entries(snapshot.transports)) {
    expect(t.payloadIn, `${name} payload in`).toBeLessThanOrEqual(t.bytesIn)
    expect(t.payloadOut, `${name} payload out`).toBeLessThanOrEqual(t.bytesOut)
  }
}

const bytes = (json: string) => Buffer.byteLength(json)
const sendBody = (room: string, id: string) => ({ room, text: `héllo ${id}`, sentAt: 1.5, clientMsgId: id })

function started(name: 'bare-ws' | 'bare-socket.io' | 'bare-fastify', settings: Record<string, string> = {}) {
  const holder: { target?: RunningTarget } = {}
  beforeAll(async () => {
    holder.target = await startTarget(name, settings, START_TIMEOUT_MS)
  }, START_TIMEOUT_MS + 5000)
  afterAll(async () => {
    await holder.target?.stop()
  })
  return () => holder.target!
}

describe('bare ws', () => {
  const target = started('bare-ws')

  it('counts a send frame once on the sender’s tally and each delivery once on the receivers’', async () => {
    const url = (room: string, role: string) => `${target().url.replace('http', 'ws')}/ws?room=${room}&role=${role}`
    const open = async (ws: WebSocket) =>
      new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject))
    const receivers = [new WebSocket(url('fan', 'receive')), new WebSocket(url('fan', 'receive'))]
    const sender = new WebSocket(url('own', 'send'))
    try {
      await Promise.all([...receivers, sender].map(open))
      const frames = receivers.map(
        (ws) => new Promise<Buffer>((resolve) => ws.once('message', (d) => resolve(d as Buffer))),
      )
      const frame = JSON.stringify({ type: 'send', ...sendBody('fan', 'w1') })
      sender.send(frame)
      const delivered = await Promise.all(frames)
      const snapshot = await target().wire()

      const send = tally(snapshot, 'websocket:send')
      expect([send.payloadIn, send.messagesIn, send.payloadOut]).toEqual([bytes(frame), 1, 0])
      const receive = tally(snapshot, 'websocket:receive')
      expect(delivered[0]!.toString()).toBe(delivered[1]!.toString())
      expect([receive.payloadOut, receive.messagesOut, receive.payloadIn]).toEqual([2 * delivered[0]!.byteLength, 2, 0])
      expectPayloadWithinBytes(snapshot)
    } finally {
      for (const ws of [...receivers, sender]) ws.terminate()
    }
  })
})

describe('bare Socket.IO', () => {
  const target = started('bare-socket.io')

  it('counts a send’s arguments on the sender’s tally and each flushed delivery on the receivers’, on a WebSocket and on polling', async () => {
    const connect = (room: string, role: string, websocketOnly: boolean) =>
      io(target().url, {
        forceNew: true,
        reconnection: false,
        ...(websocketOnly ? { transports: ['websocket'] } : {}),
        query: { role },
        auth: { room },
      })
    const connected = (socket: Socket) =>
      new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('connect_error', reject))
    // One receiver on a WebSocket from the start, one on the client's default start (polling, then the upgrade).
    const receivers = [connect('fan', 'receive', true), connect('fan', 'receive', false)]
    const sender = connect('own', 'send', true)
    try {
      await Promise.all([...receivers, sender].map(connected))
      const messages = receivers.map((s) => new Promise<unknown>((resolve) => s.once('message', resolve)))
      const body = sendBody('fan', 's1')
      sender.emit('send', body)
      const delivered = await Promise.all(messages)
      const snapshot = await target().wire()

      const send = tally(snapshot, 'socket.io:send')
      expect([send.payloadIn, send.messagesIn, send.payloadOut]).toEqual([bytes(JSON.stringify(body)), 1, 0])
      const receive = tally(snapshot, 'socket.io:receive')
      const json = JSON.stringify(delivered[0])
      expect(JSON.stringify(delivered[1])).toBe(json)
      expect([receive.payloadOut, receive.messagesOut, receive.payloadIn]).toEqual([2 * bytes(json), 2, 0])
      expectPayloadWithinBytes(snapshot)
    } finally {
      for (const socket of [...receivers, sender]) socket.disconnect()
    }
  })
})

describe('bare Fastify', () => {
  const target = started('bare-fastify')

  it('counts a POST and its ack on the sender’s tally, a poll’s entries and each SSE event on the receivers’', async () => {
    const base = target().url
    const abort = new AbortController()
    try {
      const stream = await fetch(`${base}/sse?room=fan&role=receive`, { signal: abort.signal })
      const reader = stream.body!.getReader()
      const firstEvent = (async () => {
        let text = ''
        for (;;) {
          const { value, done } = await reader.read()
          if (done) throw new Error('the stream ended before an event')
          text += Buffer.from(value).toString()
          const data = /\ndata: (.*)\n\n/.exec(text)
          if (data) return data[1]!
        }
      })()
      await expect.poll(async () => (await target().wire()).transports['sse:receive']?.requestsHeld).toBe(1)

      const body = JSON.stringify({ type: 'send', ...sendBody('fan', 'f1') })
      const posted = await fetch(`${base}/poll?role=send`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      })
      const ack = await posted.text()
      const event = await firstEvent
      const poll = (await (await fetch(`${base}/poll?room=fan&since=0&role=receive`)).json()) as { entries: unknown[] }
      const snapshot = await target().wire()

      const send = tally(snapshot, 'short-polling:send')
      expect([send.payloadIn, send.payloadOut, send.messagesOut]).toEqual([bytes(body), bytes(ack), 1])
      expect(poll.entries.map((e) => JSON.stringify(e))).toEqual([event])
      const polled = tally(snapshot, 'short-polling:receive')
      expect([polled.payloadOut, polled.messagesOut, polled.payloadIn]).toEqual([bytes(event), 1, 0])
      const streamed = tally(snapshot, 'sse:receive')
      expect([streamed.payloadOut, streamed.messagesOut, streamed.payloadIn]).toEqual([bytes(event), 1, 0])
      expectPayloadWithinBytes(snapshot)
    } finally {
      abort.abort()
    }
  })
})

describe('bare Fastify with HISTORY_LIMIT 3', () => {
  const target = started('bare-fastify', { HISTORY_LIMIT: '3' })

  it('keeps the last three messages of a room, in order, whatever was sent before them', async () => {
    const base = target().url
    for (let i = 1; i <= 5; i++) {
      const posted = await fetch(`${base}/long-poll?role=send`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ type: 'send', ...sendBody('kept', `k${i}`) }),
      })
      expect(posted.status).toBe(200)
    }
    type Batch = { seq: number; recovered: boolean; entries: Array<{ seq: number; clientMsgId: string }> }
    const poll = async (since: number) =>
      (await (await fetch(`${base}/poll?room=kept&since=${since}&role=receive`)).json()) as Batch
    const fromStart = await poll(0)
    expect([fromStart.seq, fromStart.recovered]).toEqual([5, false])
    expect(fromStart.entries.map((e) => [e.seq, e.clientMsgId])).toEqual([
      [3, 'k3'],
      [4, 'k4'],
      [5, 'k5'],
    ])
    const fromThree = await poll(3)
    expect([fromThree.recovered, fromThree.entries.map((e) => e.seq)]).toEqual([true, [4, 5]])
  })
})
