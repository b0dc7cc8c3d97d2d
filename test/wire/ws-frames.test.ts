// The frame reader behind the WebSocket payload under compression, checked on
// frames laid out as RFC 6455 section 5.2 says, whole and a byte at a time.
import { describe, expect, it } from 'vitest'
import { FrameLog } from '../../server/wire/ws-frames.ts'

type Options = { opcode: number; fin?: boolean; mask?: boolean; rsv1?: boolean }
function frame(payload: Buffer, { opcode, fin = true, mask = false, rsv1 = false }: Options): Buffer {
  const n = payload.length
  const length = n < 126 ? Buffer.alloc(0) : n < 65536 ? Buffer.alloc(2) : Buffer.alloc(8)
  if (n >= 126 && n < 65536) length.writeUInt16BE(n)
  if (n >= 65536) length.writeBigUInt64BE(BigInt(n))
  const first = (fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | opcode
  const second = (mask ? 0x80 : 0) | (n < 126 ? n : n < 65536 ? 126 : 127)
  // The mask is all zeros, so the payload bytes stay as they are: the reader never looks inside.
  return Buffer.concat([Buffer.from([first, second]), length, mask ? Buffer.alloc(4) : Buffer.alloc(0), payload])
}

function countAll(bytes: Buffer, oneByteAtATime = false) {
  const log = new FrameLog('')
  const total = { payload: 0, messages: 0 }
  const chunks = oneByteAtATime ? [...bytes].map((b) => Buffer.from([b])) : [bytes]
  for (const chunk of chunks) {
    const { payload, messages } = log.read(chunk)
    total.payload += payload
    total.messages += messages
  }
  return total
}

describe("a frame log's reader", () => {
  const small = frame(Buffer.alloc(100, 'a'), { opcode: 1 })
  const medium = frame(Buffer.alloc(300, 'b'), { opcode: 1, mask: true, rsv1: true })
  const large = frame(Buffer.alloc(70_000, 'c'), { opcode: 2 })
  const ping = frame(Buffer.from('are you there'), { opcode: 9 })

  it('counts the payload of data frames with 7-, 16- and 64-bit lengths, masked or not, and nothing of their headers', () => {
    expect(small.length - 100).toBe(2)
    expect(medium.length - 300).toBe(8)
    expect(large.length - 70_000).toBe(10)
    expect(countAll(Buffer.concat([small, medium, large]))).toEqual({ payload: 70_400, messages: 3 })
  })

  it('reads the same stream fed a byte at a time', () => {
    expect(countAll(Buffer.concat([small, medium, ping]), true)).toEqual({ payload: 400, messages: 2 })
  })

  it('counts a ping as no payload and a fragmented message once, when its last frame ends', () => {
    const first = frame(Buffer.alloc(10, 'x'), { opcode: 1, fin: false })
    const last = frame(Buffer.alloc(5, 'y'), { opcode: 0 })
    expect(countAll(Buffer.concat([ping, first]))).toEqual({ payload: 10, messages: 0 })
    expect(countAll(Buffer.concat([first, ping, last]))).toEqual({ payload: 15, messages: 1 })
  })

  it('stops counting at a byte that cannot start a frame, rather than counting garbage', () => {
    expect(countAll(Buffer.concat([small, Buffer.from([0x83, 0x05]), small]))).toEqual({ payload: 100, messages: 1 })
  })
})
