// The hub's roster with a shared log, against an in-memory stand-in for
// Redis that can do what a real one does at the worst moment: restore the
// room from the log (a catch-up) while a join of this server is on its way,
// so that the join's own entry never arrives on its own. The real Redis is
// in test/scale.
import { afterEach, describe, expect, it, vi } from 'vitest'
import { Hub, type Draft, type LogSink, type SharedLog } from '../../server/core/hub.ts'
import type { LogEntry, Member } from '../../server/core/protocol.ts'
import type { RoomLog } from '../../server/core/room.ts'

class MemoryLog implements SharedLog {
  readonly instance = 'a'
  private sink: LogSink | undefined
  private seq = 0
  private readonly epoch = 'e1'
  private readonly notices: LogEntry[] = []
  private readonly presence = new Map<string, Member>()
  /** The next append is taken in by a restore from the log, as a catch-up would, instead of arriving by itself. */
  restoreNext = false
  /** While set, appends are stored at once but come back to the hub only on release(): in flight. */
  holding = false
  private held: Array<() => void> = []

  attach(sink: LogSink): void {
    this.sink = sink
  }

  follow(room: string): Promise<void> {
    this.sink!.restore(room, this.log(), [...this.presence.values()])
    return Promise.resolve()
  }

  append(draft: Draft): Promise<LogEntry> {
    const seq = ++this.seq
    const entry = {
      type: draft.type,
      room: draft.room,
      seq,
      epoch: this.epoch,
      id: `${this.epoch}-${seq}`,
      ...draft.rest,
    }
    for (const member of draft.presence?.joined ?? []) this.presence.set(member.clientId, member)
    for (const member of draft.presence?.left ?? []) this.presence.delete(member.clientId)
    this.notices.push(entry as LogEntry)
    if (this.restoreNext) {
      this.restoreNext = false
      this.sink!.restore(draft.room, this.log(), [...this.presence.values()])
    } else if (this.holding) {
      return new Promise((resolve) =>
        this.held.push(() => {
          this.sink!.apply(draft.room, entry as LogEntry, draft.except, draft.presence)
          resolve(entry as LogEntry)
        }),
      )
    } else this.sink!.apply(draft.room, entry as LogEntry, draft.except)
    return Promise.resolve(entry as LogEntry)
  }

  /** The appends held so far arrive, in order. */
  release(): void {
    this.holding = false
    for (const arrive of this.held.splice(0)) arrive()
  }

  unfollow(): void {}
  assertPresence(): Promise<void> {
    return Promise.resolve()
  }
  close(): Promise<void> {
    return Promise.resolve()
  }

  private log(): RoomLog {
    return {
      epoch: this.seq === 0 ? '' : this.epoch,
      seq: this.seq,
      lostBefore: 0,
      messages: [],
      notices: [...this.notices],
    }
  }
}

afterEach(() => {
  vi.useRealTimers()
})

describe('the roster with a shared log', () => {
  it('keeps a member joining here in presence when the room is restored from the log while its join is on its way', async () => {
    const log = new MemoryLog()
    const hub = new Hub({ historyLimit: 100, maxRooms: 10, shared: log })
    const ann = hub.connect({ name: 'ann', transport: 'test' })
    log.restoreNext = true
    const { welcome } = await hub.join(ann.clientId, 'r')
    expect(hub.presence('r').map((m) => m.name)).toEqual(['ann'])
    expect(welcome).toMatchObject({ seq: 1, memberCount: 1, members: [{ name: 'ann', instance: 'a' }] })
    hub.close()
  })

  it('does not bring back a member who left here while the batch that brought it in was in flight', async () => {
    vi.useFakeTimers()
    const log = new MemoryLog()
    // A budget of one delivery a second: the third join waits in a batch.
    const hub = new Hub({ historyLimit: 100, maxRooms: 10, shared: log, presenceRate: 1, now: () => Date.now() })
    const [ann, bob, cem] = ['ann', 'bob', 'cem'].map((name) => hub.connect({ name, transport: 'test' }))
    for (const client of [ann!, bob!, cem!]) await hub.join(client.clientId, 'r')
    expect(hub.presence('r').map((m) => m.name)).toEqual(['ann', 'bob', 'cem'])
    log.holding = true
    await vi.advanceTimersByTimeAsync(1000)
    // The batch with cem's join is in the shared log, on its way back; cem leaves meanwhile.
    await hub.leave(cem!.clientId, 'r')
    expect(hub.presence('r').map((m) => m.name)).toEqual(['ann', 'bob'])
    log.release()
    await vi.advanceTimersByTimeAsync(0)
    expect(hub.presence('r').map((m) => m.name)).toEqual(['ann', 'bob'])
    hub.close()
  })
})
