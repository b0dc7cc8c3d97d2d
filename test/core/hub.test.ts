import { afterEach, describe, expect, it } from 'vitest'
import { Hub } from '../../server/core/hub.ts'
import type { LogEntry } from '../../server/core/protocol.ts'
import { LabError } from '../../server/core/errors.ts'

const hubs: Hub[] = []
function hub(options: Partial<ConstructorParameters<typeof Hub>[0]> = {}) {
  const h = new Hub({ historyLimit: 100, maxRooms: 10, ...options })
  hubs.push(h)
  return h
}
afterEach(() => hubs.splice(0).forEach((h) => h.close()))

const sender = { clientId: 'x', name: 'x', transport: 'test' }

describe('Hub', () => {
  it('numbers each room\'s entries 1, 2, 3 under one epoch', () => {
    const h = hub()
    const a = h.publish(sender, 'r', { text: 'a' })
    const b = h.publish(sender, 'r', { text: 'b' })
    const other = h.publish(sender, 'other', { text: 'c' })
    expect([a.seq, b.seq, other.seq]).toEqual([1, 2, 1])
    expect(a.epoch).toBe(b.epoch)
    expect(other.epoch).not.toBe(a.epoch)
  })

  it('delivers to members in seq order, joiners after their own join notice', () => {
    const h = hub()
    const got: LogEntry[] = []
    const ann = h.connect({ name: 'ann', transport: 'test', deliver: (e) => got.push(e) })
    const bob = h.connect({ name: 'bob', transport: 'test' })
    h.join(ann.clientId, 'r')
    const { welcome } = h.join(bob.clientId, 'r')
    h.publish(sender, 'r', { text: 'hi' })
    h.leave(bob.clientId, 'r')
    expect(got.map((e) => (e.type === 'message' ? e.text : `${e.event}:${e.who.name}`))).toEqual(['join:bob', 'hi', 'leave:bob'])
    expect(got.map((e) => e.seq)).toEqual([2, 3, 4])
    expect(welcome.members.map((m) => m.name)).toEqual(['ann', 'bob'])
  })

  it('keeps only historyLimit entries, and says a resume from before them is not recovered', () => {
    const h = hub({ historyLimit: 5 })
    for (let i = 1; i <= 50; i++) h.publish(sender, 'r', { text: `m${i}` })
    const all = h.read('r')
    expect(all.entries.map((e) => e.seq)).toEqual([46, 47, 48, 49, 50])
    expect(all.recovered).toBe(false)
    expect(h.read('r', { seq: 45 })).toMatchObject({ recovered: true })
    expect(h.read('r', { seq: 45 }).entries).toHaveLength(5)
    expect(h.read('r', { seq: 44 }).recovered).toBe(false)
    expect(h.read('r', { seq: 48, epoch: 'other' }).recovered).toBe(false)
    expect(h.read('r', { seq: 999 }).recovered).toBe(false)
  })

  it('drops the least recently used empty room when the room limit is reached, and refuses when all have members', () => {
    const h = hub({ maxRooms: 2 })
    const first = h.publish(sender, 'one', { text: 'a' })
    h.publish(sender, 'two', { text: 'b' })
    h.publish(sender, 'three', { text: 'c' })
    expect(h.roomSummaries().map((r) => r.room).sort()).toEqual(['three', 'two'])
    expect(h.read('one').epoch).not.toBe(first.epoch)
    const a = h.connect({ name: 'a', transport: 'test' })
    const b = h.connect({ name: 'b', transport: 'test' })
    h.join(a.clientId, 'one')
    h.join(b.clientId, 'three')
    expect(() => h.publish(sender, 'four', { text: 'd' })).toThrow(LabError)
  })

  it('wakes a waiter when its room gets a new entry, and not for other rooms', () => {
    const h = hub()
    let woken = 0
    h.waitFor('r', 0, () => woken++)
    h.publish(sender, 'elsewhere', { text: 'x' })
    expect(woken).toBe(0)
    h.publish(sender, 'r', { text: 'x' })
    h.publish(sender, 'r', { text: 'y' })
    expect(woken).toBe(1)
  })

  it('drops a leased client that stops touching, with a leave notice', async () => {
    let now = 1000
    const h = hub({ now: () => now })
    const poller = h.connect({ name: 'p', transport: 'test', leaseMs: 500 })
    h.join(poller.clientId, 'r')
    now += 400
    expect(h.touch(poller.clientId)).toBe(true)
    now += 600
    ;(h as unknown as { sweepLeases(): void }).sweepLeases()
    expect(h.client(poller.clientId)).toBeUndefined()
    expect(h.read('r').entries.map((e) => e.type === 'notice' && e.event)).toEqual(['join', 'leave'])
  })

  it('keeps delivering to everyone when one member\'s pipe throws', () => {
    const h = hub()
    const got: string[] = []
    const broken = h.connect({ name: 'broken', transport: 'test', deliver: () => { throw new Error('pipe burst') } })
    const fine = h.connect({ name: 'fine', transport: 'test', deliver: (e) => got.push(e.type) })
    h.join(broken.clientId, 'r')
    h.join(fine.clientId, 'r')
    h.publish(sender, 'r', { text: 'still' })
    expect(got).toEqual(['message'])
  })
})

describe('Hub in a crowded room', () => {
  it('lists at most 100 members in a welcome and counts them all', () => {
    const h = hub()
    let last
    for (let i = 0; i < 150; i++) last = h.join(h.connect({ name: `m${i}`, transport: 'test' }).clientId, 'crowd')
    expect(last!.welcome.members).toHaveLength(100)
    expect(last!.welcome.memberCount).toBe(150)
    expect(h.presence('crowd')).toHaveLength(150)
  })
})
