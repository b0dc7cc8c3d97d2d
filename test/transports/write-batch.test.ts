// Write batching (server/transports/write-batch.ts): what one turn of the
// event loop writes to a connection is held and leaves together at the end of
// the turn, and a batch past FLUSH_BYTES leaves at once, so that it never
// looks like a slow reader's backlog.
import { createServer, connect, type Server, type Socket } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { batchWrites, flushIfFull, FLUSH_BYTES } from '../../server/transports/write-batch.ts'
import { until } from '../support/wait.ts'

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
