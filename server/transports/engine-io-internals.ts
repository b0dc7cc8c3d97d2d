// What the Socket.IO transport reads from engine.io beyond its public API, in
// one place, so that an upgrade of engine.io has one file to check against.
// Each was verified against engine.io 6.6.13 (with ws 8.23.0 under it), and
// test/transports/engine-io-internals.test.ts fails when one of them moves:
// it checks each on real engine.io objects, with real clients.
import type { IncomingMessage } from 'node:http'
import type { Socket } from 'node:net'
import type { Server as Engine } from 'engine.io'
import type { WebSocketServer } from 'ws'

/** engine.io's Socket (socket.conn in Socket.IO), as this server reads it; id, writeBuffer and transport.socket are private in its typings. */
export interface EngineSocket {
  /** The session id (sid) the client's later requests carry; private in engine.io's typings. */
  id: string
  readyState: string
  close(discard?: boolean): void
  request: IncomingMessage
  /** Packets not yet handed to the transport: a polling client that stopped asking, a WebSocket still writing the last ones. */
  writeBuffer: Array<{ data?: unknown }>
  /** Under the websocket transport, socket is the ws WebSocket. */
  transport: { name: string; socket?: { bufferedAmount: number; terminate(): void; _socket?: Socket } }
  once(event: 'close', listener: () => void): void
}

export function engineSocket(conn: unknown): EngineSocket {
  return conn as EngineSocket
}

/**
 * The 101 engine.io writes, line by line. engine.io answers upgrades with a
 * ws WebSocketServer of its own, kept in the private `engine.ws`, and adds
 * its headers to the 101 from that server's 'headers' event (ws' documented
 * way to edit a handshake): a listener added here, after engine.io's, sees
 * the lines as they go out. engine.io's own 'headers' event carries only the
 * headers it adds, not the 101. Without `engine.ws` the inspector would show
 * no Socket.IO 101; nothing else depends on it.
 */
export function onUpgradeResponse(engine: Engine, listener: (lines: string[], req: IncomingMessage) => void): void {
  ;(engine as unknown as { ws?: WebSocketServer }).ws?.on('headers', listener)
}

/**
 * Bytes waiting for one client, for the slow-consumer policy: packets
 * Engine.IO has not handed to its transport yet, plus what the WebSocket
 * underneath has buffered. Neither has a public reading in engine.io. The
 * packet queue is counted as it grows, not summed again on every call;
 * engine.io replaces the array when it flushes. An object, not a closure:
 * a connection keeps it for as long as it lives.
 */
export class EngineBuffered {
  private readonly conn: EngineSocket
  private queue: unknown[] | undefined
  private counted = 0
  private queued = 0

  constructor(conn: EngineSocket) {
    this.conn = conn
  }

  read(): number {
    const packets = this.conn.writeBuffer
    if (packets !== this.queue || packets.length < this.counted) {
      this.queue = packets
      this.counted = 0
      this.queued = 0
    }
    for (; this.counted < packets.length; this.counted++) {
      const data = packets[this.counted]!.data
      this.queued += typeof data === 'string' ? data.length : data instanceof Uint8Array ? data.byteLength : 0
    }
    const ws = this.conn.transport.name === 'websocket' ? this.conn.transport.socket : undefined
    return this.queued + (ws?.bufferedAmount ?? 0)
  }
}

/**
 * Drops a connection whose reader stopped. close(true) discards the queue but
 * closes a WebSocket politely, which waits for a close frame that a stopped
 * reader never sends; engine.io has no public way to cut the socket under
 * its transport, so this terminates the ws WebSocket itself.
 */
export function dropEngineSocket(conn: EngineSocket): void {
  if (conn.readyState === 'closed') return
  conn.close(true)
  conn.transport.socket?.terminate()
}

/** The TCP socket under a WebSocket transport (ws keeps it in the private `_socket`); none while polling. */
export function engineTcp(conn: EngineSocket): Socket | undefined {
  return conn.transport.name === 'websocket' ? conn.transport.socket?._socket : undefined
}
