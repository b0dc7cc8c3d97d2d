// The contract every transport keeps: the same conversation, run against each.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { TRANSPORTS, type ChatMessage, type Notice } from '../../server/core/protocol.ts'
import { createClient, messagesIn, waitForText, type LabClient } from '../support/clients.ts'
import { startServer, type RunningServer } from '../support/server.ts'
import { until } from '../support/wait.ts'

let server: RunningServer
beforeAll(async () => {
  server = await startServer({ textMaxBytes: 100 })
})
afterAll(async () => {
  await server.close()
})

describe.each(TRANSPORTS)('the %s transport', (transport) => {
  const clients: LabClient[] = []
  const client = (name: string) => {
    const c = createClient(transport, server.url, name)
    clients.push(c)
    return c
  }
  const room = `contract-${transport.replace('.', '')}`
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()))
  })

  it('welcomes a client into a room with its epoch, latest seq and members', async () => {
    const ann = client('ann')
    const welcome = await ann.join(room)
    expect(welcome).toMatchObject({ type: 'welcome', name: 'ann', transport, room, recovered: true })
    expect(welcome.epoch).toMatch(/^[0-9a-f]{8}$/)
    expect(welcome.members.map((m) => m.name)).toContain('ann')
  })

  it('delivers every message to every member, the sender included, in seq order', async () => {
    const [ann, bob] = [client('ann2'), client('bob')]
    await ann.join(room)
    await bob.join(room)
    for (const text of ['one', 'two', 'three']) await ann.send(room, text)
    await waitForText(bob, room, 'three')
    await waitForText(ann, room, 'three')
    for (const c of [ann, bob]) {
      const got = messagesIn(c, room).map((m) => m.text)
      expect(got.slice(-3)).toEqual(['one', 'two', 'three'])
      const seqs = c.entries.filter((e) => e.room === room).map((e) => e.seq)
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b))
    }
    const three = messagesIn(bob, room).at(-1) as ChatMessage
    expect(three.from).toMatchObject({ name: 'ann2', transport })
  })

  it('carries sentAt and clientMsgId through, so receivers can measure latency', async () => {
    const ann = client('ann3')
    await ann.join(room)
    const sentAt = performance.timeOrigin + performance.now()
    await ann.send(room, 'timed', { sentAt, clientMsgId: 'm-1' })
    const got = await waitForText(ann, room, 'timed')
    expect(got.sentAt).toBe(sentAt)
    expect(got.clientMsgId).toBe('m-1')
    expect(got.serverAt).toBeGreaterThan(0)
  })

  // A WebSocket send has no answer of its own: the sender finds its message by clientMsgId when it comes back.
  it.skipIf(transport === 'websocket')(
    'answers a send with its place in the log and the clientMsgId given, an empty one too',
    async () => {
      const ann = client('ann-acked')
      await ann.join(room)
      const named = await ann.send(room, 'named', { clientMsgId: 'm-2' })
      const empty = await ann.send(room, 'unnamed', { clientMsgId: '' })
      const none = await ann.send(room, 'bare')
      const got = await waitForText(ann, room, 'unnamed')
      expect(named).toMatchObject({ type: 'ack', room, clientMsgId: 'm-2' })
      expect(empty).toEqual({ type: 'ack', room, seq: got.seq, id: got.id, clientMsgId: '' })
      expect(none).toBeDefined()
      expect(none).not.toHaveProperty('clientMsgId')
    },
  )

  it('tells the room when a member joins and leaves', async () => {
    const [ann, bob] = [client('watcher'), client('visitor')]
    const quiet = `${room}-notices`
    await ann.join(quiet)
    await bob.join(quiet)
    await until(
      () => ann.entries.find((e) => e.type === 'notice' && e.event === 'join' && e.who.name === 'visitor'),
      'join notice',
    )
    await bob.leave(quiet)
    const left = (await until(
      () => ann.entries.find((e) => e.type === 'notice' && e.event === 'leave' && e.who.name === 'visitor'),
      'leave notice',
    )) as Notice
    expect(left.who.transport).toBe(transport)
  })

  it('resumes after seq N with exactly the entries it missed', async () => {
    const resumeRoom = `${room}-resume`
    const writer = client('writer')
    const first = await writer.join(resumeRoom)
    for (const text of ['r1', 'r2', 'r3', 'r4']) await writer.send(resumeRoom, text)
    await waitForText(writer, resumeRoom, 'r4')
    const r2 = messagesIn(writer, resumeRoom).find((m) => m.text === 'r2')!
    const reader = client('reader')
    const welcome = await reader.join(resumeRoom, { seq: r2.seq, epoch: first.epoch })
    expect(welcome.recovered).toBe(true)
    await waitForText(reader, resumeRoom, 'r4')
    expect(messagesIn(reader, resumeRoom).map((m) => m.text)).toEqual(['r3', 'r4'])
  })

  it('says the history is lost instead of pretending when the epoch is unknown', async () => {
    const reader = client('lost')
    const welcome = await reader.join(`${room}-resume`, { seq: 2, epoch: 'deadbeef' })
    expect(welcome.recovered).toBe(false)
    expect(reader.historyLost).toContain(`${room}-resume`)
  })

  describe('answers bad input with a stable code, publishes none of it and keeps serving', () => {
    // Every bad input names the room whose history is checked (the bad room name
    // is that room behind "../"), so a bad input that got published would show there.
    const badRoom = `${room}-bad`
    const badInputs: Array<[string, string, string]> = [
      [
        'bad JSON',
        `{"type": "send", "room": "${badRoom}", "text": "unterminated"`,
        transport === 'socket.io' ? 'LAB_ERR_BAD_MESSAGE' : 'LAB_ERR_BAD_JSON',
      ],
      ['an unknown type', JSON.stringify({ type: 'dance', room: badRoom, text: 'a dance' }), 'LAB_ERR_UNKNOWN_TYPE'],
      ['empty text', JSON.stringify({ type: 'send', room: badRoom, text: '   ' }), 'LAB_ERR_TEXT_EMPTY'],
      [
        'text over the limit',
        JSON.stringify({ type: 'send', room: badRoom, text: 'x'.repeat(101) }),
        'LAB_ERR_TEXT_TOO_LONG',
      ],
      [
        'a bad room name',
        JSON.stringify({ type: 'send', room: `../${badRoom}`, text: 'through a bad room name' }),
        'LAB_ERR_ROOM_NAME',
      ],
      ['a missing field', JSON.stringify({ type: 'send', room: badRoom }), 'LAB_ERR_BAD_MESSAGE'],
    ]
    // One sender and one listener for every case: the same connection keeps being served after each bad input.
    let sender: LabClient
    let other: LabClient
    beforeAll(async () => {
      ;[sender, other] = [client('sender'), client('other')]
      await sender.join(badRoom)
      await other.join(badRoom)
    })

    it.each(badInputs)('%s', async (label, raw, code) => {
      await sender.send(badRoom, `before ${label}`)
      await waitForText(other, badRoom, `before ${label}`)
      const before = (await fetch(`${server.url}/poll?room=${badRoom}`).then((r) => r.json())) as { seq: number }

      const error = await sender.sendRaw(raw)
      expect(error).toMatchObject({ type: 'error', code })
      expect(error.message.length).toBeGreaterThan(5)
      if (transport === 'short-polling' || transport === 'long-polling' || transport === 'sse') {
        expect(error.status).toBeGreaterThanOrEqual(400)
        expect(error.status).toBeLessThan(500)
      }

      const after = (await fetch(`${server.url}/poll?room=${badRoom}`).then((r) => r.json())) as { seq: number }
      expect(after.seq).toBe(before.seq)
      await sender.send(badRoom, `after ${label}`)
      await waitForText(other, badRoom, `after ${label}`)
      // Delivered in seq order: a published bad input would have arrived between the two.
      expect(
        messagesIn(other, badRoom)
          .map((m) => m.text)
          .slice(-2),
      ).toEqual([`before ${label}`, `after ${label}`])
    })
  })
})
