// Every log line names its TCP connection and its transport, so one client's
// story can be read out of a busy log.
import { PassThrough } from 'node:stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { TRANSPORTS } from '../../server/core/protocol.ts'
import { createClient, waitForText } from '../support/clients.ts'
import { startServer, type RunningServer } from '../support/server.ts'
import { until } from '../support/wait.ts'

const lines: Array<Record<string, unknown>> = []
let server: RunningServer

beforeAll(async () => {
  const stream = new PassThrough()
  let buffered = ''
  stream.on('data', (chunk: Buffer) => {
    buffered += chunk.toString()
    let newline
    while ((newline = buffered.indexOf('\n')) >= 0) {
      lines.push(JSON.parse(buffered.slice(0, newline)) as Record<string, unknown>)
      buffered = buffered.slice(newline + 1)
    }
  })
  server = await startServer({ logLevel: 'debug' }, { logStream: stream })
})
afterAll(async () => {
  await server.close()
})

describe('logging', () => {
  it.each(TRANSPORTS)('names the connection and the transport on %s lines', async (transport) => {
    const client = createClient(transport, server.url, `log-${transport}`)
    await client.join('logs')
    await client.send('logs', `logged via ${transport}`)
    await waitForText(client, 'logs', `logged via ${transport}`)
    await client.close()
    const mine = await until(() => {
      const found = lines.filter((l) => l.transport === transport)
      return found.length > 0 ? found : undefined
    }, `log lines for ${transport}`)
    for (const line of mine) expect(line.conn).toMatch(/^c\d+$/)
    // And which request (Fastify's id) or which Socket.IO connection (its sid) the line is about.
    const id = transport === 'socket.io' ? 'sid' : 'reqId'
    expect(mine.some((line) => typeof line[id] === 'string' || typeof line[id] === 'number')).toBe(true)
  })

  it('gives every line about a request or a client a connection and a transport', () => {
    const connectionLines = lines.filter((l) => l.reqId !== undefined || l.clientId !== undefined)
    expect(connectionLines.filter((l) => l.msg === 'request completed').length).toBeGreaterThan(0)
    for (const line of connectionLines) {
      expect(line.conn).toMatch(/^c\d+$/)
      expect(typeof line.transport).toBe('string')
    }
  })
})
