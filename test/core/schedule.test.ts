// Things due once, on a grain: one timer per grain with something due in it.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { Schedule } from '../../server/core/schedule.ts'

describe('a schedule on a 100 ms grain', () => {
  beforeEach(() => {
    vi.useFakeTimers()
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  it('runs each item once when it is due, late by at most a grain, never early', () => {
    const ran: string[] = []
    const schedule = new Schedule<string>(100, (item) => ran.push(item))
    schedule.add('a', 250)
    schedule.add('b', 1000)
    vi.advanceTimersByTime(249)
    expect(ran).toEqual([])
    vi.advanceTimersByTime(101)
    expect(ran).toEqual(['a'])
    vi.advanceTimersByTime(10_000)
    expect(ran).toEqual(['a', 'b'])
    expect(schedule.size).toEqual({ items: 0, timers: 0 })
  })

  it('gives a thousand items due over three seconds one timer per grain, not one each', () => {
    const schedule = new Schedule<number>(100, () => {})
    for (let i = 0; i < 1000; i++) schedule.add(i, 27_000 + ((i * 3) % 3000))
    const { items, timers } = schedule.size
    expect(items).toBe(1000)
    expect(timers).toBeLessThanOrEqual(31)
    expect(vi.getTimerCount()).toBe(timers)
  })

  it('does not run a cancelled item, and lets a grain that has nothing left go with its timer', () => {
    const ran: string[] = []
    const schedule = new Schedule<string>(100, (item) => ran.push(item))
    const a = schedule.add('a', 500)
    const b = schedule.add('b', 500)
    const alone = schedule.add('alone', 2000)
    expect(a).toBe(b)
    schedule.cancel('a', a)
    schedule.cancel('alone', alone)
    // Cancelling twice, or in the wrong grain, changes nothing.
    schedule.cancel('a', a)
    schedule.cancel('b', alone)
    expect(schedule.size).toEqual({ items: 1, timers: 1 })
    vi.advanceTimersByTime(5000)
    expect(ran).toEqual(['b'])
  })

  it('runs nothing more once cleared', () => {
    const ran: string[] = []
    const schedule = new Schedule<string>(100, (item) => ran.push(item))
    schedule.add('a', 100)
    schedule.clear()
    vi.advanceTimersByTime(1000)
    expect(ran).toEqual([])
    expect(vi.getTimerCount()).toBe(0)
  })
})
