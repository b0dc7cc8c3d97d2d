// The bench's SSE receiver against a real server that renews its streams: it
// reopens each renewed stream with Last-Event-ID, as EventSource does, and on
// the connection the last one left open, as a browser's connection pool does,
// so that a renewal costs the server a request and not a TCP handshake too.
import type { Socket } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SseReceiver } from '../../benchmarks/clients/http.ts'
import { startServer, type RunningServer } from '../support/server.ts'
import { until } from '../support/wait.ts'

let server: RunningServer
const connections: Socket[] = []
beforeAll(async () => {
  server = await startServer({ sseStreamMaxMs: 1000 })
  server.app.server.on('connection', (socket: Socket) => connections.push(socket))
})
afterAll(() => server.close())

describe("the bench's SSE receiver", () => {
  it('reopens a renewed stream as the same member, on the connection it already had', async () => {
    const receiver = new SseReceiver({
      endpoint: { target: 'lab', transport: 'sse', url: server.url, pollIntervalMs: 1000 },
      room: 'renewals',
      name: 'reader',
      onMessage: () => {},
    })
    try {
      await receiver.ready
      await until(() => receiver.reconnects >= 2 || undefined, 'two renewals', 10_000)
      expect(receiver.rejoinedAsNew).toBe(0)
      expect(receiver.failure).toBeUndefined()
      expect(connections).toHaveLength(1)
    } finally {
      await receiver.close()
    }
  })
})
