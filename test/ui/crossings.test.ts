// The Cluster view's list of messages as a unit: one row per message however
// many panels got it, the instance it was sent on and the one that delivered
// it to each panel, nothing kept from a server alone.
import { describe, expect, it } from 'vitest'
import type { ChatMessage } from '../../server/core/protocol.ts'
import { CROSSINGS_KEPT, CrossingLog, crossed } from '../../ui/src/state/crossings.ts'

const message = (seq: number, instance: string | undefined): ChatMessage => ({
  type: 'message',
  room: 'lobby',
  seq,
  epoch: 'e1',
  id: `m${seq}`,
  from: { clientId: 'c1', name: 'Ada', transport: 'websocket', ...(instance ? { instance } : {}) },
  text: `message ${seq}`,
  serverAt: 0,
})

describe('CrossingLog', () => {
  it('keeps one row per message, with the instance that delivered it to each panel', () => {
    const log = new CrossingLog()
    log.add('websocket', message(1, 'a'), 'a')
    log.add('sse', message(1, 'a'), 'b')
    expect(log.rows).toHaveLength(1)
    expect(log.rows[0]).toMatchObject({ seq: 1, name: 'Ada', sentOn: 'a', deliveredBy: { websocket: 'a', sse: 'b' } })
    expect(crossed(log.rows[0]!, 'sse')).toBe(true)
    expect(crossed(log.rows[0]!, 'websocket')).toBe(false)
    expect(crossed(log.rows[0]!, 'socket.io')).toBe(false)
  })

  it('keeps nothing from a server alone, whose messages and welcomes name no instance', () => {
    const log = new CrossingLog()
    expect(log.add('websocket', message(1, undefined), undefined)).toBe(false)
    expect(log.add('websocket', message(2, 'a'), undefined)).toBe(false)
    expect(log.rows).toEqual([])
  })

  it('adds a resume backlog only to rows it still lists, and keeps the newest rows', () => {
    const log = new CrossingLog()
    for (let seq = 1; seq <= CROSSINGS_KEPT + 5; seq++) log.add('websocket', message(seq, 'a'), 'a')
    expect(log.rows).toHaveLength(CROSSINGS_KEPT)
    expect(log.rows[0]!.seq).toBe(6)
    expect(log.add('sse', message(1, 'a'), 'b', true)).toBe(false)
    expect(log.add('sse', message(10, 'a'), 'b', true)).toBe(true)
    expect(log.rows.find((r) => r.seq === 10)!.deliveredBy.sse).toBe('b')
  })
})
