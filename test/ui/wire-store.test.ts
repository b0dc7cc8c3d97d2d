// A page's counter reset: the server's counts since a baseline snapshot, with
// the states (connections open, requests held) as they are now; a reset of
// the server's (an instructor's, a restart) seen in its falling totals; and
// the figures of the page's own connection, from its once-a-second readings.
import { createServer, type Socket } from 'node:net'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { emptyTally, type StreamTally, type WireTally } from '../../server/wire/types.ts'
import { OwnConnection } from '../../ui/src/state/own-connection.ts'
import { tallySince, WireStore } from '../../ui/src/state/wire-store.ts'
import { until } from '../support/wait.ts'

const tally = (over: Partial<WireTally>): WireTally => ({ ...emptyTally(), ...over })

describe('tallySince', () => {
  const base = tally({ bytesIn: 1000, bytesOut: 5000, payloadIn: 200, payloadOut: 800, plainOut: 900, messagesOut: 4 })
  const now = tally({
    bytesIn: 1300,
    bytesOut: 5600,
    payloadIn: 260,
    payloadOut: 1000,
    plainOut: 1200,
    messagesOut: 5,
    connectionsOpen: 3,
    requestsHeld: 1,
  })

  it('counts bytes, payload, plain sizes and messages from the reset on, and overhead from those', () => {
    expect(tallySince(now, base)).toMatchObject({
      bytesIn: 300,
      bytesOut: 600,
      payloadIn: 60,
      payloadOut: 200,
      plainOut: 300,
      messagesOut: 1,
      overheadIn: 240,
      overheadOut: 400,
    })
  })

  it('keeps connections open and requests held as they are now', () => {
    expect(tallySince(now, base)).toMatchObject({ connectionsOpen: 3, requestsHeld: 1 })
  })

  it('is the tally itself before any reset, and never negative after a server restart', () => {
    expect(tallySince(now, undefined)).toBe(now)
    expect(tallySince(tally({}), now).bytesOut).toBe(0)
  })
})

/** A stream's tally as the server gives it, for the readings below. */
const stream = (over: Partial<StreamTally>): StreamTally => {
  const {
    connectionsOpen: _open,
    connectionsTotal: _total,
    requestsHeld: _held,
    httpRequests: _http,
    ...counts
  } = tally({})
  return { openedAt: 1000, ...counts, requests: 0, ...over }
}

/** Readings one second apart of a stream that grows by `step` each time (server clock 10 s ahead of the page's). */
function readEvery(own: OwnConnection, from: StreamTally, steps: Array<Partial<StreamTally>>, startAt = 0): number {
  let at = startAt
  let tally = from
  own.add(at, tally, at + 10_000)
  for (const step of steps) {
    at += 1000
    const next = { ...tally }
    for (const [key, value] of Object.entries(step) as Array<[keyof StreamTally, number]>) next[key] += value
    tally = next
    own.add(at, tally, at + 10_000)
  }
  return at
}

const poll = { bytesIn: 100, bytesOut: 200, requests: 1 }
const delivery = { bytesIn: 100, bytesOut: 300, payloadOut: 100, messagesOut: 1, requests: 1 }

describe("OwnConnection: this page's own connection", () => {
  it('gives the overhead share of the readings in which its last messages crossed, unmoved by quiet polls after them', () => {
    const own = new OwnConnection({ perMessageCount: 2 })
    readEvery(own, stream({}), [delivery, poll, delivery, delivery])
    expect(own.perMessage()).toEqual({ share: 600 / 800, bytes: 800, messages: 2 })
    readEvery(own, stream({ bytesIn: 1000, bytesOut: 1700, payloadOut: 300, messagesOut: 3, requests: 5 }), [
      poll,
      poll,
      poll,
    ])
    expect(own.perMessage()).toEqual({ share: 600 / 800, bytes: 800, messages: 2 })
  })

  it('gives the share of everything since the reset, quiet polls included, and starts it over on reset', () => {
    const own = new OwnConnection()
    readEvery(own, stream({}), [delivery, poll])
    expect(own.sinceReset()!.share).toBe((700 - 100) / 700)
    own.reset()
    expect(own.sinceReset()).toBeUndefined()
    readEvery(own, stream({ bytesIn: 200, bytesOut: 500, payloadOut: 100, messagesOut: 1, requests: 2 }), [poll])
    expect(own.sinceReset()!.share).toBe(1)
  })

  it('counts a stream it had not read before whole, its handshake kept out of the per-message share and the idle cost', () => {
    const own = new OwnConnection({ perMessageCount: 1 })
    own.add(0, undefined, 10_000)
    own.add(1000, stream({ openedAt: 10_500, bytesIn: 400, bytesOut: 300, payloadOut: 200, messagesOut: 1 }), 11_000)
    expect(own.sinceReset()!.bytes).toBe(700)
    expect(own.perMessage()).toBeUndefined()
    // Another stream (a reconnection), first read long after it opened, with no message yet: not quiet time either.
    own.add(2000, stream({ openedAt: 2_000, bytesIn: 100, bytesOut: 100 }), 12_000)
    expect(own.sinceReset()!.bytes).toBe(900)
    expect(own.quietSeconds).toBe(0)
  })

  it('carries on with the same stream after readings that missed it (an SSE renewal before its welcome), counting the gap once', () => {
    const own = new OwnConnection()
    own.add(0, stream({ bytesOut: 100 }), 10_000)
    own.add(1000, undefined, 11_000)
    own.add(2000, stream({ bytesOut: 300, requests: 1 }), 12_000)
    expect(own.sinceReset()!.bytes).toBe(300)
    expect(own.intervals.at(-1)).toMatchObject({ ms: 2000, bytes: 200, requests: 1, opening: false })
  })

  it('counts nothing, and nothing negative, for a reading whose counts went down (the server was reset)', () => {
    const own = new OwnConnection()
    readEvery(own, stream({ bytesIn: 5000, bytesOut: 9000, requests: 40 }), [poll])
    own.reset()
    own.add(2000, stream({ bytesIn: 50, bytesOut: 80, requests: 1 }), 12_000)
    expect(own.sinceReset()).toBeUndefined()
    own.add(3000, stream({ bytesIn: 150, bytesOut: 280, requests: 2 }), 13_000)
    expect(own.sinceReset()).toEqual({ share: 1, bytes: 300, messages: 0 })
  })

  it('measures idle cost over the quiet readings of its span only, once they add up, and says over what', () => {
    const own = new OwnConnection({ idleSpanMs: 10_000, idleQuietMinMs: 3000 })
    readEvery(own, stream({}), [poll, delivery, poll])
    expect(own.idleCost()).toBeUndefined()
    expect(own.quietSeconds).toBe(2)
    const last = readEvery(
      own,
      stream({ bytesIn: 300, bytesOut: 700, payloadOut: 100, messagesOut: 1, requests: 3 }),
      [poll],
      3000,
    )
    expect(own.idleCost()).toEqual({
      requestsPerMinute: 60,
      bytesPerMinute: 300 * 60,
      quietSeconds: 3,
      spanSeconds: 4,
      at: last,
    })
    // Ten seconds later the first readings are out of the span: three polls in three quiet seconds still.
    const later = readEvery(
      own,
      stream({ bytesIn: 500, bytesOut: 900, payloadOut: 100, messagesOut: 1, requests: 4 }),
      [delivery, delivery, poll, poll, poll, delivery, delivery, delivery, delivery, delivery],
      4000,
    )
    expect(own.idleCost()).toMatchObject({ quietSeconds: 3, spanSeconds: 10, at: later, requestsPerMinute: 60 })
  })
})

describe('WireStore', () => {
  afterEach(() => {
    vi.unstubAllGlobals()
  })

  /** A store whose readings of /api/wire are the given answers, one per refresh. */
  function storeReading(answers: object[]): WireStore {
    let next = 0
    vi.stubGlobal('fetch', async () => new Response(JSON.stringify(answers[Math.min(next++, answers.length - 1)])))
    return new WireStore('http://lab.test', () => ({ websocket: 'c7' }))
  }
  const snapshot = (at: number, ws: Partial<WireTally>, total: Partial<WireTally>) => ({
    at,
    transports: { websocket: tally(ws) },
    total: tally(total),
  })

  it("drops this page's baseline when the server's counts went down, so that what came since shows in full", async () => {
    const store = storeReading([
      snapshot(1000, { bytesOut: 9000, payloadOut: 3000 }, { httpRequests: 50, bytesIn: 8000 }),
      snapshot(3000, { bytesOut: 400, payloadOut: 100 }, { httpRequests: 3, bytesIn: 300 }),
    ])
    await store.refresh()
    store.reset()
    expect(store.resetBy).toBe('page')
    await store.refresh()
    expect(store.resetBy).toBe('server')
    expect(store.tally('websocket')).toMatchObject({ bytesOut: 400, payloadOut: 100 })
  })

  it("reports the server's reason when it refuses a reset for everyone, and keeps the page's counts", async () => {
    const message = "the counters are reset for everyone from the server's own machine only"
    vi.stubGlobal('fetch', async () =>
      Response.json({ type: 'error', code: 'LAB_ERR_FORBIDDEN', message }, { status: 403 }),
    )
    const store = new WireStore('http://lab.test')
    expect(await store.resetServer()).toBe(message)
    expect(store.resetBy).toBeUndefined()
  })

  it('says when the server cannot be reached (no answer, or a proxy answering for it), keeps its last figures, and says it is back', async () => {
    const reading = snapshot(1000, { bytesOut: 400 }, { httpRequests: 3, bytesIn: 300 })
    const answers: Array<() => Response> = [
      () => Response.json(reading),
      () => {
        throw new TypeError('Failed to fetch')
      },
      () => new Response('', { status: 502 }),
      () => Response.json(reading),
    ]
    let next = 0
    vi.stubGlobal('fetch', async () => answers[next++]!())
    const store = new WireStore('http://lab.test')
    const seen: boolean[] = []
    store.addEventListener('reachability', () => seen.push(store.reachable))
    await store.refresh()
    const readAt = store.readAt
    expect(store.reachable).toBe(true)
    expect(store.unreachableSince).toBeUndefined()
    await store.refresh()
    expect(store.reachable).toBe(false)
    expect(store.unreachableSince).toBeGreaterThanOrEqual(readAt!)
    await store.refresh()
    expect(store.tally('websocket')).toMatchObject({ bytesOut: 400 })
    expect(store.readAt).toBe(readAt)
    await store.refresh()
    expect(store.reachable).toBe(true)
    // One event when it went away and one when it came back, not one per failed reading.
    expect(seen).toEqual([false, true])
  })

  it('says the server cannot be reached when it accepts a reading but never answers, and never has two readings out at once', async () => {
    // A real socket that takes the request and says nothing, as a server on a sleeping laptop would.
    const sockets: Socket[] = []
    let requests = 0
    const silent = createServer((socket) => {
      sockets.push(socket)
      socket.on('data', (chunk) => (requests += chunk.toString().match(/^GET \/api\/wire/gm)?.length ?? 0))
    })
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
    try {
      const store = new WireStore(`http://127.0.0.1:${(silent.address() as AddressInfo).port}`)
      store.readTimeoutMs = 1500
      const first = store.refresh()
      await until(() => requests === 1, 'the first reading to reach the silent server')
      await store.refresh()
      await first
      expect(store.reachable).toBe(false)
      expect(requests).toBe(1)
      // The timed-out reading is over: the next one goes out.
      const next = store.refresh()
      await until(() => requests === 2, 'the next reading to go out')
      await next
      expect(store.reachable).toBe(false)
    } finally {
      for (const socket of sockets) socket.destroy()
      silent.close()
    }
  })

  it("asks for this page's own connections and follows the stream the server lists under them", async () => {
    const asked: string[] = []
    const own = (bytesOut: number, messagesOut: number) => ({
      ...snapshot(1000 + bytesOut, {}, { httpRequests: bytesOut, bytesIn: bytesOut }),
      connections: { c7: { websocket: stream({ bytesOut, payloadOut: messagesOut * 50, messagesOut }) } },
    })
    const answers = [own(100, 1), own(300, 2), own(400, 2)]
    vi.stubGlobal('fetch', async (url: string) => {
      asked.push(url)
      return new Response(JSON.stringify(answers[asked.length - 1]))
    })
    const store = new WireStore('http://lab.test', () => ({ websocket: 'c7', sse: 'c7', 'socket.io': undefined }))
    for (let i = 0; i < 3; i++) await store.refresh()
    expect(asked[0]).toBe('http://lab.test/api/wire?connections=c7')
    expect(store.perMessage('websocket')).toEqual({ share: 150 / 200, bytes: 200, messages: 1 })
    expect(store.sinceReset('websocket')!.bytes).toBe(400)
    expect(store.perMessage('sse')).toBeUndefined()
  })
})
