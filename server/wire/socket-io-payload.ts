// Socket.IO's payload on the wire meter, for the lab's transport and the
// bench's bare baseline alike: the JSON of an event's arguments inside each
// packet. In, as a packet arrives; out, when engine.io flushes a connection's
// packets to its transport (its documented 'flush' event: a polling response,
// a WebSocket frame), never when an event is emitted, so packets buffered for
// a client that stopped polling, or dropped with one that is gone, never
// count. A connect or an ack carries no event arguments and counts nothing.
import type { WireRecorder } from './meter.ts'

interface EnginePacket {
  type: string
  data?: unknown
}

/** What this needs of an engine.io Socket (its public events). */
interface EngineConnection {
  on(event: 'packet', listener: (packet: EnginePacket) => void): unknown
  on(event: 'flush', listener: (packets: EnginePacket[]) => void): unknown
}

/**
 * The bytes of an event's arguments inside a Socket.IO packet such as
 * 2["send",{"room":"lobby","text":"hi"}] (type, optional namespace and ack
 * id, then the JSON array): everything after the event name, less the
 * closing bracket.
 */
export function argumentBytes(packet: string): number {
  const open = packet.indexOf('["')
  if (open < 0) return 0
  const nameEnd = packet.indexOf('"', open + 2)
  if (nameEnd < 0 || packet[nameEnd + 1] !== ',') return 0
  return Buffer.byteLength(packet) - (nameEnd + 2) - 1
}

// A room broadcast hands every connection the same encoded string: its size is measured once.
let lastPacket = ''
let lastPacketBytes = 0
function cachedArgumentBytes(packet: string): number {
  if (packet !== lastPacket) {
    lastPacket = packet
    lastPacketBytes = argumentBytes(packet)
  }
  return lastPacketBytes
}

/** Counts one engine.io connection's Socket.IO payload, both ways, on `recorder`. */
export function meterSocketIoPayload(conn: EngineConnection, recorder: WireRecorder): void {
  conn.on('packet', (packet) => {
    if (packet.type !== 'message' || typeof packet.data !== 'string') return
    const bytes = argumentBytes(packet.data)
    if (bytes > 0) recorder.received(bytes)
  })
  conn.on('flush', (packets) => {
    let bytes = 0
    let messages = 0
    for (const packet of packets) {
      if (packet.type !== 'message' || typeof packet.data !== 'string') continue
      const size = cachedArgumentBytes(packet.data)
      if (size === 0) continue
      bytes += size
      messages++
    }
    if (messages > 0) recorder.sent(bytes, messages)
  })
}
