// The Socket.IO transport reads a few things engine.io keeps private
// (server/transports/engine-io-internals.ts). Each is checked here on a real
// engine.io server with real clients, so that an engine.io release that moves
// one fails here, by name, instead of quietly turning off the inspector's 101
// (and its following a session to its upgrade) or the slow-consumer policy.
import { createServer, type Server } from 'node:http'
import { Socket, type AddressInfo } from 'node:net'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { Server as Engine, type Socket as RawEngineSocket } from 'engine.io'
import WebSocket from 'ws'
import {
  dropEngineSocket,
  EngineBuffered,
  engineSocket,
  engineTcp,
  onUpgradeResponse,
} from '../../server/transports/engine-io-internals.ts'
import { rawWebSocket } from '../support/raw.ts'
import { until } from '../support/wait.ts'

let http: Server
let engine: Engine
let port: number
/** Client sockets to cut after each test, so that a failed one does not leave a paused reader holding the server open. */
let clients: Array<{ destroy(): void }> = []
beforeEach(async () => {
  http = createServer()
  engine = new Engine()
  engine.attach(http)
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve))
  port = (http.address() as AddressInfo).port
})
afterEach(async () => {
  for (const client of clients) client.destroy()
  clients = []
  engine.close()
  http.closeAllConnections()
  await new Promise((resolve) => http.close(resolve))
})

const nextConnection = () => new Promise<RawEngineSocket>((resolve) => engine.once('connection', resolve))

describe('engine.io, beyond its public API', () => {
  it('writes its 101 through a ws server in engine.ws, whose "headers" listeners see the headers engine.io adds', async () => {
    // engine.io's public hook for its response headers: it copies them into the 101 from engine.ws' 'headers' event.
    engine.on('headers', (headers: Record<string, string>) => {
      headers['X-Added-By'] = 'engine.io'
    })
    let seen: string[] = []
    onUpgradeResponse(engine, (lines) => {
      seen = [...lines]
    })
    const client = new WebSocket(`ws://127.0.0.1:${port}/engine.io/?EIO=4&transport=websocket`)
    const response = await new Promise<import('node:http').IncomingMessage>((resolve) =>
      client.once('upgrade', resolve),
    )
    expect(response.headers['x-added-by']).toBe('engine.io')
    expect(seen[0]).toBe('HTTP/1.1 101 Switching Protocols')
    expect(seen).toContain('X-Added-By: engine.io')
    client.close()
  })

  it("names a session by its id, queues a polling client's packets in writeBuffer until it asks, and EngineBuffered counts their bytes", async () => {
    const connected = nextConnection()
    const base = `http://127.0.0.1:${port}/engine.io/?EIO=4&transport=polling`
    const open = await (await fetch(base)).text()
    const sid = (JSON.parse(open.slice(1)) as { sid: string }).sid
    const raw = await connected
    const conn = engineSocket(raw)
    // The sid every later request of the session carries (an upgrade's too) is the Socket's id.
    expect(conn.id).toBe(sid)
    const counted = new EngineBuffered(conn)
    const buffered = () => counted.read()
    expect(buffered()).toBe(0)
    raw.send('hello')
    raw.send('world!')
    expect(conn.writeBuffer.length).toBe(2)
    expect(buffered()).toBe('hello'.length + 'world!'.length)
    // The client asks: engine.io hands the queue to the transport and starts a new one.
    const polled = await (await fetch(`${base}&sid=${sid}`)).text()
    expect(polled).toContain('4hello')
    expect(buffered()).toBe(0)
    raw.close()
  })

  it('keeps the ws WebSocket in transport.socket: what it buffers for a stopped reader is counted, and dropEngineSocket cuts it', async () => {
    const connected = nextConnection()
    const reader = await rawWebSocket(port, '/engine.io/?EIO=4&transport=websocket')
    clients.push(reader.socket)
    const raw = await connected
    const conn = engineSocket(raw)
    expect(conn.transport.name).toBe('websocket')
    expect(conn.transport.socket).toBeInstanceOf(WebSocket)
    const counted = new EngineBuffered(conn)
    const buffered = () => counted.read()

    // The reader stops: once the kernel's buffers are full, ws holds what is left.
    reader.socket.pause()
    const chunk = 'x'.repeat(256 * 1024)
    await until(
      () => {
        raw.send(chunk)
        return conn.transport.socket!.bufferedAmount > 0 || undefined
      },
      'ws to buffer for the stopped reader',
      10_000,
    )
    const queued = conn.writeBuffer.reduce((bytes, packet) => bytes + String(packet.data).length, 0)
    expect(buffered()).toBe(queued + conn.transport.socket!.bufferedAmount)

    // A polite close would wait for a close frame this reader never sends; dropping it ends the TCP connection now.
    dropEngineSocket(conn)
    reader.socket.resume()
    await until(() => reader.closed() || undefined, "the reader's connection to end")
    expect(conn.readyState).toBe('closed')
  })

  it("finds the TCP socket under a WebSocket in ws' _socket, and none while a session polls", async () => {
    const connected = nextConnection()
    const reader = await rawWebSocket(port, '/engine.io/?EIO=4&transport=websocket')
    clients.push(reader.socket)
    const conn = engineSocket(await connected)
    const tcp = engineTcp(conn)
    expect(tcp).toBeInstanceOf(Socket)
    expect(tcp!.remotePort).toBe(reader.socket.localPort)

    const polled = nextConnection()
    await fetch(`http://127.0.0.1:${port}/engine.io/?EIO=4&transport=polling`)
    expect(engineTcp(engineSocket(await polled))).toBeUndefined()
  })
})
