// permessage-deflate on the raw WebSocket: the payload is the compressed data
// the frames carried, the plain size is the JSON before compression, and
// plain - payload is what compression saved. So 0 <= payload <= bytes holds
// with compression on, off, chosen per connection, and mixed in one room.
import { afterEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import type { WireTally } from '../../server/wire/types.ts'
import { startServer, type RunningServer } from '../support/server.ts'
import { until } from '../support/wait.ts'

let server: RunningServer
const sockets: WebSocket[] = []
afterEach(async () => {
  for (const ws of sockets.splice(0)) ws.terminate()
  await server?.close()
})

interface Peer {
  ws: WebSocket
  texts: string[]
}

/** A ws client in `room`; `compress` is the ?compress= it asks for, if any. ws offers deflate by default. */
async function peer(room: string, name: string, compress?: '0' | '1'): Promise<Peer> {
  const query = new URLSearchParams({ room, name, ...(compress ? { compress } : {}) })
  const ws = new WebSocket(`${server.url.replace('http', 'ws')}/ws?${query}`)
  sockets.push(ws)
  const texts: string[] = []
  ws.on('message', (data) => {
    const m = JSON.parse((data as Buffer).toString()) as { type: string; text?: string }
    if (m.type === 'message') texts.push(m.text!)
  })
  await new Promise((resolve) => ws.once('message', resolve))
  return { ws, texts }
}

const tally = (): WireTally => server.app.wire.snapshot().transports.websocket!
const within = (t: WireTally) =>
  t.payloadIn >= 0 && t.payloadIn <= t.bytesIn && t.payloadOut >= 0 && t.payloadOut <= t.bytesOut
/** A message that compresses well, as chat often does: the same words again and again. */
const chatty = (i: number) => `message ${i}: ` + 'the quick brown fox jumps over the lazy dog; '.repeat(40)

async function sendAll(from: Peer, to: Peer[], room: string, count: number): Promise<void> {
  for (let i = 0; i < count; i++) from.ws.send(JSON.stringify({ type: 'send', room, text: chatty(i) }))
  await until(() => to.every((p) => p.texts.length >= count) || undefined, `${count} messages delivered`)
}

describe('WebSocket compression on the wire meter', () => {
  it('counts the compressed bytes the frames carried as payload, and the JSON before compression beside them', async () => {
    server = await startServer({ messageRate: 0 })
    const a = await peer('zip', 'a', '1')
    const b = await peer('zip', 'b', '1')
    expect(a.ws.extensions).toContain('permessage-deflate')
    const before = tally()
    await sendAll(a, [a, b], 'zip', 5)
    const after = tally()
    const plainIn = after.plainIn - before.plainIn
    const payloadIn = after.payloadIn - before.payloadIn
    const bytesIn = after.bytesIn - before.bytesIn
    // Five client frames: each a masked header of 8 bytes (126 to 65535 bytes of data) or 6, then the data.
    expect(plainIn).toBeGreaterThan(5 * 1800)
    expect(payloadIn).toBeLessThan(plainIn / 5)
    expect(bytesIn - payloadIn).toBeGreaterThanOrEqual(5 * 6)
    expect(bytesIn - payloadIn).toBeLessThanOrEqual(5 * 8)
    expect(after.payloadOut - before.payloadOut).toBeLessThan((after.plainOut - before.plainOut) / 5)
    expect(after.overheadOut).toBeGreaterThan(before.overheadOut)
    expect(within(after)).toBe(true)
  })

  it('keeps payload equal to the plain size without compression, and within the bytes', async () => {
    server = await startServer({ messageRate: 0 })
    const a = await peer('plain', 'a')
    expect(a.ws.extensions).toBe('')
    const before = tally()
    await sendAll(a, [a], 'plain', 3)
    const after = tally()
    expect(after.payloadIn - before.payloadIn).toBe(after.plainIn - before.plainIn)
    expect(after.payloadOut - before.payloadOut).toBe(after.plainOut - before.plainOut)
    expect(within(after)).toBe(true)
  })

  it('honours ?compress=0 on a server with WS_COMPRESSION on, and counts each connection its own way in one room', async () => {
    server = await startServer({ messageRate: 0, wsCompression: true })
    const zipped = await peer('mixed', 'zipped')
    const plain = await peer('mixed', 'plain', '0')
    expect(zipped.ws.extensions).toContain('permessage-deflate')
    expect(plain.ws.extensions).toBe('')
    const before = tally()
    await sendAll(plain, [zipped, plain], 'mixed', 4)
    const after = tally()
    const plainOut = after.plainOut - before.plainOut
    const payloadOut = after.payloadOut - before.payloadOut
    // The same JSON went to both: the plain receiver's copy counts whole, the zipped one's compressed.
    expect(payloadOut).toBeGreaterThan(plainOut / 2)
    expect(payloadOut).toBeLessThan(plainOut)
    // Sent by the plain client: nothing inbound was compressed.
    expect(after.payloadIn - before.payloadIn).toBe(after.plainIn - before.plainIn)
    expect(within(after)).toBe(true)
  })
})
