// Presence in a crowd (server/core/presence.ts): under the room's budget every
// join and leave is its own notice; past it they wait in one batch and go out
// as a presence entry, while the roster stays exact throughout.
import { afterEach, describe, expect, it } from 'vitest'
import { Hub } from '../../server/core/hub.ts'
import type { LogEntry, Presence } from '../../server/core/protocol.ts'
import { until } from '../support/wait.ts'

const hubs: Hub[] = []
function hub(presenceRate: number) {
  const h = new Hub({ historyLimit: 100, maxRooms: 10, presenceRate })
  hubs.push(h)
  return h
}
afterEach(() => hubs.splice(0).forEach((h) => h.close()))

/** `count` push clients that each keep what they receive. */
function crowd(h: Hub, count: number, prefix = 'p') {
  return Array.from({ length: count }, (_, i) => {
    const got: LogEntry[] = []
    const client = h.connect({ name: `${prefix}${i}`, transport: 'test', deliver: (e) => got.push(e) })
    return { client, got }
  })
}

const presenceEntries = (got: LogEntry[]) => got.filter((e): e is Presence => e.type === 'presence')

describe('presence in a crowd', () => {
  it('tells each join as its own notice while the room stays within its budget', async () => {
    const h = hub(1_000_000)
    const people = crowd(h, 10)
    for (const { client } of people) await h.join(client.clientId, 'r')
    const first = people[0]!.got
    expect(first.map((e) => e.type)).toEqual(Array(9).fill('notice'))
  })

  it('past the budget, gathers the joins into presence entries, with the roster exact at every moment', async () => {
    const h = hub(20)
    const people = crowd(h, 30)
    for (const [i, { client }] of people.entries()) {
      await h.join(client.clientId, 'r')
      expect(h.presence('r')).toHaveLength(i + 1)
    }
    const first = people[0]!.got
    // Everyone after the first has been told, one way or the other.
    await until(
      () => first.filter((e) => e.type === 'notice').length + sum(presenceEntries(first).map((p) => p.joins)) === 29,
      'the first member to hear of all 29 others',
    )
    const batches = presenceEntries(first)
    expect(batches.length).toBeGreaterThan(0)
    expect(batches.at(-1)!.memberCount).toBe(30)
    // Far fewer deliveries than one notice per join to every member (29 * 30 / 2 = 435).
    const deliveries = sum(people.map(({ got }) => got.length))
    expect(deliveries).toBeLessThan(435)
  })

  it('leaves out of the lists a client that joined and left within one batch', async () => {
    const h = hub(5)
    const people = crowd(h, 8)
    for (const { client } of people) await h.join(client.clientId, 'r')
    const [passer] = crowd(h, 1, 'passer')
    await h.join(passer!.client.clientId, 'r')
    await h.leave(passer!.client.clientId, 'r')
    expect(h.presence('r').map((m) => m.name)).not.toContain(passer!.client.name)
    const first = people[0]!.got
    await until(() => sum(presenceEntries(first).map((p) => p.joins)) >= 1, 'a presence entry')
    await until(() => h.stats().rooms === 1 && presenceEntries(first).at(-1)!.memberCount === 8, 'the last batch')
    const named = presenceEntries(first).flatMap((p) => [...p.joined, ...p.left].map((m) => m.name))
    expect(named).not.toContain(passer!.client.name)
  })
})

function sum(values: number[]): number {
  return values.reduce((a, b) => a + b, 0)
}
