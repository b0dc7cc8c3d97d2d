// Many things each due once, late by at most a grain: one timer per grain that
// has something due, not one per thing. A Timeout and its place in Node's timer
// lists are about 150 bytes, kept for as long as what waits on it (an idle SSE
// stream waits the whole of its life for its renewal: npm run bench:heap);
// here a waiting thing costs one slot in its grain's array, and its owner keeps
// the grain it is due in as a small integer.
import { keptNow } from '../wire/kept-time.ts'

interface Grain<T> {
  readonly timer: NodeJS.Timeout
  readonly due: T[]
}

export class Schedule<T> {
  private readonly grains = new Map<number, Grain<T>>()
  private readonly grainMs: number
  private readonly run: (item: T) => void

  /**
   * `run` is called once for each item when it is due, on a timer that does not keep the process alive; it
   * must not throw (the rest of its grain would not run).
   */
  constructor(grainMs: number, run: (item: T) => void) {
    this.grainMs = grainMs
    this.run = run
  }

  /**
   * Runs `item` after `delayMs`, rounded up to the next grain. Returns the grain it is due in, which `cancel`
   * needs: the item's owner keeps it.
   */
  add(item: T, delayMs: number): number {
    const at = Math.ceil((keptNow() + delayMs) / this.grainMs)
    const grain = this.grains.get(at)
    if (grain) grain.due.push(item)
    else {
      const timer = setTimeout(fire, at * this.grainMs - keptNow(), this as Schedule<unknown>, at).unref()
      this.grains.set(at, { timer, due: [item] })
    }
    return at
  }

  /** `item` is not run after all (added in grain `at`); a grain left with nothing due loses its timer. */
  cancel(item: T, at: number): void {
    const grain = this.grains.get(at)
    const index = grain ? grain.due.indexOf(item) : -1
    if (index < 0) return
    const { due } = grain!
    // Order within a grain does not matter: the last one takes the free slot.
    due[index] = due[due.length - 1]!
    due.pop()
    if (due.length === 0) {
      clearTimeout(grain!.timer)
      this.grains.delete(at)
    }
  }

  /** How many items wait, over how many timers. */
  get size(): { items: number; timers: number } {
    let items = 0
    for (const grain of this.grains.values()) items += grain.due.length
    return { items, timers: this.grains.size }
  }

  /** Nothing more runs. */
  clear(): void {
    for (const grain of this.grains.values()) clearTimeout(grain.timer)
    this.grains.clear()
  }

  /** For fire only. */
  runDue(at: number): void {
    const grain = this.grains.get(at)
    if (!grain) return
    this.grains.delete(at)
    for (const item of grain.due) this.run(item)
  }
}

// One function for every grain's timer, with its schedule and grain as arguments: no closure per grain.
function fire(schedule: Schedule<unknown>, at: number): void {
  schedule.runDue(at)
}
