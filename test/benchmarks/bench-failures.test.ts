// `npm run bench` as its own process, when things go wrong: an --out it cannot
// write fails before anything is measured; a scenario that throws, or a
// SIGTERM, leaves what was measured before in a partial run file and a
// non-zero exit. Small runs (the wire scenario on WebSocket alone, then the
// ticker), each a few seconds; nothing here asserts a timing.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { checkResults, type BenchResults } from '../../benchmarks/schema.ts'
import { root, runBench } from './bench-process.ts'

const HARD_LIMIT_MS = 90_000
const SMALL_RUN = ['--quick', '--scenario', 'wire,ticker', '--transports', 'websocket', '--no-baselines']
const temp = mkdtempSync(join(tmpdir(), 'transport-lab-bench-failures-'))
afterAll(() => rmSync(temp, { recursive: true, force: true }))

function onlyRunFile(out: string): { file: string; results: BenchResults } {
  const files = readdirSync(out)
  expect(files).toHaveLength(1)
  expect(files[0]).toMatch(/^run-.*\.json$/)
  const file = join(out, files[0]!)
  return { file, results: JSON.parse(readFileSync(file, 'utf8')) as BenchResults }
}

describe('npm run bench, when something fails', () => {
  it(
    'refuses an --out it cannot create before it measures anything',
    async () => {
      const file = join(temp, 'a-file')
      writeFileSync(file, '')
      const out = join(file, 'results')
      const { code, stdout, stderr } = await runBench([...SMALL_RUN, '--out', out], { hardLimitMs: HARD_LIMIT_MS })
      expect(code).toBe(2)
      expect(stderr).toBe(
        `bench: --out ${out}: the results cannot be written there ` +
          `(ENOTDIR: not a directory, mkdir '${out}'); nothing was measured\n`,
      )
      expect(stdout).toBe('')
    },
    HARD_LIMIT_MS + 10_000,
  )

  it(
    'writes what it measured before a scenario threw, as a partial run, into the --out it created, and exits 1',
    async () => {
      const out = join(temp, 'threw', 'nested')
      // A history of 5 messages cannot hold the ticker's measured window (10 updates a second for 2 s): the
      // scenario throws, as it does whenever HISTORY_LIMIT is too small for it.
      const { code, stdout, stderr } = await runBench([...SMALL_RUN, '--out', out], {
        hardLimitMs: HARD_LIMIT_MS,
        env: { HISTORY_LIMIT: '5' },
      })
      expect(code, stderr.slice(-3000)).toBe(1)
      expect(stderr).toContain('bench: ticker failed; the run stopped there.')
      const { file, results } = onlyRunFile(out)
      expect(checkResults(results)).toEqual([])
      expect(results.partial).toEqual({
        failures: [
          {
            step: 'ticker',
            error: "the ticker room's log no longer holds the measured window (HISTORY_LIMIT): measure a shorter one",
            outcome: 'stopped',
          },
        ],
        notMeasured: ['ticker'],
      })
      expect(results.wire!.rows.map((r) => `${r.subject} ${r.textBytes}`)).toEqual([
        'lab/websocket 16',
        'lab/websocket 256',
        'lab/websocket 4096',
      ])
      expect(results.ticker).toBeUndefined()
      expect(stdout).toContain(`Written: ${relative(root, file)} (a partial run, ticker stopped: `)
    },
    HARD_LIMIT_MS + 10_000,
  )

  it(
    'writes what it measured before a SIGTERM as a partial run',
    async () => {
      const out = join(temp, 'stopped')
      let signalled = false
      const { code, stderr } = await runBench([...SMALL_RUN, '--out', out], {
        hardLimitMs: HARD_LIMIT_MS,
        onStderr: (text, child) => {
          if (signalled || !text.includes('wire done')) return
          signalled = true
          child.kill('SIGTERM')
        },
      })
      expect(signalled).toBe(true)
      expect(code, stderr.slice(-3000)).toBe(143)
      const { file, results } = onlyRunFile(out)
      expect(checkResults(results)).toEqual([])
      expect(results.partial!.failures).toMatchObject([{ error: 'stopped (SIGTERM)', outcome: 'stopped' }])
      expect(results.partial!.notMeasured).toEqual(['ticker'])
      expect(results.wire!.rows).toHaveLength(3)
      expect(stderr).toContain(`What the run had measured is in ${relative(root, file)} (a partial run).`)
      expect(existsSync(join(out, 'latest.json'))).toBe(false)
    },
    HARD_LIMIT_MS + 10_000,
  )
})
