// The idle scenario, read from a real run: the crowd comes in two halves, and
// a connection costs what the second half added, so that what the server pays
// once (code compiled for the first join) is not charged to every connection;
// CPU is counted over the last hold, which starts after a full GC, and V8's
// GC pauses in it are shown apart.
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { memoryPerConnection } from '../../benchmarks/metrics.ts'
import { renderMarkdown } from '../../benchmarks/report/markdown.ts'
import type { BenchResults } from '../../benchmarks/schema.ts'
import { runBench } from './bench-process.ts'

let temp: string
let results: BenchResults
beforeAll(async () => {
  temp = await mkdtemp(join(tmpdir(), 'bench-idle-'))
  const out = join(temp, 'out')
  const { code, stderr } = await runBench(
    [
      ...['--quick', '--scenario', 'idle', '--transports', 'websocket', '--clients', '10'],
      ...['--repetitions', '1', '--no-baselines', '--out', out],
    ],
    { hardLimitMs: 120_000 },
  )
  expect(code, stderr).toBe(0)
  // A custom run: its run file only.
  const [file] = (await readdir(out)).filter((f) => /^run-.*\.json$/.test(f))
  results = JSON.parse(await readFile(join(out, file!), 'utf8')) as BenchResults
}, 150_000)
afterAll(async () => {
  await rm(temp, { recursive: true, force: true })
})

describe('the idle scenario', () => {
  it('reads memory per connection as what the second half of the crowd added to the first', () => {
    const row = results.idle!.rows[0]!
    expect(row.connected).toBe(10)
    expect(row.connectedBefore).toBe(5)
    // One repetition: the row's figures are that reading's own, the difference charged to the second half.
    const reading = (heapUsedBytes: number, rssBytes: number, youngGenerationBytes = 0) => ({
      heapUsedBytes,
      rssBytes,
      youngGenerationBytes,
    })
    const expected = memoryPerConnection(
      reading(row.heapBeforeBytes, row.rssBeforeBytes, row.youngBeforeBytes),
      reading(row.heapAfterBytes, row.rssAfterBytes, row.youngAfterBytes),
      5,
    )
    expect(row.heapPerConnectionBytes).toBeCloseTo(expected.heapBytes, 6)
    expect(row.rssPerConnectionBytes).toBeCloseTo(expected.rssBytes, 6)
    expect(renderMarkdown(results)).toMatch(/memory per connection = \(after − before\) \/ the second half/)
  })

  it('starts the hold that CPU is counted over after a full GC, so that the joins’ garbage is not charged to it', () => {
    expect(results.idle!.rows[0]!.holdAfterGc).toBe(true)
    expect(renderMarkdown(results)).toMatch(/the last hold, which starts after a full GC/)
  })

  it('shows V8’s GC pauses in the hold apart from its CPU, as part of it', () => {
    const row = results.idle!.rows[0]!
    expect(row.serverGcSecondsPerMinute).toBeGreaterThanOrEqual(0)
    expect(row.serverGcSecondsPerMinute).toBeLessThanOrEqual(row.serverCpuSecondsPerMinute)
    expect(renderMarkdown(results)).toMatch(/\| server CPU-s\/min \| of which GC-s\/min \|/)
  })
})
