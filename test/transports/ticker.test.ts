// The built-in `ticker` room over real clients on every transport: the server's
// price updates arrive like any message, the ticker runs only while the room
// has members, TICKER_HZ sets (or turns off) the rate. Quiet is checked with a
// held long poll, a reader that is not a member: the server answers it at once
// when anything is appended, and empty when its timeout passes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { TRANSPORTS, type Batch, type ChatMessage, type LogEntry } from '../../server/core/protocol.ts'
import { TICKER_ROOM, TICKER_SENDER } from '../../server/core/ticker.ts'
import { createClient, messagesIn, waitForText, type LabClient } from '../support/clients.ts'
import { startServer, type RunningServer } from '../support/server.ts'
import { until } from '../support/wait.ts'

const HZ = 20
/** Long enough for a dozen ticks at HZ: a ticker that should have stopped would show. */
const QUIET_MS = 600

let server: RunningServer
beforeAll(async () => {
  server = await startServer({ tickerHz: HZ })
})
afterAll(async () => {
  await server.close()
})

const updatesIn = (client: LabClient) => messagesIn(client, TICKER_ROOM).filter((m) => m.from.transport === 'server')

/** What the room's log gained while a long poll was held for `ms` after its latest seq. */
async function appendedWithin(target: RunningServer, ms: number): Promise<LogEntry[]> {
  const { seq, epoch } = await target.app.hub.read(TICKER_ROOM)
  const query = new URLSearchParams({
    room: TICKER_ROOM,
    since: String(seq),
    timeout: String(ms),
    ...(epoch ? { epoch } : {}),
  })
  const res = await fetch(`${target.url}/long-poll?${query}`)
  return ((await res.json()) as Batch).entries
}

const membersOf = (target: RunningServer) => target.app.hub.presence(TICKER_ROOM)

describe('the ticker room', () => {
  it('does not tick for a reader that never joined', async () => {
    const read = await fetch(`${server.url}/poll?room=${TICKER_ROOM}`)
    expect(read.status).toBe(200)
    expect(await appendedWithin(server, QUIET_MS)).toEqual([])
    expect(membersOf(server)).toEqual([])
  })

  describe.each(TRANSPORTS)('over %s', (transport) => {
    it('a member receives price updates from the server, each counted on the wire meter', async () => {
      const before = server.app.wire.snapshot().transports[transport]?.messagesOut ?? 0
      const client = createClient(transport, server.url, `watcher-${transport}`)
      try {
        await client.join(TICKER_ROOM)
        const updates = await until(
          () => updatesIn(client).length >= 3 && updatesIn(client),
          `${transport} to receive three updates`,
        )
        for (const update of updates) {
          expect(update).toMatchObject({ type: 'message', room: TICKER_ROOM, from: TICKER_SENDER })
          expect(update.text).toMatch(/^[A-Z]+ \d+\.\d{2} [+-]\d+\.\d{2}%$/)
          // The tick's time on the clients' own clock, in ms with fractions: any receiver can show its age.
          expect(update.sentAt).toBeGreaterThan(performance.timeOrigin)
          expect(update.sentAt).toBeLessThanOrEqual(performance.timeOrigin + performance.now())
        }
        expect(updates.some((u) => !Number.isInteger(u.sentAt))).toBe(true)
        const seqs = updates.map((u) => u.seq)
        expect(seqs).toEqual([...seqs].sort((a, b) => a - b))
        expect((server.app.wire.snapshot().transports[transport]?.messagesOut ?? 0) - before).toBeGreaterThanOrEqual(
          updates.length,
        )
      } finally {
        await client.leave(TICKER_ROOM)
        await client.close()
      }
    })

    it('stops ticking when its last member leaves: no seq is appended afterwards', async () => {
      const client = createClient(transport, server.url, `leaver-${transport}`)
      await client.join(TICKER_ROOM)
      await until(() => updatesIn(client).length >= 1 || undefined, `${transport} to receive an update`)
      await client.leave(TICKER_ROOM)
      await client.close()
      await until(() => membersOf(server).length === 0 || undefined, `${transport} to leave the room`)
      expect(await appendedWithin(server, QUIET_MS)).toEqual([])
    })
  })

  it('lets clients chat in the room, between the prices', async () => {
    const client = createClient('websocket', server.url, 'chatty')
    try {
      await client.join(TICKER_ROOM)
      await client.send(TICKER_ROOM, 'to the moon')
      const mine = await waitForText(client, TICKER_ROOM, 'to the moon')
      expect(mine.from).toMatchObject({ name: 'chatty', transport: 'websocket' })
      await until(
        () => updatesIn(client).some((u) => u.seq > mine.seq) || undefined,
        'an update after the chat message',
      )
    } finally {
      await client.close()
    }
  })
})

describe('TICKER_HZ', () => {
  it('at 0 turns the ticker off: members on every transport receive no updates', async () => {
    const quiet = await startServer({ tickerHz: 0 })
    const clients = TRANSPORTS.map((t) => createClient(t, quiet.url, `member-${t}`))
    try {
      for (const client of clients) await client.join(TICKER_ROOM)
      expect(membersOf(quiet)).toHaveLength(TRANSPORTS.length)
      // A second at 0 Hz: at the default rate (4 Hz) there would have been updates by then.
      expect(await appendedWithin(quiet, 1000)).toEqual([])
      for (const client of clients) expect(updatesIn(client)).toEqual([])
    } finally {
      await Promise.all(clients.map((c) => c.close()))
      await quiet.close()
    }
  })

  it.each([5, 25])(
    "at %i sets the rate: the log's updates are 1/TICKER_HZ s apart on average, with MESSAGE_RATE=1 not slowing them",
    async (hz) => {
      const target = await startServer({ tickerHz: hz, messageRate: 1, messageBurst: 1 })
      const client = createClient('websocket', target.url, 'timer')
      const count = 2 * hz + 1
      try {
        await client.join(TICKER_ROOM)
        const updates = await until(
          async () => {
            const logged = (await target.app.hub.read(TICKER_ROOM, { seq: 0 })).entries.filter(
              (e): e is ChatMessage => e.type === 'message',
            )
            return logged.length >= count && logged.slice(0, count)
          },
          `${count} updates in the log`,
          10_000,
        )
        const spacingMs = (updates.at(-1)!.serverAt - updates[0]!.serverAt) / (count - 1)
        // Never faster than the rate; slower only when the event loop stalls for more than a period, so a loaded machine gets room.
        expect(spacingMs).toBeGreaterThanOrEqual((1000 / hz) * 0.95)
        expect(spacingMs).toBeLessThanOrEqual((1000 / hz) * 1.5)
      } finally {
        await client.close()
        await target.close()
      }
    },
  )
})
