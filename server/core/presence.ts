// Presence in a crowd. A join notice goes to every member already in the
// room, so N clients joining one room one by one would cost N²/2 deliveries:
// 50 million for 10,000 joins, which is what made a join storm grow faster
// than linearly. Each room may spend PRESENCE_RATE member-deliveries a second
// on presence. Under that budget every join and leave is its own notice, as in
// any class-sized room; over it, the joins and leaves that come meanwhile wait
// in one batch, which goes out as a single `presence` entry when the budget
// allows it again. However many clients join, presence then costs at most
// PRESENCE_RATE deliveries a second per room: a storm's cost grows linearly.
// Who is in the room stays exact throughout (the hub's roster, the welcome's
// memberCount, /api/rooms/:room/presence): only the telling is coalesced.
// With a shared log (Redis) each server keeps its own budget per room; a
// batch is one entry there, and carries its whole lists to the other servers
// beside the capped ones clients see (server/scale/append.lua).
import type { Member } from './protocol.ts'
import { WELCOME_MEMBERS_MAX } from './names.ts'

/** A token bucket of deliveries, one per room, refilled at `rate` per second up to a second's worth. */
export class PresenceBudget {
  private tokens: number
  private at: number
  private readonly rate: number

  constructor(rate: number, now: number) {
    this.rate = rate
    this.tokens = rate
    this.at = now
  }

  /** Spends `cost` when the bucket holds it. */
  take(cost: number, now: number): boolean {
    this.refill(now)
    if (this.tokens < cost) return false
    this.tokens -= cost
    return true
  }

  /** Spends `cost` whatever the bucket holds: a batch that goes out puts the next one off by its cost. */
  spend(cost: number, now: number): void {
    this.refill(now)
    this.tokens -= cost
  }

  /** Milliseconds until the bucket holds `cost` (capped at a second's worth). */
  waitMs(cost: number, now: number): number {
    this.refill(now)
    const missing = Math.min(cost, this.rate) - this.tokens
    return missing <= 0 ? 0 : Math.ceil((missing / this.rate) * 1000)
  }

  private refill(now: number): void {
    this.tokens = Math.min(this.rate, this.tokens + ((now - this.at) / 1000) * this.rate)
    this.at = now
  }
}

/** The joins and leaves waiting for the budget. A join and a leave of the same client within one batch cancel out. */
export class PresenceBatch {
  readonly joined = new Map<string, Member>()
  readonly left = new Map<string, Member>()

  add(event: 'join' | 'leave', member: Member): void {
    if (event === 'join') {
      this.left.delete(member.clientId)
      this.joined.set(member.clientId, member)
    } else if (!this.joined.delete(member.clientId)) this.left.set(member.clientId, member)
  }

  get empty(): boolean {
    return this.joined.size === 0 && this.left.size === 0
  }

  /** Every member who joined and left: what a shared log's other servers apply to their rosters. */
  whole(): { joined: Member[]; left: Member[] } {
    return { joined: [...this.joined.values()], left: [...this.left.values()] }
  }

  /** The entry's fields after id: the lists capped, the counts whole. */
  rest(memberCount: number, serverAt: number): Record<string, unknown> {
    return {
      joined: first(this.joined, WELCOME_MEMBERS_MAX),
      left: first(this.left, WELCOME_MEMBERS_MAX),
      joins: this.joined.size,
      leaves: this.left.size,
      memberCount,
      serverAt,
    }
  }
}

function first(members: Map<string, Member>, max: number): Member[] {
  const out: Member[] = []
  for (const member of members.values()) {
    if (out.length >= max) break
    out.push(member)
  }
  return out
}
