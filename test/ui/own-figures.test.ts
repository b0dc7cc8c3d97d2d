// The page's own figures against the real server: its WireStore reads
// /api/wire?connections=... as the page does (more often here, and with a
// shorter idle window, so that a test takes seconds instead of minutes), for
// a short-polling client that polls as the page's would.
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { WireStore } from '../../ui/src/state/wire-store.ts'
import { createClient, waitForText, type LabClient } from '../support/clients.ts'
import { startServer, type RunningServer } from '../support/server.ts'
import { until } from '../support/wait.ts'

let server: RunningServer
let store: WireStore | undefined
const clients: LabClient[] = []
beforeEach(async () => {
  server = await startServer({ messageRate: 0 })
})
afterEach(async () => {
  store?.stop()
  for (const client of clients.splice(0)) await client.close()
  await server.close()
})

/** A page's store following one short-polling client's connection, read every 100 ms. */
async function pollingPage(room: string, options: ConstructorParameters<typeof WireStore>[2]) {
  const poller = createClient('short-polling', server.url, 'page')
  clients.push(poller)
  const { connectionId } = await poller.join(room)
  store = new WireStore(server.url, () => ({ 'short-polling': connectionId }), options)
  store.start(100)
  return { poller, store }
}

/** Waits until the store has taken `count` more readings. */
async function readings(wire: WireStore, count: number): Promise<void> {
  const target = wire.samples.length + count
  await until(() => wire.samples.length >= target, `${count} more readings`)
}

describe("the page's own short-polling connection", () => {
  it('keeps the overhead share per message where it was while idle polls go on, and the share since load rises', async () => {
    const { poller, store: wire } = await pollingPage('own-share', { perMessageCount: 3 })
    const sender = createClient('websocket', server.url, 'sender')
    clients.push(sender)
    await sender.join('own-share')
    for (let i = 0; i < 3; i++) await sender.send('own-share', `message ${i}`)
    await waitForText(poller, 'own-share', 'message 2')
    const perMessage = await until(() => {
      const figure = wire.perMessage('short-polling')
      return figure && figure.messages >= 3 ? figure : undefined
    }, 'three messages counted per message')
    const since = wire.sinceReset('short-polling')!.share
    await readings(wire, 10)
    expect(wire.perMessage('short-polling')).toEqual(perMessage)
    expect(wire.sinceReset('short-polling')!.share).toBeGreaterThan(since)
    expect(perMessage.share).toBeLessThan(wire.sinceReset('short-polling')!.share)
  })

  it('gets an idle cost while another client in its room keeps sending, as in a class', async () => {
    const { store: wire } = await pollingPage('own-class', { idleSpanMs: 10_000, idleQuietMinMs: 1000 })
    const talker = createClient('websocket', server.url, 'talker')
    clients.push(talker)
    await talker.join('own-class')
    let sent = 0
    const talking = setInterval(() => void talker.send('own-class', `talk ${++sent}`), 300)
    try {
      const idle = await until(() => wire.idleCost('short-polling'), 'an idle figure', 10_000)
      // The room was never quiet for a second at a time: everyone's figures never had a quiet minute.
      expect(sent).toBeGreaterThanOrEqual(2)
      expect(idle.quietSeconds).toBeGreaterThanOrEqual(1)
      expect(idle.spanSeconds).toBeGreaterThan(idle.quietSeconds)
      // The client polls about every 25 ms plus the round trip: hundreds of empty polls a minute.
      expect(idle.requestsPerMinute).toBeGreaterThan(300)
      expect(idle.bytesPerMinute / idle.requestsPerMinute).toBeGreaterThan(100)
    } finally {
      clearInterval(talking)
    }
  })

  it('starts its figures over when the server is reset for everyone, without a negative count', async () => {
    const { store: wire } = await pollingPage('own-reset', {})
    // A baseline well above what the next few readings after the reset will count.
    await readings(wire, 10)
    wire.reset()
    expect(wire.resetBy).toBe('page')
    expect(await wire.resetServer()).toBeUndefined()
    expect(wire.resetBy).toBe('server')
    await readings(wire, 3)
    const since = wire.sinceReset('short-polling')!
    expect(since.bytes).toBeGreaterThan(0)
    expect(since.share).toBeGreaterThanOrEqual(0)
    for (const count of Object.values(wire.tally('short-polling')!)) expect(count).toBeGreaterThanOrEqual(0)
    expect(wire.tally('short-polling')!.httpRequests).toBeGreaterThan(0)
  })
})
