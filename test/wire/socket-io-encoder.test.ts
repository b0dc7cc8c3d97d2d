// Socket.IO's encoder, extended: an entry the hub has already serialized goes
// into the packet as that JSON, and the packet is byte for byte what
// socket.io-parser itself writes.
import { describe, expect, it } from 'vitest'
import * as parser from 'socket.io-parser'
import { encode } from '../../server/wire/payload.ts'
import { entryParser } from '../../server/wire/socket-io-encoder.ts'

const standard = new parser.Encoder()
const ours = new entryParser.Encoder()

function entry() {
  return {
    type: 'message',
    room: 'r',
    seq: 3,
    epoch: 'e',
    id: 'e-3',
    from: { clientId: 'c', name: 'ann' },
    text: 'hé "x"',
  }
}

const event = (data: unknown[], nsp = '/'): parser.Packet => ({ type: parser.PacketType.EVENT, nsp, data })

describe("the Socket.IO encoder for the hub's entries", () => {
  it('writes exactly what socket.io-parser writes, for the protocol and the class notes alike', () => {
    for (const data of [
      ['message', entry()],
      ['server_message', 'ann joined room r', entry()],
    ]) {
      const fresh = data.map((d) => (typeof d === 'object' ? entry() : d))
      encode(fresh.at(-1) as object)
      expect(ours.encode(event(fresh))).toEqual(standard.encode(event(data)))
      expect(ours.encode(event(fresh, '/admin'))).toEqual(standard.encode(event(data, '/admin')))
    }
  })

  it('carries the JSON the hub made instead of serializing the entry again', () => {
    const message = entry()
    const made = encode(message).json
    message.text = 'changed after it was encoded'
    expect(ours.encode(event(['message', message]))).toEqual([`2["message",${made}]`])
  })

  it('leaves every other packet to socket.io-parser: an entry nobody encoded, an ack, an object of its own', () => {
    const packets = [
      event(['message', entry()]),
      { type: parser.PacketType.ACK, nsp: '/', id: 4, data: [{ ok: true }] },
      event(['welcome', { type: 'welcome' }]),
    ]
    for (const packet of packets) expect(ours.encode(packet)).toEqual(standard.encode(packet))
  })
})
