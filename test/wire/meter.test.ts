// The wire meter's figures for exchanges whose exact cost is known from the
// specs: RFC 6455 frame headers, HTTP/1.1 chunked framing, SSE fields,
// Socket.IO packet prefixes.
import { createHash } from 'node:crypto'
import { connect, type Socket } from 'node:net'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { once } from 'node:events'
import type { AddressInfo } from 'node:net'
import WebSocket, { WebSocketServer } from 'ws'
import { Edge } from '../../server/edge.ts'
import { WireMeter } from '../../server/wire/meter.ts'
import { io } from 'socket.io-client'
import type { WireTally } from '../../server/wire/meter.ts'
import { createClient, messagesIn, waitForText } from '../support/clients.ts'
import { parseFrames } from '../support/raw.ts'
import { startServer, type RunningServer } from '../support/server.ts'
import { until } from '../support/wait.ts'

let server: RunningServer
beforeEach(async () => {
  // Heartbeats far away so that no ping lands inside a measured window.
  server = await startServer({ wsHeartbeatMs: 600_000, sseHeartbeatMs: 600_000 })
})
afterEach(async () => {
  await server.close()
})

function tally(transport: string): WireTally {
  return (
    server.app.wire.snapshot().transports[transport] ??
    ({ bytesIn: 0, bytesOut: 0, payloadIn: 0, payloadOut: 0, overheadIn: 0, overheadOut: 0 } as WireTally)
  )
}

function delta(before: WireTally, after: WireTally) {
  return {
    bytesIn: after.bytesIn - before.bytesIn,
    bytesOut: after.bytesOut - before.bytesOut,
    payloadIn: after.payloadIn - before.payloadIn,
    payloadOut: after.payloadOut - before.payloadOut,
  }
}

/** Raw TCP, so the test knows every byte it sent and received. */
async function rawExchange(
  port: number,
  request: string,
  until: (received: string) => boolean,
): Promise<{ socket: Socket; received: () => Buffer }> {
  const socket = connect(port, '127.0.0.1')
  const chunks: Buffer[] = []
  socket.on('data', (chunk) => chunks.push(chunk))
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()))
  socket.write(request)
  const received = () => Buffer.concat(chunks)
  await waitUntil(() => until(received().toString()))
  return { socket, received }
}

async function waitUntil(condition: () => boolean): Promise<void> {
  await until(() => condition() || undefined, 'raw bytes')
}

describe('the wire meter', () => {
  it('counts a server-to-client WebSocket frame with a 100-byte payload as exactly 2 bytes of overhead', async () => {
    // Every chat message of the protocol is longer than 125 bytes, so this
    // frame comes from a bare ws server wired through the same edge and meter,
    // to a client that speaks raw TCP and so sees every byte the server wrote.
    const meter = new WireMeter(() => 'websocket')
    const edge = new Edge(meter)
    const bare = edge.createServer((_req, res) => res.end())
    const wss = new WebSocketServer({ noServer: true })
    edge.claimUpgrades(
      () => true,
      (req, socket, head) => wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws)),
    )
    await new Promise<void>((resolve) => bare.listen(0, '127.0.0.1', resolve))
    const port = (bare.address() as AddressInfo).port
    const connected = once(wss, 'connection') as Promise<[WebSocket]>
    const upgrade =
      'GET / HTTP/1.1\r\nHost: lab\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n'
    const { socket, received } = await rawExchange(port, upgrade, (r) => r.includes('\r\n\r\n'))
    const [serverSide] = await connected
    const afterHandshake = received().length
    expect(received().toString()).toMatch(/^HTTP\/1\.1 101 /)

    const before = meter.snapshot().transports.websocket!
    const payload = 'p'.repeat(100)
    // What a transport does when it frames a message: say how many of the bytes are payload.
    meter.recorder('websocket').sent(Buffer.byteLength(payload))
    serverSide.send(payload)
    await waitUntil(() => received().length - afterHandshake >= 2 + 100)
    const frame = received().subarray(afterHandshake)
    const after = meter.snapshot().transports.websocket!

    // RFC 6455 5.2, as the client got it: FIN + text opcode, then no mask bit and a 7-bit length, then the payload.
    expect(frame[0]).toBe(0x81)
    expect(frame[1]).toBe(100)
    const headerBytes = 2
    expect(frame.subarray(headerBytes).toString()).toBe(payload)
    expect(frame.length).toBe(headerBytes + 100)
    // The meter saw exactly the bytes the client received, and calls all but the payload overhead.
    expect(after.bytesOut - before.bytesOut).toBe(frame.length)
    expect(after.overheadOut - before.overheadOut).toBe(headerBytes)
    socket.destroy()
    wss.close()
    await new Promise((resolve) => bare.close(resolve))
  })

  it('counts a chat message frame (126 bytes to 64 KiB of payload) as 4 bytes of overhead', async () => {
    const ws = createClient('websocket', server.url, 'w')
    await ws.join('lobby')
    const before = tally('websocket')
    await createClient('short-polling', server.url, 'p').send('lobby', 'a chat message')
    await waitForText(ws, 'lobby', 'a chat message')
    const d = delta(before, tally('websocket'))
    expect(d.payloadOut).toBeGreaterThanOrEqual(126)
    expect(d.bytesOut - d.payloadOut).toBe(4)
    await ws.close()
  })

  it('counts a client-to-server WebSocket frame as 6 bytes of overhead: 2 of header, 4 of mask', async () => {
    const socket = new WebSocket(`${server.url.replace('http', 'ws')}/ws?room=lobby&name=m`)
    await new Promise((resolve) => socket.once('message', resolve))
    const base = JSON.stringify({ type: 'send', room: 'lobby', text: '' })
    const frame = JSON.stringify({ type: 'send', room: 'lobby', text: 'z'.repeat(100 - base.length) })
    expect(Buffer.byteLength(frame)).toBe(100)
    const before = tally('websocket')
    socket.send(frame)
    await new Promise((resolve) => socket.once('message', resolve))
    const d = delta(before, tally('websocket'))
    expect(d.payloadIn).toBe(100)
    expect(d.bytesIn).toBe(106)
    socket.close()
  })

  it('counts every byte of a short poll: the request line and headers in, the status line, headers and batch envelope out', async () => {
    await createClient('short-polling', server.url, 'seed').send('lobby', 'hello')
    const request = 'GET /poll?room=lobby HTTP/1.1\r\nHost: lab\r\nConnection: close\r\n\r\n'
    const before = tally('short-polling')
    const { received, socket } = await rawExchange(
      server.port,
      request,
      (r) => r.includes('"entries"') && r.endsWith(']}'),
    )
    await waitUntil(() => socket.destroyed)
    const d = delta(before, tally('short-polling'))
    expect(d.bytesIn).toBe(Buffer.byteLength(request))
    expect(d.payloadIn).toBe(0)
    expect(d.bytesOut).toBe(received().length)
    const body = JSON.parse(received().toString().split('\r\n\r\n')[1]!) as { entries: unknown[] }
    expect(d.payloadOut).toBe(Buffer.byteLength(JSON.stringify(body.entries[0])))
  })

  it('counts an SSE event as payload plus its id and data fields and the chunked framing around it', async () => {
    const request = 'GET /sse?room=lobby&name=raw HTTP/1.1\r\nHost: lab\r\nAccept: text/event-stream\r\n\r\n'
    const { received, socket } = await rawExchange(server.port, request, (r) => r.includes('event: welcome'))
    const before = tally('sse')
    const sizeBefore = received().length
    await createClient('short-polling', server.url, 'poster').send('lobby', 'over sse')
    await waitUntil(() => received().toString().includes('over sse'))
    const chunk = received().subarray(sizeBefore).toString()
    const d = delta(before, tally('sse'))
    expect(d.bytesOut).toBe(Buffer.byteLength(chunk))
    const event = chunk.slice(chunk.indexOf('\r\n') + 2, chunk.lastIndexOf('\r\n'))
    const json = event.slice(event.indexOf('data: ') + 6, event.lastIndexOf('\n\n'))
    expect(d.payloadOut).toBe(Buffer.byteLength(json))
    const { id } = JSON.parse(json) as { id: string }
    const fields = `id: ${id}\ndata: `.length + 2
    const chunkFraming = Buffer.byteLength(event).toString(16).length + 4
    expect(d.bytesOut - d.payloadOut).toBe(fields + chunkFraming)
    socket.destroy()
  })

  it('counts a Socket.IO event as the Engine.IO and Socket.IO prefix, the event name and the frame header', async () => {
    const socket = io(server.url, { forceNew: true, transports: ['websocket'], auth: { protocol: 'lab', name: 'sio' } })
    await new Promise((resolve) => socket.once('welcome', resolve))
    const got = new Promise<unknown>((resolve) => socket.once('message', resolve))
    const before = tally('socket.io')
    await createClient('short-polling', server.url, 'poster').send('lobby', 'over socket.io')
    const entry = await got
    const d = delta(before, tally('socket.io'))
    const payload = Buffer.byteLength(JSON.stringify(entry))
    expect(d.payloadOut).toBe(payload)
    const packet = `42["message",`.length + payload + `]`.length
    const frameHeader = packet < 126 ? 2 : 4
    expect(d.bytesOut - d.payloadOut).toBe(`42["message",]`.length + frameHeader)
    socket.disconnect()
  })

  it("counts a Socket.IO event's arguments as payload in, the packet prefix as overhead", async () => {
    const socket = io(server.url, {
      forceNew: true,
      transports: ['websocket'],
      auth: { protocol: 'lab', name: 'sender' },
    })
    await new Promise((resolve) => socket.once('welcome', resolve))
    const body = { room: 'lobby', text: 'counted on the way in ✓' }
    const before = tally('socket.io')
    socket.emit('send', body)
    await new Promise((resolve) => socket.once('message', resolve))
    const d = delta(before, tally('socket.io'))
    expect(d.payloadIn).toBe(Buffer.byteLength(JSON.stringify(body)))
    const packet = Buffer.byteLength(`42["send",${JSON.stringify(body)}]`)
    expect(d.bytesIn).toBe(packet + 6 + (packet > 125 ? 2 : 0))
    socket.disconnect()
  })

  it("counts every byte of a /ws connection's opening as the WebSocket's: its request head in, the 101 and its frames out", async () => {
    const request =
      'GET /ws?room=opening&name=counted HTTP/1.1\r\nHost: lab\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n'
    const before = tally('websocket')
    const { socket, received } = await rawExchange(server.port, request, (r) => r.includes('"welcome"'))
    // Settled when the client holds every byte the meter counted (the welcome may be followed by the joiner's own notice).
    const d = await until(() => {
      const now = delta(before, tally('websocket'))
      return now.bytesOut === received().length ? now : undefined
    }, 'the meter and the client to agree')
    const head = received().toString('latin1')
    const headLength = head.indexOf('\r\n\r\n') + 4
    expect(head).toMatch(/^HTTP\/1\.1 101 /)
    expect(d.bytesIn).toBe(Buffer.byteLength(request))
    expect(d.payloadIn).toBe(0)
    const frames = parseFrames(received().subarray(headLength))
    const payload = frames.reduce((bytes, frame) => bytes + frame.payload.length, 0)
    expect(JSON.parse(frames[0]!.payload.toString())).toMatchObject({ type: 'welcome', room: 'opening' })
    // RFC 6455 5.2: a server frame's header is 2 bytes under 126 bytes of payload, 4 up to 64 KiB.
    const frameHeaders = frames.reduce((bytes, frame) => bytes + (frame.payload.length < 126 ? 2 : 4), 0)
    expect(received().length).toBe(headLength + frameHeaders + payload)
    expect(d.payloadOut).toBe(payload)
    expect(d.bytesOut - d.payloadOut).toBe(headLength + frameHeaders)
    socket.destroy()
  })

  it('keeps the 101 handshake, whose Sec-WebSocket-Accept is SHA-1 of the key and the RFC 6455 GUID', async () => {
    const ws = createClient('websocket', server.url, 'hs')
    await ws.join('lobby')
    const handshakes = (await fetch(`${server.url}/api/wire/handshakes`).then((r) => r.json())) as Record<
      string,
      {
        request: { startLine: string; headers: [string, string][] }
        response: { startLine: string; headers: [string, string][] }
      }
    >
    const hs = handshakes.websocket!
    expect(hs.request.startLine).toMatch(/^GET \/ws\?.* HTTP\/1\.1$/)
    expect(hs.response.startLine).toBe('HTTP/1.1 101 Switching Protocols')
    const header = (side: { headers: [string, string][] }, name: string) =>
      side.headers.find(([k]) => k.toLowerCase() === name)?.[1]
    const key = header(hs.request, 'sec-websocket-key')!
    const accept = createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64')
    expect(header(hs.response, 'sec-websocket-accept')).toBe(accept)
    expect(header(hs.response, 'upgrade')).toBe('websocket')
    await ws.close()
  })

  it('keeps the Socket.IO upgrade and the last HTTP exchange of the HTTP transports', async () => {
    const sio = createClient('socket.io', server.url, 'hs2')
    await sio.join('lobby')
    const poll = createClient('short-polling', server.url, 'hs3')
    await poll.join('lobby')
    await until(() => server.app.wire.handshakes()['socket.io']?.upgrade, 'the Socket.IO upgrade')
    const handshakes = server.app.wire.handshakes()
    expect(handshakes['socket.io']!.response!.startLine).toBe('HTTP/1.1 101 Switching Protocols')
    expect(handshakes['short-polling']!.request.startLine).toMatch(/^(GET|POST) \/poll/)
    expect(handshakes['short-polling']!.response!.startLine).toBe('HTTP/1.1 200 OK')
    await sio.close()
    await poll.close()
  })

  it('reports connections open, held requests and HTTP requests per transport, live', async () => {
    const sse = createClient('sse', server.url, 'held')
    await sse.join('lobby')
    const lp = createClient('long-polling', server.url, 'lp')
    await lp.join('lobby')
    await until(() => tally('long-polling').requestsHeld === 1 || undefined, 'a held long poll')
    const live = (await fetch(`${server.url}/api/wire`).then((r) => r.json())) as {
      transports: Record<string, WireTally>
    }
    expect(live.transports.sse).toMatchObject({ requestsHeld: 1, connectionsOpen: 1 })
    expect(live.transports['long-polling']!.requestsHeld).toBe(1)
    expect(live.transports['long-polling']!.httpRequests).toBeGreaterThanOrEqual(2)
    await sse.close()
    await lp.close()
    await until(
      () => (tally('sse').requestsHeld === 0 && tally('long-polling').requestsHeld === 0) || undefined,
      'held requests released',
    )

    expect(messagesIn(sse, 'lobby')).toEqual([])
  })

  it('exposes the same figures in Prometheus format at /metrics', async () => {
    const ws = createClient('websocket', server.url, 'prom')
    await ws.join('lobby')
    await ws.send('lobby', 'for prometheus')
    await waitForText(ws, 'lobby', 'for prometheus')
    const res = await fetch(`${server.url}/metrics`)
    expect(res.headers.get('content-type')).toMatch(/text\/plain/)
    const text = await res.text()
    expect(text).toMatch(/# TYPE lab_wire_bytes_total counter/)
    const line = text
      .split('\n')
      .find((l) => l.startsWith('lab_wire_bytes_total{transport="websocket",direction="in",kind="payload"}'))
    expect(Number(line?.split(' ')[1])).toBeGreaterThan(0)
    expect(text).toMatch(/lab_connections_open\{transport="websocket"\} 1/)
    expect(text).toMatch(/lab_messages_total\{transport="websocket",direction="out"\}/)
    await ws.close()
  })
})
