// The probe every benchmark target loads: what it reads about its own process
// over IPC, here V8's garbage-collection pauses beside the CPU time, so that
// the idle scenario can tell V8's own work from the server's.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTarget, type RunningTarget } from '../../benchmarks/targets.ts'

const START_TIMEOUT_MS = 60_000

let target: RunningTarget
beforeAll(async () => {
  target = await startTarget('bare-ws', {}, START_TIMEOUT_MS)
}, START_TIMEOUT_MS + 10_000)
afterAll(async () => {
  await target?.stop()
})

describe('the benchmark probe', () => {
  it('counts the GC pauses of the full collection a reading asks for', async () => {
    const first = await target.probe()
    const collected = await target.probe(true)
    expect(collected.collected).toBe(true)
    // Two full passes of a heap of megabytes: each a pause of its own, which the reading already counts.
    expect(collected.gcPauseMs).toBeGreaterThan(first.gcPauseMs)
    // Pauses are part of the process's CPU time, never more than it.
    expect(collected.gcPauseMs - first.gcPauseMs).toBeLessThanOrEqual(
      (collected.cpuUserUs + collected.cpuSystemUs - first.cpuUserUs - first.cpuSystemUs) / 1000 + 1,
    )
  })
})
