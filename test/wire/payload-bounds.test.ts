// Payload is part of what crossed the socket, so 0 <= payload <= bytes must
// hold for every transport and direction at every moment. Counting a delivery
// as payload when it is handed to a library, rather than when it reaches the
// socket, breaks it: a Socket.IO polling client that stops polling has its
// packets buffered, never sent, and a client that is gone has them dropped.
import { afterEach, describe, expect, it } from 'vitest'
import { TRANSPORTS, type TransportName } from '../../server/core/names.ts'
import type { WireSnapshot } from '../../server/wire/types.ts'
import { createClient, type LabClient } from '../support/clients.ts'
import { startServer, type RunningServer } from '../support/server.ts'
import { until } from '../support/wait.ts'

let server: RunningServer
afterEach(async () => {
  await server?.close()
})

/** Every (transport, direction) where payload is negative or more than the bytes, in one snapshot. */
function outOfBounds(snapshot: WireSnapshot): string[] {
  const wrong: string[] = []
  for (const [transport, t] of Object.entries(snapshot.transports)) {
    if (t.payloadIn < 0 || t.payloadIn > t.bytesIn)
      wrong.push(`${transport} in: payload ${t.payloadIn} > bytes ${t.bytesIn}`)
    if (t.payloadOut < 0 || t.payloadOut > t.bytesOut)
      wrong.push(`${transport} out: payload ${t.payloadOut} > bytes ${t.bytesOut}`)
  }
  return wrong
}

/** An Engine.IO polling session that connects to the Socket.IO namespace, joins, and then never polls again. */
async function stalledPoller(url: string, room: string): Promise<void> {
  const open = await (await fetch(`${url}/socket.io/?EIO=4&transport=polling`)).text()
  const { sid } = JSON.parse(open.slice(1)) as { sid: string }
  const base = `${url}/socket.io/?EIO=4&transport=polling&sid=${sid}`
  const connect = `40${JSON.stringify({ protocol: 'lab', name: 'stalled', room })}`
  const posted = await fetch(base, { method: 'POST', body: connect })
  expect(posted.status).toBe(200)
  // One poll takes the CONNECT answer and the welcome; after it, this client never asks again.
  let got = ''
  while (!got.includes('"welcome"')) got += await (await fetch(base)).text()
}

describe('the wire meter keeps payload within the bytes on the wire', () => {
  it('does not count what Socket.IO buffers for a polling client that stopped polling', async () => {
    server = await startServer({ messageRate: 0 })
    for (let i = 0; i < 3; i++) await stalledPoller(server.url, 'stalled')
    const sender = createClient('websocket', server.url, 'sender')
    await sender.join('stalled')
    for (let i = 0; i < 20; i++) await sender.send('stalled', `never polled for ${i} `.padEnd(2000, '.'))
    // Every message logged (3 + 1 join notices, 20 messages) and so handed to every member's pipe.
    await until(() => server.app.hub.roomSummaries().find((r) => r.room === 'stalled')?.seq === 24, 'all sent')
    const wrong = outOfBounds(server.app.wire.snapshot())
    await sender.close()
    expect(wrong).toEqual([])
  })

  it('holds at every moment while clients of every transport join, send, leave, drop and upgrade', async () => {
    server = await startServer({ messageRate: 0, maxClientsPerAddress: 1000 })
    const wrong = new Set<string>()
    const sample = setInterval(() => {
      for (const line of outOfBounds(server.app.wire.snapshot())) wrong.add(line)
    }, 2)
    // A fixed, seeded order of operations: the same churn on every run.
    let seed = 7
    const next = (n: number) => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n
    const live: Array<{ client: LabClient; room: string }> = []
    try {
      for (let step = 0; step < 160; step++) {
        const op = live.length < 4 ? 0 : next(5)
        if (op === 0 || op === 1) {
          const transport: TransportName = TRANSPORTS[next(TRANSPORTS.length)]!
          const room = `churn${next(3)}`
          const client = createClient(transport, server.url, `c${step}`)
          await client.join(room)
          live.push({ client, room })
        } else if (op === 2) {
          const { client, room } = live[next(live.length)]!
          await client.send(room, `step ${step} `.padEnd(50 + next(3000), 'x'))
        } else if (op === 3) {
          const { client, room } = live.splice(next(live.length), 1)[0]!
          await client.leave(room)
          await client.close()
        } else {
          // Dropped without a goodbye: whatever is in flight to it never arrives.
          const { client } = live.splice(next(live.length), 1)[0]!
          void client.close()
        }
      }
      for (const { client } of live.splice(0)) await client.close()
      await until(
        () => server.app.wire.snapshot().total.connectionsOpen === 0 || undefined,
        'every client gone',
        15_000,
      )
    } finally {
      clearInterval(sample)
      for (const { client } of live) void client.close()
    }
    for (const line of outOfBounds(server.app.wire.snapshot())) wrong.add(line)
    expect([...wrong]).toEqual([])
  }, 60_000)
})
