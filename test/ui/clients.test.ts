// The workbench's ChatClient classes, one per transport, against the real
// server. Node lacks the browser's EventSource and WebSocket, so the test
// lends it spec-following ones (the eventsource package and ws).
import { EventSource } from 'eventsource'
import WebSocket from 'ws'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { TRANSPORTS, type ChatMessage, type ErrorMessage } from '../../server/core/protocol.ts'
import { createChatClient, type ChatClient } from '../../ui/src/clients/index.ts'
import type { ConnectionState, Received } from '../../ui/src/clients/chat-client.ts'
import { describeEnginePacket } from '../../ui/src/clients/engine-io.ts'
import { startServer, type RunningServer } from '../support/server.ts'
import { until } from '../support/wait.ts'

Object.assign(globalThis, { EventSource, WebSocket })

let server: RunningServer
beforeAll(async () => {
  server = await startServer()
})
afterAll(async () => {
  await server.close()
})

interface Watched {
  client: ChatClient
  received: Received[]
  states: ConnectionState[]
  errors: ErrorMessage[]
  lost: number
}

function watch(client: ChatClient): Watched {
  const w: Watched = { client, received: [], states: [], errors: [], lost: 0 }
  client.on('entry', ({ detail }) => w.received.push(detail))
  client.on('state', ({ detail }) => w.states.push(detail))
  client.on('error', ({ detail }) => w.errors.push(detail))
  client.on('history-lost', () => { w.lost++ })
  return w
}

const texts = (w: Watched) => w.received.filter((r) => r.entry.type === 'message').map((r) => (r.entry as ChatMessage).text)

describe.each(TRANSPORTS)('the %s ChatClient', (transport) => {
  const room = `ui-${transport.replace('.', '')}`
  const make = (name: string, overrides: Partial<{ pollIntervalMs: number }> = {}) =>
    watch(createChatClient(transport, { baseUrl: server.url, name, room, pollIntervalMs: 30, longPollTimeoutMs: 5000, ...overrides }))

  it('connects, is welcomed into its room and reports open', async () => {
    const w = make('opener')
    w.client.start()
    await until(() => w.client.state === 'open' || undefined, 'open')
    expect(w.client.welcome).toMatchObject({ room, name: 'opener', transport })
    expect(w.states).toEqual(['connecting', 'open'])
    await w.client.stop()
    expect(w.client.state).toBe('closed')
  })

  it('receives its own message with the sentAt it stamped, so the page can measure latency', async () => {
    const w = make('stamper')
    w.client.start()
    await until(() => w.client.state === 'open' || undefined, 'open')
    await w.client.send('stamped', { sentAt: 1234.5, clientMsgId: 'id-1' })
    const got = await until(() => w.received.find((r) => r.entry.type === 'message' && r.entry.text === 'stamped'), 'its message')
    expect(got.entry).toMatchObject({ sentAt: 1234.5, clientMsgId: 'id-1' })
    expect(got.backfilled).toBe(false)
    expect(w.client.stats.messages).toBeGreaterThan(0)
    expect(w.client.frames.some((f) => f.dir === 'down' && f.content.includes('stamped'))).toBe(true)
    await w.client.stop()
  })

  it('after a dropped connection, resumes and fills in exactly what it missed', async () => {
    const [w, other] = [make('dropper'), make('talker')]
    w.client.start()
    other.client.start()
    await until(() => (w.client.state === 'open' && other.client.state === 'open') || undefined, 'both open')
    await other.client.send('before the drop')
    await until(() => texts(w).includes('before the drop') || undefined, 'the first message')
    w.client.drop(300)
    await until(() => w.client.state === 'reconnecting' || undefined, 'reconnecting')
    await other.client.send('missed 1')
    await other.client.send('missed 2')
    await until(() => w.client.state === 'open' || undefined, 'open again')
    await until(() => texts(w).includes('missed 2') || undefined, 'the missed messages')
    expect(texts(w)).toEqual(['before the drop', 'missed 1', 'missed 2'])
    const missed = w.received.filter((r) => r.entry.type === 'message' && r.entry.text.startsWith('missed'))
    expect(missed.every((r) => r.backfilled)).toBe(true)
    expect(w.lost).toBe(0)
    await w.client.stop()
    await other.client.stop()
  })

  it('says the history is lost when it resumes into an epoch the server does not know', async () => {
    const w = make('amnesiac')
    w.client.start()
    await until(() => w.client.state === 'open' || undefined, 'open')
    w.client.cursor = { seq: 3, epoch: 'deadbeef' }
    w.client.drop(50)
    await until(() => w.lost > 0 || undefined, 'history lost')
    await until(() => w.client.state === 'open' || undefined, 'open again')
    await w.client.stop()
  })

  it('moves to another room', async () => {
    const w = make('mover')
    w.client.start()
    await until(() => w.client.state === 'open' || undefined, 'open')
    await w.client.switchRoom(`${room}-b`)
    await until(() => (w.client.state === 'open' && w.client.welcome?.room === `${room}-b`) || undefined, 'welcome to the new room')
    await w.client.send('in b')
    const got = await until(() => w.received.find((r) => r.entry.type === 'message' && r.entry.text === 'in b'), 'message in b')
    expect(got.entry.room).toBe(`${room}-b`)
    await w.client.stop()
  })

  it('reports the server\'s error for bad input and stays open', async () => {
    const w = make('clumsy')
    w.client.start()
    await until(() => w.client.state === 'open' || undefined, 'open')
    await w.client.send('   ')
    const error = await until(() => w.errors[0], 'an error')
    expect(error.code).toBe('LAB_ERR_TEXT_EMPTY')
    expect(w.client.state).toBe('open')
    await w.client.stop()
  })
})

describe('describeEnginePacket', () => {
  it('names an Engine.IO message carrying a Socket.IO event', () => {
    expect(describeEnginePacket('message', '2["message",{"text":"hi"}]')).toEqual({ kind: 'EIO 4 message · SIO 2 EVENT "message"', wire: '42["message",{"text":"hi"}]' })
  })
  it('names pings and acks', () => {
    expect(describeEnginePacket('ping', undefined)).toEqual({ kind: 'EIO 2 ping', wire: '2' })
    expect(describeEnginePacket('message', '31[{"ok":true}]').kind).toBe('EIO 4 message · SIO 3 ACK')
  })
})
