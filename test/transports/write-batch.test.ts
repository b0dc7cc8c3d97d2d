// Write batching (server/transports/write-batch.ts): what one turn of the
// event loop writes to a connection is held and leaves together at the end of
// the turn, and a batch past FLUSH_BYTES leaves at once, so that it never
// looks like a slow reader's backlog.
import { createServer, connect, type Server, type Socket } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { batchWrites, flushIfFull, FLUSH_BYTES } from '../../server/transports/write-batch.ts'
import { io, type Socket as ClientSocket } from 'socket.io-client'
import { until } from '../support/wait.ts'
import { startServer, type RunningServer } from '../support/server.ts'

let server: Server
let serverSide: Socket
let received = 0
beforeAll(async () => {
  server = createServer((socket) => {
    serverSide = socket
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  const client = connect(port, '127.0.0.1')
  client.on('data', (chunk) => (received += chunk.length))
  await until(() => serverSide, 'the connection')
})
afterAll(async () => {
  serverSide.destroy()
  await new Promise((resolve) => server.close(resolve))
})

const turnEnds = () => new Promise((resolve) => setImmediate(resolve))

describe('write batching', () => {
  it("holds one turn's frames and sends them together once the turn is over", async () => {
    const before = received
    for (let i = 0; i < 10; i++) {
      batchWrites(serverSide)
      serverSide.write(Buffer.alloc(100))
      flushIfFull(serverSide)
    }
    expect(serverSide.writableLength).toBe(1000)
    await turnEnds()
    expect(serverSide.writableLength).toBe(0)
    await until(() => received - before === 1000 || undefined, 'the peer to get all ten')
  })

  it('sends a batch at once when it reaches FLUSH_BYTES', () => {
    batchWrites(serverSide)
    serverSide.write(Buffer.alloc(FLUSH_BYTES - 1))
    flushIfFull(serverSide)
    expect(serverSide.writableLength).toBe(FLUSH_BYTES - 1)
    serverSide.write(Buffer.alloc(10))
    flushIfFull(serverSide)
    expect(serverSide.writableLength).toBeLessThan(FLUSH_BYTES)
  })
})

/**
 * Counts, for each connection `lab` accepts, where Node hands the socket's bytes to the kernel
 * (_write, or _writev for a batch): one count per trip into the kernel.
 */
function countWrites(lab: RunningServer): Map<Socket, number> {
  const writes = new Map<Socket, number>()
  lab.app.server.on('connection', (socket: Socket) => {
    writes.set(socket, 0)
    const count = (method: '_write' | '_writev') => {
      const original = (socket[method] as (...args: unknown[]) => void).bind(socket)
      socket[method] = ((...args: unknown[]) => {
        writes.set(socket, writes.get(socket)! + 1)
        original(...args)
      }) as never
    }
    count('_write')
    count('_writev')
  })
  return writes
}

/** The connections written to since `before`, and how many writes each. */
const writtenSince = (writes: Map<Socket, number>, before: Map<Socket, number>) =>
  [...writes].map(([socket, n]) => n - (before.get(socket) ?? 0)).filter((n) => n > 0)

// Engine.IO hands a flush's packets to ws one at a time: without a cork around the flush each would be its own
// write into the kernel.
describe('Socket.IO flushes', () => {
  let lab: RunningServer
  let writes: Map<Socket, number>
  beforeAll(async () => {
    // A burst well within the rate limit: the test is about how it is written, not whether it is admitted.
    lab = await startServer({ messageRate: 1000, messageBurst: 1000 })
    writes = countWrites(lab)
  })
  afterAll(() => lab.close())

  const connect = (name: string, room: string) => {
    const socket = io(lab.url, {
      forceNew: true,
      reconnection: false,
      transports: ['websocket'],
      auth: { protocol: 'lab', name, room },
    })
    return new Promise<ClientSocket>((resolve) => socket.once('welcome', () => resolve(socket)))
  }

  it('sends the packets that waited for one flush in one write', async () => {
    const receiver = await connect('receiver', 'burst')
    const sender = await connect('sender', 'own')
    let received = 0
    receiver.on('message', () => received++)
    const before = new Map(writes)
    const burst = 100
    for (let i = 0; i < burst; i++) sender.emit('send', { room: 'burst', text: `message ${i}` })
    await until(() => received === burst || undefined, 'the receiver to get the whole burst')
    // The one connection that was written to: the receiver's (the sender's sends ask for no ack).
    const written = writtenSince(writes, before)
    expect(written).toHaveLength(1)
    expect(written[0]).toBeLessThan(burst / 4)
    receiver.disconnect()
    sender.disconnect()
  })
})

// An SSE event is a chunk of a chunked response: without the batch each would be its own write into the kernel,
// the largest share of an SSE server's time when a room is busy.
describe('SSE streams', () => {
  let lab: RunningServer
  let writes: Map<Socket, number>
  beforeAll(async () => {
    lab = await startServer()
    writes = countWrites(lab)
  })
  afterAll(() => lab.close())

  it('send the events of one turn in one write, though they come from callbacks of their own', async () => {
    const controller = new AbortController()
    const res = await fetch(`${lab.url}/sse?room=sse-burst&name=reader`, { signal: controller.signal })
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader()
    let text = ''
    const readUntil = async (done: () => boolean) => {
      while (!done()) text += (await reader.read()).value ?? ''
    }
    await readUntil(() => text.includes('event: welcome'))
    const before = new Map(writes)
    const burst = 20
    const from = { clientId: 'x', name: 'x', transport: 'test' }
    // Each entry from a callback of its own within one turn, as the sends of several requests read in one turn
    // are: Node's own cork of a response lasts only until the callback that wrote it is over.
    await new Promise<void>((resolve) => {
      const publish = (i: number) => {
        void lab.app.hub.publish(from, 'sse-burst', { text: `m${i}` })
        if (i + 1 < burst) process.nextTick(publish, i + 1)
        else resolve()
      }
      publish(0)
    })
    await readUntil(() => text.includes(`m${burst - 1}`))
    const written = writtenSince(writes, before)
    // One write; two if the stream's heartbeat (every SSE_HEARTBEAT_MS) happened to fall in between.
    expect(written).toHaveLength(1)
    expect(written[0]).toBeLessThanOrEqual(2)
    controller.abort()
  })
})
