// A crowd joining one room over the three push transports, on a server whose
// presence budget is small enough for a few dozen clients to pass it: every
// client ends up knowing exactly who is in the room, from notices and presence
// entries, and the room paid far fewer deliveries than one notice per join to
// every member. What a real storm costs is measured by `npm run bench`
// (the joins scenario).
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { TransportName } from '../../server/core/protocol.ts'
import { createClient, rosterOf, type LabClient } from '../support/clients.ts'
import { startServer, type RunningServer } from '../support/server.ts'
import { until } from '../support/wait.ts'

const PUSH: TransportName[] = ['sse', 'websocket', 'socket.io']
const PER_TRANSPORT = 20
const ROOM = 'crowd'

let server: RunningServer
const clients: LabClient[] = []
beforeAll(async () => {
  server = await startServer({ presenceRate: 100, maxClientsPerAddress: 0 })
})
afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()))
  await server.close()
})

const presenceDeliveries = (of: LabClient[]) =>
  of.reduce((n, c) => n + c.entries.filter((e) => e.type === 'notice' || e.type === 'presence').length, 0)

describe('a crowd joining one room', () => {
  it('leaves every member knowing all the others, with presence entries instead of one notice per join', async () => {
    for (let i = 0; i < PER_TRANSPORT; i++) {
      const wave = PUSH.map((t) => createClient(t, server.url, `${t}-${i}`))
      clients.push(...wave)
      await Promise.all(wave.map((c) => c.join(ROOM)))
    }
    const everyone = clients.map((c) => c.name).sort()
    expect(
      server.app.hub
        .presence(ROOM)
        .map((m) => m.name)
        .sort(),
    ).toEqual(everyone)
    for (const client of clients)
      await until(
        () => rosterOf(client, ROOM).size === everyone.length,
        `${client.name} to know all ${everyone.length}`,
      )
    for (const client of clients) expect([...rosterOf(client, ROOM)].sort()).toEqual(everyone)
    expect(clients.some((c) => c.entries.some((e) => e.type === 'presence'))).toBe(true)
    // One notice per join to every member already there would be 60 * 59 / 2.
    expect(presenceDeliveries(clients)).toBeLessThan((everyone.length * (everyone.length - 1)) / 2)
  })

  it('leaves the ones who stay knowing exactly who left, when half the crowd goes at once', async () => {
    const leaving = clients.filter((_, i) => i % 2 === 0)
    const staying = clients.filter((_, i) => i % 2 === 1)
    await Promise.all(leaving.map((c) => c.close()))
    const names = staying.map((c) => c.name).sort()
    await until(() => server.app.hub.presence(ROOM).length === staying.length, 'the server to count the stayers')
    for (const client of staying)
      await until(() => rosterOf(client, ROOM).size === staying.length, `${client.name} to hear of every leave`)
    for (const client of staying) expect([...rosterOf(client, ROOM)].sort()).toEqual(names)
  })
})
