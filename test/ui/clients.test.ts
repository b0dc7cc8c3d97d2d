// The workbench's ChatClient classes, one per transport, against the real
// server. Node lacks the browser's EventSource and WebSocket, so the test
// lends it spec-following ones (the eventsource package and ws). Between the
// clients and the server sits a scriptable network: it passes everything
// through unless a test asks it to hold something back (as a page too busy to
// run its handlers would), to answer 503 (an outage) or to write into an SSE
// stream (as the server would).
import { EventSource } from 'eventsource'
import type { Socket } from 'socket.io-client'
import WebSocket from 'ws'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { TRANSPORTS, type ChatMessage, type ErrorMessage, type TransportName } from '../../server/core/protocol.ts'
import { createChatClient, type ChatClient } from '../../ui/src/clients/index.ts'
import type { ConnectionState, Received } from '../../ui/src/clients/chat-client.ts'
import { describeEnginePacket } from '../../ui/src/clients/engine-io.ts'
import { now } from '../../ui/src/clock.ts'
import { ServerClock } from '../../ui/src/state/server-clock.ts'
import type { Handshake } from '../../server/wire/meter.ts'
import { startServer, type RunningServer } from '../support/server.ts'
import { until } from '../support/wait.ts'

/**
 * Holds back what reaches the clients, from the first delivery that mentions
 * a marker on, until release(). A channel is one socket, stream or response.
 */
class Holdback {
  private marker: string | undefined
  private queue: Array<() => void> = []
  private readonly waiting = new Set<object>()

  get held(): number {
    return this.queue.length
  }

  hold(marker: string): void {
    this.marker = marker
  }

  pass(channel: object, text: string, deliver: () => void): void {
    // Once one delivery on a channel waits, the ones behind it on that channel wait too.
    if (this.waiting.has(channel) || (this.marker !== undefined && text.includes(this.marker))) {
      this.waiting.add(channel)
      this.queue.push(deliver)
    } else {
      deliver()
    }
  }

  /** Delivers what waited, in order, and lets everything through again. */
  release(): void {
    const queue = this.queue
    this.queue = []
    this.marker = undefined
    this.waiting.clear()
    for (const deliver of queue) deliver()
  }
}

const incoming = new Holdback()

/** ws, with the text frames it hands to 'message' listeners going through `incoming`. */
class HeldWebSocket extends WebSocket {
  override addEventListener<K extends keyof WebSocket.WebSocketEventMap>(
    type: K,
    listener: (event: WebSocket.WebSocketEventMap[K]) => void,
    options?: WebSocket.EventListenerOptions,
  ): void {
    const held = (event: WebSocket.WebSocketEventMap[K]) =>
      incoming.pass(this, (event as WebSocket.MessageEvent).data as string, () => listener.call(this, event))
    super.addEventListener(type, type === 'message' ? held : listener, options)
  }
}

/** An SSE response as the client reads it: the server's bytes, plus whatever the test writes. */
interface ScriptedStream {
  write(text: string): void
  /** Writes `text` and ends the stream here, closing the real one behind it. */
  end(text: string): void
}

const realFetch = globalThis.fetch
const network = {
  /** Answers 503 to the requests whose URL contains this, as a proxy whose server is gone. */
  unreachable: undefined as string | undefined,
  refused: 0,
  /** The latest SSE stream opened through this network. */
  stream: undefined as ScriptedStream | undefined,
}

async function scriptedFetch(input: string | URL | Request, init?: RequestInit): Promise<Response> {
  if (
    network.unreachable !== undefined &&
    String(input instanceof Request ? input.url : input).includes(network.unreachable)
  ) {
    network.refused++
    return new Response('no server behind this proxy', { status: 503 })
  }
  const res = await realFetch(input, init)
  if (res.headers.get('content-type')?.startsWith('text/event-stream')) return scriptStream(res)
  // Read in full before it may be held: the page has the answer but has not run its handler yet.
  const text = await res.text()
  const body = [101, 204, 205, 304].includes(res.status) ? null : text
  return new Promise((resolve) =>
    incoming.pass(res, text, () =>
      resolve(new Response(body, { status: res.status, statusText: res.statusText, headers: res.headers })),
    ),
  )
}

function scriptStream(res: Response): Response {
  const reader = res.body!.getReader()
  const encoder = new TextEncoder()
  const decoder = new TextDecoder()
  let controller!: ReadableStreamDefaultController<Uint8Array>
  let ended = false
  const enqueue = (chunk: Uint8Array) => {
    if (!ended) controller.enqueue(chunk)
  }
  const finish = () => {
    if (ended) return
    ended = true
    controller.close()
  }
  const stream: ScriptedStream = {
    write: (text) => enqueue(encoder.encode(text)),
    end: (text) => {
      enqueue(encoder.encode(text))
      finish()
      void reader.cancel().catch(() => {})
    },
  }
  network.stream = stream
  void (async () => {
    for (;;) {
      const { done, value } = await reader.read().catch(() => ({ done: true as const, value: undefined }))
      if (done) return finish()
      incoming.pass(stream, decoder.decode(value, { stream: true }), () => enqueue(value))
    }
  })()
  const body = new ReadableStream<Uint8Array>({
    start: (c) => {
      controller = c
    },
    cancel: () => reader.cancel(),
  })
  return new Response(body, { status: res.status, headers: res.headers })
}

// The eventsource package takes globalThis.fetch when each EventSource is made.
Object.assign(globalThis, { EventSource, WebSocket: HeldWebSocket, fetch: scriptedFetch })

let server: RunningServer
beforeAll(async () => {
  server = await startServer()
})
afterAll(async () => {
  await server.close()
  globalThis.fetch = realFetch
})
afterEach(() => {
  network.unreachable = undefined
  incoming.release()
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
  client.on('history-lost', () => {
    w.lost++
  })
  return w
}

const texts = (w: Watched) =>
  w.received.filter((r) => r.entry.type === 'message').map((r) => (r.entry as ChatMessage).text)
const roomFor = (transport: TransportName) => `ui-${transport.replace('.', '')}`
const makeClient = (
  transport: TransportName,
  name: string,
  overrides: Partial<{ pollIntervalMs: number; room: string }> = {},
) =>
  watch(
    createChatClient(transport, {
      baseUrl: server.url,
      name,
      room: roomFor(transport),
      pollIntervalMs: 30,
      longPollTimeoutMs: 5000,
      ...overrides,
    }),
  )
const opened = (...ws: Watched[]) => until(() => ws.every((w) => w.client.state === 'open') || undefined, 'open')
/** The request that opens each transport's stream, as the server's handshake record shows it. */
const OPENING: Record<TransportName, RegExp> = {
  'short-polling': /^POST \/poll HTTP\/1\.1$/,
  'long-polling': /^POST \/long-poll HTTP\/1\.1$/,
  sse: /^GET \/sse\?room=ui-sse&name=inspected HTTP\/1\.1$/,
  websocket: /^GET \/ws\?room=ui-websocket&name=inspected&compress=0 HTTP\/1\.1$/,
  // The first request of the Engine.IO session, or the upgrade it moved to.
  'socket.io': /^GET \/socket\.io\/\?EIO=4&transport=(polling|websocket)/,
}

describe.each(TRANSPORTS)('the %s ChatClient', (transport) => {
  const room = roomFor(transport)
  const make = (name: string, overrides: Partial<{ pollIntervalMs: number }> = {}) =>
    makeClient(transport, name, overrides)

  it('connects, is welcomed into its room and reports open', async () => {
    const w = make('opener')
    w.client.start()
    await until(() => w.client.state === 'open' || undefined, 'open')
    expect(w.client.welcome).toMatchObject({ room, name: 'opener', transport })
    expect(w.states).toEqual(['connecting', 'open'])
    await w.client.stop()
    expect(w.client.state).toBe('closed')
  })

  it('keeps the connection its welcome names, where the server shows it the request that opened its stream', async () => {
    const w = make('inspected')
    w.client.start()
    await opened(w)
    const connectionId = w.client.connectionId
    expect(connectionId).toMatch(/^c\d+$/)
    expect(connectionId).toBe(w.client.welcome?.connectionId)
    const res = await realFetch(`${server.url}/api/wire/handshakes/${connectionId}`)
    const shown = ((await res.json()) as Record<string, Handshake>)[transport]!
    expect(shown.request.startLine).toMatch(OPENING[transport])
    await w.client.stop()
  })

  it('receives its own message with the sentAt it stamped, so the page can measure latency', async () => {
    const w = make('stamper')
    w.client.start()
    await until(() => w.client.state === 'open' || undefined, 'open')
    await w.client.send('stamped', { sentAt: 1234.5, clientMsgId: 'id-1' })
    const got = await until(
      () => w.received.find((r) => r.entry.type === 'message' && r.entry.text === 'stamped'),
      'its message',
    )
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

  it('says the history is lost when an entry comes from another epoch than its cursor', async () => {
    const [w, other] = [make('reader'), make('writer')]
    w.client.start()
    other.client.start()
    await opened(w, other)
    w.client.cursor = { seq: 3, epoch: 'deadbeef' }
    await other.client.send('from the real epoch')
    await until(() => texts(w).includes('from the real epoch') || undefined, 'the message')
    expect(w.lost).toBe(1)
    expect(w.client.cursor?.epoch).toBe(w.client.welcome?.epoch)
    await w.client.stop()
    await other.client.stop()
  })

  it('moves to another room', async () => {
    const w = make('mover')
    w.client.start()
    await until(() => w.client.state === 'open' || undefined, 'open')
    await w.client.switchRoom(`${room}-b`)
    await until(
      () => (w.client.state === 'open' && w.client.welcome?.room === `${room}-b`) || undefined,
      'welcome to the new room',
    )
    await w.client.send('in b')
    const got = await until(
      () => w.received.find((r) => r.entry.type === 'message' && r.entry.text === 'in b'),
      'message in b',
    )
    expect(got.entry.room).toBe(`${room}-b`)
    await w.client.stop()
  })

  it("says what became of each send: sent with its seq, refused with the server's code, nothing sent once it left", async () => {
    const w = make('answered')
    w.client.start()
    await opened(w)
    const sent = await w.client.send('taken')
    expect(sent.status).toBe('sent')
    const seq = sent.status === 'sent' ? sent.seq : undefined
    const got = await until(() => w.received.find((r) => r.entry.seq === seq), `entry #${String(seq)}`)
    expect(got.entry).toMatchObject({ type: 'message', text: 'taken' })
    const refused = await w.client.send('   ')
    expect(refused).toMatchObject({ status: 'refused', code: 'LAB_ERR_TEXT_EMPTY', message: 'text must not be empty' })
    if (transport !== 'websocket' && transport !== 'socket.io') expect(refused).toMatchObject({ httpStatus: 400 })
    await w.client.stop()
    expect(await w.client.send('after leaving')).toEqual({ status: 'not-joined', state: 'closed' })
  })

  it("reports the server's error for bad input and stays open", async () => {
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

// Socket.IO is left out: its drop is the library's own reconnection of the same socket.
describe.each(['websocket', 'sse', 'short-polling', 'long-polling'] as const)(
  'the %s ChatClient, as its dropped connection still delivers',
  (transport) => {
    it('ignores what arrives on the connection it dropped, and takes it from the resume backlog instead', async () => {
      const w = makeClient(transport, 'late-reader')
      w.client.start()
      await opened(w)
      incoming.hold('arrives late')
      // A WebSocket send is answered by its own message coming back, which is held: it waits past the drop.
      const sending = w.client.send('arrives late')
      await until(() => incoming.held > 0 || undefined, 'the message held back')
      w.client.drop(100)
      incoming.release()
      await sending
      const got = await until(
        () => w.received.find((r) => r.entry.type === 'message' && r.entry.text === 'arrives late'),
        'the message',
      )
      expect(got.backfilled).toBe(true)
      expect(texts(w).filter((text) => text === 'arrives late')).toHaveLength(1)
      await w.client.stop()
    })
  },
)

describe.each(['short-polling', 'long-polling'] as const)(
  'the %s ChatClient, as its join is answered late',
  (transport) => {
    it('does not report open from a join whose answer comes after it dropped the connection', async () => {
      const w = makeClient(transport, 'hesitant')
      incoming.hold('"name":"hesitant"')
      w.client.start()
      await until(() => incoming.held > 0 || undefined, 'the welcome held back')
      w.client.drop(100)
      incoming.release()
      await opened(w)
      expect(w.states).toEqual(['connecting', 'reconnecting', 'connecting', 'open'])
      await w.client.stop()
    })
  },
)

describe('the sse ChatClient and its stream', () => {
  const make = (name: string) => makeClient('sse', name)
  const bye = (code: string) =>
    `retry: 100\nevent: bye\ndata: ${JSON.stringify({ code, message: 'the server ended this stream' })}\n\n`

  it('still reconnects when the stream fails after a drop and its reconnection', async () => {
    const w = make('persistent')
    w.client.start()
    await opened(w)
    w.client.drop(50)
    await opened(w)
    // The stream ends, EventSource tries again by itself, the server is away and it gives up (CLOSED).
    network.unreachable = 'name=persistent'
    network.stream!.end('retry: 20\n\n')
    await until(() => network.refused > 0 || undefined, 'the refused reconnection')
    network.unreachable = undefined
    await until(() => w.client.state === 'open' || undefined, 'open again', 8000)
    await w.client.stop()
  })

  it('comes back open and misses nothing when the server ends the stream with a bye', async () => {
    const other = make('renewal-talker')
    other.client.start()
    await opened(other)
    const w = make('renewed')
    w.client.start()
    await opened(w)
    const stream = network.stream!
    await other.client.send('before the bye')
    await until(() => texts(w).includes('before the bye') || undefined, 'the first message')
    const [states, requests] = [w.states.length, w.client.stats.requests]
    stream.end(bye('LAB_RENEW'))
    await other.client.send('during the renewal')
    await until(() => texts(w).includes('during the renewal') || undefined, 'the message sent while it was away')
    await until(() => w.client.stats.requests > requests || undefined, 'the reconnection, counted as a request')
    // A renewal is routine: the panel never says "reconnecting" for it.
    expect(w.states.slice(states)).toEqual([])
    expect(w.client.state).toBe('open')
    expect(texts(w)).toEqual(['before the bye', 'during the renewal'])
    expect(w.lost).toBe(0)
    expect(w.client.frames.some((f) => f.kind === 'event: bye')).toBe(true)
    await w.client.stop()
    await other.client.stop()
  })

  it('says the history is lost when a welcome claims to have resumed it in another epoch', async () => {
    // A room of its own: a leave notice of an earlier test's client, from the real epoch, would move the cursor again.
    const w = makeClient('sse', 'trusting', { room: 'ui-sse-alone' })
    w.client.start()
    await opened(w)
    // What a restarted server would answer to a Last-Event-ID without an epoch, once its new log is long enough.
    const welcome = { ...w.client.welcome!, epoch: 'f0f0f0f0', seq: 50, recovered: true }
    network.stream!.write(`event: welcome\ndata: ${JSON.stringify(welcome)}\n\n`)
    await until(() => w.lost > 0 || undefined, 'history lost')
    expect(w.client.cursor).toEqual({ seq: 0, epoch: 'f0f0f0f0' })
    await w.client.stop()
  })

  it('reports an error event the server writes on the stream, and stays open', async () => {
    const w = make('warned')
    w.client.start()
    await opened(w)
    network.stream!.write(
      `event: error\ndata: ${JSON.stringify({ type: 'error', code: 'LAB_ERR_RATE_LIMIT', message: 'slow down' })}\n\n`,
    )
    const error = await until(() => w.errors[0], 'the error')
    expect(error).toMatchObject({ code: 'LAB_ERR_RATE_LIMIT', message: 'slow down' })
    expect(w.client.state).toBe('open')
    await w.client.send('still here')
    await until(() => texts(w).includes('still here') || undefined, 'a message after the error')
    await w.client.stop()
  })
})

/**
 * Socket.IO hears a closing server's goodbye ("io server disconnect", after
 * which it does not reconnect by itself) once it has upgraded to a WebSocket;
 * over polling it sees only the transport close. Not public: read from the client's socket.
 */
const upgraded = (client: ChatClient) =>
  (client as unknown as { socket?: Socket }).socket?.io.engine?.transport?.name === 'websocket'

describe.each(TRANSPORTS)('the %s ChatClient, as its server restarts', (transport) => {
  it('comes back to the new server by itself and says the history is lost', async () => {
    let own = await startServer()
    const w = watch(
      createChatClient(transport, {
        baseUrl: own.url,
        name: 'survivor',
        room: 'restarted',
        pollIntervalMs: 30,
        longPollTimeoutMs: 5000,
      }),
    )
    try {
      w.client.start()
      await opened(w)
      if (transport === 'socket.io') await until(() => upgraded(w.client) || undefined, 'the upgrade to a WebSocket')
      const epoch = w.client.welcome!.epoch
      await own.close()
      own = await startServer({ port: own.port })
      await until(() => (w.lost > 0 && w.client.state === 'open') || undefined, 'back, with the history lost', 10_000)
      expect(w.client.welcome!.epoch).not.toBe(epoch)
      await w.client.send('after the restart')
      await until(() => texts(w).includes('after the restart') || undefined, 'a message on the new server')
    } finally {
      await w.client.stop()
      await own.close()
    }
  })
})

describe("the page's ServerClock", () => {
  it("reads the server's clock at GET /api/time: Date.now(), the clock it stamps serverAt with", async () => {
    await (await fetch(`${server.url}/api/time`)).text() // a kept-alive connection, so the next one is quick
    const before = Date.now()
    const res = await fetch(`${server.url}/api/time`)
    const after = Date.now()
    const body = (await res.json()) as { serverAt: number }
    expect(res.status).toBe(200)
    expect(Object.keys(body)).toEqual(['serverAt'])
    expect(body.serverAt).toBeGreaterThanOrEqual(before)
    expect(body.serverAt).toBeLessThanOrEqual(after)
  })

  it("bounds the offset between the page's clock and the server's so that the true one lies within", async () => {
    const clock = new ServerClock(server.url)
    const changes: number[] = []
    clock.addEventListener('change', () => changes.push(clock.offset!.exchanges))
    expect(await clock.probe()).toBe(true)
    expect(await clock.probe()).toBe(true)
    expect(changes.length).toBeGreaterThan(0)
    const offset = clock.offset!
    // The server runs in this process: the true offset is its Date.now() against the page's clock, read here
    // (1 ms for Date.now()'s whole milliseconds).
    const trueOffset = Date.now() - now()
    expect(Math.abs(offset.offsetMs - trueOffset)).toBeLessThanOrEqual(offset.uncertaintyMs + 1)
  })

  it('learns nothing from a server that does not answer with its clock', async () => {
    network.unreachable = '/api/time'
    const clock = new ServerClock(server.url)
    expect(await clock.probe()).toBe(false)
    expect(clock.offset).toBeUndefined()
  })
})

describe('describeEnginePacket', () => {
  it('names an Engine.IO message carrying a Socket.IO event', () => {
    expect(describeEnginePacket('message', '2["message",{"text":"hi"}]')).toEqual({
      kind: 'EIO 4 message · SIO 2 EVENT "message"',
      wire: '42["message",{"text":"hi"}]',
    })
  })
  it('names pings and acks', () => {
    expect(describeEnginePacket('ping', undefined)).toEqual({ kind: 'EIO 2 ping', wire: '2' })
    expect(describeEnginePacket('message', '31[{"ok":true}]').kind).toBe('EIO 4 message · SIO 3 ACK')
  })
})
