// The inspector's handshakes are the heads that crossed the wire, not a
// reconstruction: each is compared here with the bytes a raw TCP client sent
// and received. Node's response head (res._header), ws' 'headers' event for
// /ws and engine.io's WebSocket server (engine.ws) are where they come from,
// so these fail if one of them stops handing the head over.
import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { HandshakeSide } from '../../server/wire/meter.ts'
import { internedLines, internLine, LINE_INTERNED_MAX_CHARS, LINES_INTERNED } from '../../server/wire/handshakes.ts'
import { rawConnect } from '../support/raw.ts'
import { startServer, type RunningServer } from '../support/server.ts'
import { until } from '../support/wait.ts'

let server: RunningServer
beforeAll(async () => {
  server = await startServer({ wsHeartbeatMs: 600_000, sseHeartbeatMs: 600_000 })
})
afterAll(async () => {
  await server.close()
})

/** Sends `request` on a new connection and returns the head of the answer, line by line. */
async function exchange(request: string): Promise<string[]> {
  const conn = await rawConnect(server.port)
  conn.socket.write(request)
  await until(() => conn.received().includes('\r\n\r\n') || undefined, 'the response head')
  const text = conn.received().toString('latin1')
  conn.socket.destroy()
  return text.slice(0, text.indexOf('\r\n\r\n')).split('\r\n')
}

function lines(side: HandshakeSide | null | undefined): string[] {
  return side ? [side.startLine, ...side.headers.map(([name, value]) => `${name}: ${value}`)] : []
}

function upgradeRequest(path: string, extra = ''): string {
  return (
    `GET ${path} HTTP/1.1\r\nHost: lab\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
    `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n${extra}\r\n`
  )
}

describe('the handshakes the inspector shows', () => {
  it('are a polling exchange as it crossed the wire: the request as sent, the response head as Node wrote it', async () => {
    const request = 'GET /poll?room=heads HTTP/1.1\r\nHost: lab\r\nX-Lab-Probe: polling\r\nConnection: close\r\n\r\n'
    const before = Date.now()
    const received = await exchange(request)
    const shown = await until(() => {
      const poll = server.app.wire.handshakes()['short-polling']
      return poll?.request.headers.some(([name]) => name === 'X-Lab-Probe') && poll.response ? poll : undefined
    }, 'the poll in the handshakes')
    expect(lines(shown.request)).toEqual(request.slice(0, -4).split('\r\n'))
    // When the request came, on the server's clock.
    expect(shown.at).toBeGreaterThanOrEqual(before)
    expect(shown.at).toBeLessThanOrEqual(Date.now())
    expect(received[0]).toBe('HTTP/1.1 200 OK')
    expect(lines(shown.response)).toEqual(received)
  })

  it('are the /ws upgrade and its 101 byte for byte, with the permessage-deflate it agreed to', async () => {
    const received = await exchange(
      upgradeRequest(
        '/ws?room=heads&name=raw&compress=1',
        'Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n',
      ),
    )
    expect(received[0]).toBe('HTTP/1.1 101 Switching Protocols')
    expect(received.some((line) => line.startsWith('Sec-WebSocket-Extensions: permessage-deflate'))).toBe(true)
    const shown = server.app.wire.handshakes().websocket!
    expect(shown.upgrade).toBe(true)
    expect(shown.request.startLine).toBe('GET /ws?room=heads&name=raw&compress=1 HTTP/1.1')
    expect(lines(shown.response)).toEqual(received)
  })

  it('are the Socket.IO upgrade and the 101 engine.io wrote, byte for byte', async () => {
    const received = await exchange(upgradeRequest('/socket.io/?EIO=4&transport=websocket'))
    expect(received[0]).toBe('HTTP/1.1 101 Switching Protocols')
    const shown = server.app.wire.handshakes()['socket.io']!
    expect(shown.upgrade).toBe(true)
    expect(lines(shown.response)).toEqual(received)
  })
})

// Each distinct header line is kept once for all the heads that hold it (`npm run bench:heap` shows what that
// saves an idle connection); the table that shares them must stay small whatever clients send.
describe('the lines the handshake log shares between heads', () => {
  it('are never more than LINES_INTERNED, however many distinct lines come', () => {
    for (let i = 0; i < LINES_INTERNED * 3; i++) internLine(`X-Unique: ${i}`)
    expect(internedLines()).toBeGreaterThan(0)
    expect(internedLines()).toBeLessThanOrEqual(LINES_INTERNED)
  })

  it('leave out a line longer than LINE_INTERNED_MAX_CHARS, which is kept as it came', () => {
    const before = internedLines()
    const long = `Cookie-Like: ${'x'.repeat(LINE_INTERNED_MAX_CHARS)}`
    expect(internLine(long)).toBe(long)
    expect(internedLines()).toBe(before)
  })
})

describe("a 101's Sec-WebSocket-Accept", () => {
  it('is one line for every WebSocket, made again from the key when shown: an upgrade adds only its key', async () => {
    // Start the table over, so that it does not start over in the middle of this test.
    while (internedLines() !== 1) internLine(`X-Filler: ${Math.random()}`)
    const upgrade = () => exchange(upgradeRequest('/ws?room=accepts&name=same'))
    const first = await upgrade()
    const afterFirst = internedLines()
    const second = await upgrade()
    expect(internedLines()).toBe(afterFirst + 1)
    const shown = server.app.wire.handshakes().websocket!
    expect(first.find((line) => line.startsWith('Sec-WebSocket-Accept'))).not.toEqual(
      second.find((line) => line.startsWith('Sec-WebSocket-Accept')),
    )
    expect(lines(shown.response)).toEqual(second)
  })
})
