// How many tabs of the workbench this browser has open, and whether this one
// may hold HTTP connections open. A browser opens about 6 HTTP/1.1 connections
// to one server, shared by all its tabs; each tab's long poll and SSE stream
// keep one each for good, so a third tab holding them would leave nothing for
// the short polls, the sends and the meter's reads, which then wait forever
// while their panels still look connected. So the tabs count each other over a
// BroadcastChannel and only the first HOLDING_TABS hold; the others leave long
// polling and SSE off and say so, until a holder closes or they take over.
//
// Every tab asks "who is here?" once a second and every tab answers. The
// answers are events, which a browser delivers to a hidden tab at once while
// it slows down that tab's timers, so a tab in the background stays counted as
// long as one tab in front is asking. A tab that stops answering (it crashed)
// is forgotten, slowly enough that a busy machine's late answers do not count
// as gone; a tab that closes says so at once.

export const HOLDING_TABS = 2
const CHANNEL = 'transport-lab-tabs'
const CENSUS_MS = 1000
const FORGET_MS = 10_000
/** How long a new tab listens for the others before it decides: its first two census rounds, on a busy machine. */
const FIRST_COUNT_MS = 1500

type TabMessage =
  | { type: 'census'; id: string; rank: number }
  | { type: 'present'; id: string; rank: number }
  | { type: 'bye'; id: string }

export class TabBudget extends EventTarget {
  readonly id = Math.random().toString(36).slice(2)
  /** Lower ranks hold first: a tab's opening time, or below everyone's once it takes over. */
  private rank = Date.now()
  private readonly others = new Map<string, { rank: number; seenAt: number }>()
  private channel: BroadcastChannel | undefined
  private timer: ReturnType<typeof setInterval> | undefined
  private counted = 0
  /** False until the first count is in: until then this tab opens nothing it might have to give back. */
  decided = false
  holds = false

  /** The other tabs of this workbench in this browser, as last counted. */
  get otherTabs(): number {
    return this.others.size
  }

  start(): void {
    // Without BroadcastChannel there is no one to count: this tab holds, as before.
    if (typeof BroadcastChannel === 'undefined') {
      this.decided = true
      this.holds = true
      this.dispatchEvent(new Event('change'))
      return
    }
    const channel = new BroadcastChannel(CHANNEL)
    this.channel = channel
    channel.onmessage = (event: MessageEvent<TabMessage>) => this.onMessage(event.data)
    addEventListener('pagehide', () => this.post({ type: 'bye', id: this.id }))
    this.census()
    this.timer = setInterval(() => this.census(), CENSUS_MS)
    setTimeout(() => {
      this.decided = true
      this.recount()
      this.dispatchEvent(new Event('change'))
    }, FIRST_COUNT_MS)
  }

  /** This tab goes first: the holder that came last gives up its place. */
  takeOver(): void {
    this.rank = Math.min(this.rank, ...[...this.others.values()].map((o) => o.rank)) - 1
    this.post({ type: 'present', id: this.id, rank: this.rank })
    this.recount()
  }

  stop(): void {
    clearInterval(this.timer)
    this.post({ type: 'bye', id: this.id })
    this.channel?.close()
    this.channel = undefined
  }

  private census(): void {
    this.post({ type: 'census', id: this.id, rank: this.rank })
    this.recount()
  }

  private onMessage(message: TabMessage): void {
    if (message.id === this.id) return
    if (message.type === 'bye') this.others.delete(message.id)
    else this.others.set(message.id, { rank: message.rank, seenAt: Date.now() })
    if (message.type === 'census') this.post({ type: 'present', id: this.id, rank: this.rank })
    this.recount()
  }

  private recount(): void {
    const now = Date.now()
    for (const [id, other] of this.others) if (now - other.seenAt > FORGET_MS) this.others.delete(id)
    const ahead = [...this.others].filter(([id, o]) => o.rank < this.rank || (o.rank === this.rank && id < this.id))
    const holds = this.decided && ahead.length < HOLDING_TABS
    const changed = holds !== this.holds || this.others.size !== this.counted
    this.holds = holds
    this.counted = this.others.size
    if (changed) this.dispatchEvent(new Event('change'))
  }

  private post(message: TabMessage): void {
    this.channel?.postMessage(message)
  }
}
