import { afterEach, describe, expect, it } from 'vitest'
import { Hub } from '../../server/core/hub.ts'
import type { LogEntry } from '../../server/core/protocol.ts'
import { LabError } from '../../server/core/errors.ts'
import { encode, encodedOf } from '../../server/wire/payload.ts'

const hubs: Hub[] = []
function hub(options: Partial<ConstructorParameters<typeof Hub>[0]> = {}) {
  const h = new Hub({ historyLimit: 100, maxRooms: 10, ...options })
  hubs.push(h)
  return h
}
afterEach(() => hubs.splice(0).forEach((h) => h.close()))

const sender = { clientId: 'x', name: 'x', transport: 'test' }

describe('Hub', () => {
  it("numbers each room's entries 1, 2, 3 under one epoch", async () => {
    const h = hub()
    const a = await h.publish(sender, 'r', { text: 'a' })
    const b = await h.publish(sender, 'r', { text: 'b' })
    const other = await h.publish(sender, 'other', { text: 'c' })
    expect([a.seq, b.seq, other.seq]).toEqual([1, 2, 1])
    expect(a.epoch).toBe(b.epoch)
    expect(other.epoch).not.toBe(a.epoch)
  })

  it('delivers to members in seq order, joiners after their own join notice', async () => {
    const h = hub()
    const got: LogEntry[] = []
    const ann = h.connect({ name: 'ann', transport: 'test', deliver: (e) => got.push(e) })
    const bob = h.connect({ name: 'bob', transport: 'test' })
    await h.join(ann.clientId, 'r')
    const { welcome } = await h.join(bob.clientId, 'r')
    await h.publish(sender, 'r', { text: 'hi' })
    await h.leave(bob.clientId, 'r')
    expect(
      got.map((e) => (e.type === 'message' ? e.text : e.type === 'notice' ? `${e.event}:${e.who.name}` : e.type)),
    ).toEqual(['join:bob', 'hi', 'leave:bob'])
    expect(got.map((e) => e.seq)).toEqual([2, 3, 4])
    expect(welcome.members.map((m) => m.name)).toEqual(['ann', 'bob'])
  })

  it('keeps only historyLimit messages, and says a resume from before them is not recovered', async () => {
    const h = hub({ historyLimit: 5 })
    let epoch = ''
    for (let i = 1; i <= 50; i++) epoch = (await h.publish(sender, 'r', { text: `m${i}` })).epoch
    const newest = await h.read('r')
    expect(newest.entries.map((e) => e.seq)).toEqual([46, 47, 48, 49, 50])
    expect((await h.read('r', { seq: 0 })).recovered).toBe(false)
    expect(await h.read('r', { seq: 45, epoch })).toMatchObject({ recovered: true })
    expect((await h.read('r', { seq: 45, epoch })).entries).toHaveLength(5)
    expect((await h.read('r', { seq: 44, epoch })).recovered).toBe(false)
    expect((await h.read('r', { seq: 48, epoch: 'other' })).recovered).toBe(false)
    expect((await h.read('r', { seq: 999, epoch })).recovered).toBe(false)
  })

  it('does not take a cursor without an epoch for one in the current log, unless it is seq 0', async () => {
    const h = hub()
    const { epoch } = await h.publish(sender, 'r', { text: 'a' })
    await h.publish(sender, 'r', { text: 'b' })
    expect((await h.read('r', { seq: 1 })).recovered).toBe(false)
    expect((await h.read('r', { seq: 1, epoch })).entries.map((e) => e.seq)).toEqual([2])
    expect(await h.read('r', { seq: 0 })).toMatchObject({ recovered: true, entries: [{ seq: 1 }, { seq: 2 }] })
  })

  it('keeps the last historyLimit messages however many join and leave notices come between them', async () => {
    const h = hub({ historyLimit: 5 })
    const first = await h.publish(sender, 'r', { text: 'kept' })
    for (let i = 0; i < 200; i++) {
      const c = h.connect({ name: `c${i}`, transport: 'test' })
      await h.join(c.clientId, 'r')
      h.disconnect(c.clientId)
    }
    const resumed = await h.read('r', { seq: 0, epoch: first.epoch }, { entries: 1000, textChars: 1e6 })
    expect(resumed.recovered).toBe(true)
    expect(resumed.entries.filter((e) => e.type === 'message').map((e) => e.seq)).toEqual([1])
    // Notices are presence, kept up to their own limit: the newest ones.
    expect(resumed.entries.filter((e) => e.type === 'notice')).toHaveLength(5)
    expect(resumed.entries.at(-1)!.seq).toBe(401)
  })

  it('answers a read a page at a time, and says there is more', async () => {
    const h = hub()
    let epoch = ''
    for (let i = 1; i <= 30; i++) epoch = (await h.publish(sender, 'r', { text: 'x'.repeat(1000) })).epoch
    const first = await h.read('r', { seq: 0 }, { entries: 10, textChars: 1e6 })
    expect(first).toMatchObject({ recovered: true, more: true, seq: 10 })
    expect(first.entries.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
    const byText = await h.read('r', { seq: 10, epoch }, { entries: 100, textChars: 5000 })
    expect(byText.entries.map((e) => e.seq)).toEqual([11, 12, 13, 14, 15])
    const last = await h.read('r', { seq: 25, epoch }, { entries: 10, textChars: 1e6 })
    expect(last).toMatchObject({ more: false, seq: 30 })
    expect((await h.read('r', undefined, { entries: 3, textChars: 1e6 })).entries.map((e) => e.seq)).toEqual([
      28, 29, 30,
    ])
  })

  it('reads and waits on a room without creating it, so readers cannot evict anyone', async () => {
    const h = hub({ maxRooms: 2 })
    const kept = await h.publish(sender, 'kept', { text: 'history' })
    for (let i = 0; i < 50; i++) {
      expect(await h.read(`probe-${i}`)).toMatchObject({ epoch: '', seq: 0, recovered: true, entries: [] })
      h.waitFor(`waiter-${i}`, 0, { woken() {} })
    }
    expect(h.roomSummaries().map((r) => r.room)).toEqual(['kept'])
    expect((await h.read('kept', { seq: 0 })).entries).toEqual([kept])
    expect((await h.read('gone', { seq: 3, epoch: 'abcd' })).recovered).toBe(false)
  })

  it('drops the least recently used empty room when the room limit is reached, and refuses when all have members', async () => {
    const h = hub({ maxRooms: 2 })
    const first = await h.publish(sender, 'one', { text: 'a' })
    await h.publish(sender, 'two', { text: 'b' })
    await h.publish(sender, 'three', { text: 'c' })
    expect(
      h
        .roomSummaries()
        .map((r) => r.room)
        .sort(),
    ).toEqual(['three', 'two'])
    expect((await h.read('one')).epoch).not.toBe(first.epoch)
    const a = h.connect({ name: 'a', transport: 'test' })
    const b = h.connect({ name: 'b', transport: 'test' })
    await h.join(a.clientId, 'one')
    await h.join(b.clientId, 'three')
    await expect(h.publish(sender, 'four', { text: 'd' })).rejects.toThrow(LabError)
  })

  it("never keeps a notice's JSON on it (each reader makes it again), and keeps a message's", async () => {
    const h = hub()
    const got: LogEntry[] = []
    const ann = h.connect({ name: 'ann', transport: 'test', deliver: (e) => got.push(e) })
    await h.join(ann.clientId, 'r')
    const bob = h.connect({ name: 'bob', transport: 'test' })
    await h.join(bob.clientId, 'r')
    const message = await h.publish(sender, 'r', { text: 'kept' })
    const [notice] = got
    expect(notice).toMatchObject({ type: 'notice', event: 'join' })
    expect(encodedOf(notice)).toBeUndefined()
    expect(encodedOf(message)?.json).toBe(JSON.stringify(message))
    const { entries } = await h.read('r', { seq: 0 })
    expect(entries.find((e) => e.seq === notice!.seq)).toBe(notice)
    expect(encode(notice!).json).toBe(JSON.stringify(notice))
    expect(encodedOf(notice)).toBeUndefined()
  })

  it('wakes a waiter when its room gets a new entry, and not for other rooms', async () => {
    const h = hub()
    let woken = 0
    h.waitFor('r', 0, { woken: () => woken++ })
    await h.publish(sender, 'elsewhere', { text: 'x' })
    expect(woken).toBe(0)
    await h.publish(sender, 'r', { text: 'x' })
    await h.publish(sender, 'r', { text: 'y' })
    expect(woken).toBe(1)
  })

  it('still wakes the other waiters of a room when one throws', async () => {
    const h = hub()
    let woken = 0
    h.waitFor('r', 0, {
      woken() {
        throw new Error('a broken poll')
      },
    })
    h.waitFor('r', 0, { woken: () => woken++ })
    await h.publish(sender, 'r', { text: 'x' })
    expect(woken).toBe(1)
  })

  it('wakes a waiter that waits again at once for the next entry only, and not one that stopped waiting', async () => {
    const h = hub()
    let woken = 0
    const again = {
      woken() {
        woken++
        h.waitFor('r', woken, again)
      },
    }
    h.waitFor('r', 0, again)
    let stopped = 0
    const quitter = { woken: () => stopped++ }
    h.waitFor('r', 0, quitter)
    expect(h.unwait('r', quitter)).toBe(true)
    await h.publish(sender, 'r', { text: 'x' })
    expect(woken).toBe(1)
    await h.publish(sender, 'r', { text: 'y' })
    expect(woken).toBe(2)
    expect(stopped).toBe(0)
    expect(h.unwait('r', quitter)).toBe(false)
  })

  it('drops a leased client that stops touching, with a leave notice', async () => {
    let now = 1000
    const h = hub({ now: () => now })
    const poller = h.connect({ name: 'p', transport: 'test', leaseMs: 500 })
    await h.join(poller.clientId, 'r')
    now += 400
    expect(h.touch(poller.clientId)).toBe(true)
    now += 600
    ;(h as unknown as { sweepLeases(): void }).sweepLeases()
    expect(h.client(poller.clientId)).toBeUndefined()
    expect((await h.read('r')).entries.map((e) => e.type === 'notice' && e.event)).toEqual(['join', 'leave'])
    expect(h.presence('r')).toEqual([])
  })

  it('refuses to put one client in more than maxRoomsPerClient rooms', async () => {
    const h = hub({ maxRoomsPerClient: 2 })
    const c = h.connect({ name: 'c', transport: 'test' })
    await h.join(c.clientId, 'a')
    await h.join(c.clientId, 'b')
    await h.join(c.clientId, 'a')
    await expect(h.join(c.clientId, 'c')).rejects.toThrow(expect.objectContaining({ code: 'LAB_ERR_TOO_MANY_ROOMS' }))
    expect(h.roomSummaries().map((r) => r.room)).toEqual(['a', 'b'])
    await h.leave(c.clientId, 'a')
    expect((await h.join(c.clientId, 'c')).welcome.room).toBe('c')
  })

  it('keeps a client in each of its rooms until it leaves that one, and a disconnect leaves all of them', async () => {
    const h = hub()
    const texts: string[] = []
    const deliver = (e: LogEntry) => e.type === 'message' && texts.push(e.text)
    const c = h.connect({ name: 'c', transport: 'test', deliver })
    const say = async (room: string) => {
      await h.publish(sender, room, { text: room })
    }
    for (const room of ['a', 'b', 'c']) await h.join(c.clientId, room)
    await h.join(c.clientId, 'b')
    for (const room of ['a', 'b', 'c']) await say(room)
    await h.leave(c.clientId, 'b')
    for (const room of ['a', 'b', 'c']) await say(room)
    await h.leave(c.clientId, 'a')
    for (const room of ['a', 'b', 'c']) await say(room)
    // Detached and attached again while in one room, then in two.
    h.detach(c.clientId, 60_000)
    await say('c')
    h.attach(c.clientId, deliver)
    await h.join(c.clientId, 'a')
    for (const room of ['a', 'b', 'c']) await say(room)
    expect(texts).toEqual(['a', 'b', 'c', 'a', 'c', 'c', 'a', 'c'])
    expect(['a', 'b', 'c'].map((room) => h.presence(room).length)).toEqual([1, 0, 1])
    h.disconnect(c.clientId)
    await h.join(h.connect({ name: 'd', transport: 'test' }).clientId, 'b')
    expect(['a', 'b', 'c'].map((room) => h.presence(room).map((m) => m.name))).toEqual([[], ['d'], []])
  })

  it('says whether a room can be joined before anything is created', async () => {
    const h = hub({ maxRooms: 1 })
    const c = h.connect({ name: 'c', transport: 'test' })
    await h.join(c.clientId, 'full')
    expect(() => h.assertRoomAvailable('other')).toThrow(expect.objectContaining({ code: 'LAB_ERR_ROOM_LIMIT' }))
    expect(() => h.assertRoomAvailable('full')).not.toThrow()
    await h.leave(c.clientId, 'full')
    expect(() => h.assertRoomAvailable('other')).not.toThrow()
  })

  it('keeps a detached client a member, silent, until it is attached again or its grace runs out', async () => {
    let now = 1000
    const h = hub({ now: () => now })
    const got: string[] = []
    const c = h.connect({ name: 'c', transport: 'test', deliver: () => got.push('old pipe') })
    await h.join(c.clientId, 'r')
    h.detach(c.clientId, 500)
    await h.publish(sender, 'r', { text: 'while away' })
    expect(got).toEqual([])
    expect(h.attach(c.clientId, () => got.push('new pipe'))).toBe(true)
    now += 1000
    ;(h as unknown as { sweepLeases(): void }).sweepLeases()
    await h.publish(sender, 'r', { text: 'back' })
    expect(got).toEqual(['new pipe'])
    h.detach(c.clientId, 500)
    now += 600
    ;(h as unknown as { sweepLeases(): void }).sweepLeases()
    expect(h.client(c.clientId)).toBeUndefined()
    expect(h.attach(c.clientId, () => {})).toBe(false)
    expect(h.presence('r')).toEqual([])
  })

  it("keeps delivering to everyone when one member's pipe throws", async () => {
    const h = hub()
    const got: string[] = []
    const broken = h.connect({
      name: 'broken',
      transport: 'test',
      deliver: () => {
        throw new Error('pipe burst')
      },
    })
    const fine = h.connect({ name: 'fine', transport: 'test', deliver: (e) => got.push(e.type) })
    await h.join(broken.clientId, 'r')
    await h.join(fine.clientId, 'r')
    await h.publish(sender, 'r', { text: 'still' })
    expect(got).toEqual(['message'])
  })
})

describe('Hub in a crowded room', () => {
  it('lists at most 100 members in a welcome and counts them all', async () => {
    const h = hub()
    const joins = []
    for (let i = 0; i < 150; i++)
      joins.push(await h.join(h.connect({ name: `m${i}`, transport: 'test' }).clientId, 'crowd'))
    const last = joins.at(-1)!
    expect(last.welcome.members).toHaveLength(100)
    expect(last.welcome.memberCount).toBe(150)
    expect(h.presence('crowd')).toHaveLength(150)
  })
})
