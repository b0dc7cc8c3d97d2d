// Which files a run writes, and where. The reference run's latest.json,
// latest.md and charts (what the README quotes and GET /api/bench serves) are
// written by a complete default run only; a quick run's report goes to quick/,
// any other run gets its run file only. Real files in a temporary folder; the
// options come from the command line parser, as the runner gets them.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { parseOptions, UsageError, type Options } from '../../benchmarks/options.ts'
import { prepareOut, reportDir, resultsJson, runKind, writeRun, type RunKind } from '../../benchmarks/output.ts'
import type { BenchResults } from '../../benchmarks/schema.ts'
import { fixtureResults } from './fixture.ts'

const temp = mkdtempSync(join(tmpdir(), 'transport-lab-output-'))
afterAll(() => rmSync(temp, { recursive: true, force: true }))
let folders = 0
const freshFolder = () => join(temp, `out-${++folders}`)

const optionsOf = (argv: string[]) => parseOptions(argv, '/unused') as Options
const kindOf = (argv: string[], partial?: BenchResults['partial']): RunKind =>
  runKind({ options: optionsOf(argv), ...(partial ? { partial } : {}) })

/** The fixture as a run of everything at its preset's counts (its rows are few; what matters is what was asked for). */
function completeRun(quick: boolean): BenchResults {
  const results = fixtureResults()
  const { scenarios, transports, baselines, clients, rate, receivers, slowReaders, fanouts, throughputMs } = optionsOf(
    quick ? ['--quick'] : [],
  )
  results.mode = quick ? 'quick' : 'default'
  results.options = {
    ...results.options,
    quick,
    scenarios,
    transports,
    baselines,
    clients,
    rate,
    receivers,
    slowReaders,
    fanouts,
    throughputMs,
  }
  return results
}

/** A folder that already holds a reference run's files, as benchmarks/results/ does. */
function folderWithReference(): { out: string; before: Record<string, string> } {
  const out = freshFolder()
  mkdirSync(out, { recursive: true })
  const before: Record<string, string> = {
    'latest.json': '{"the":"reference run"}\n',
    'latest.md': '# the reference run\n',
    'wire.svg': '<svg/>\n',
  }
  for (const [name, text] of Object.entries(before)) writeFileSync(join(out, name), text)
  return { out, before }
}

const contents = (out: string, names: string[]) =>
  Object.fromEntries(names.map((name) => [name, readFileSync(join(out, name), 'utf8')]))

describe('parseOptions', () => {
  it('reads the throughput fan-outs as a list, smallest first, and the window in ms, refusing anything else', () => {
    expect(optionsOf(['--fanouts', '100,1,10']).fanouts).toEqual([1, 10, 100])
    expect(optionsOf(['--throughput-ms', '10000']).throughputMs).toBe(10_000)
    expect(optionsOf([]).fanouts).toEqual([1, 100])
    expect(optionsOf(['--quick']).throughputMs).toBe(400)
    for (const argv of [
      ['--fanouts', '0'],
      ['--fanouts', '1,x'],
      ['--fanouts', '1001'],
      ['--throughput-ms', '0'],
    ])
      expect(() => optionsOf(argv), argv.join(' ')).toThrow(UsageError)
  })
})

describe('runKind and reportDir', () => {
  it('make a complete default run the reference run, whose report is latest.* in --out', () => {
    expect(kindOf([])).toBe('reference')
    expect(reportDir('reference', '/r')).toBe('/r')
  })

  it('give a complete --quick run a report of its own in quick/, never latest.* in --out', () => {
    expect(kindOf(['--quick'])).toBe('quick')
    expect(reportDir('quick', '/r')).toBe(join('/r', 'quick'))
  })

  it('give a run of some scenarios or transports, without baselines, with other counts or profiled its run file only', () => {
    for (const argv of [
      ['--scenario', 'wire'],
      ['--transports', 'websocket,sse'],
      ['--no-baselines'],
      ['--clients', '2000'],
      ['--rate', '100'],
      ['--receivers', '10'],
      ['--slow-readers', '5'],
      ['--repetitions', '1'],
      ['--fanouts', '1'],
      ['--throughput-ms', '10000'],
      ['--quick', '--scenario', 'ticker'],
      ['--profile', '/tmp/profiles'],
      ['--quick', '--profile', '/tmp/profiles'],
    ]) {
      expect(kindOf(argv), argv.join(' ')).toBe('custom')
    }
    expect(reportDir('custom', '/r')).toBeNull()
  })

  it('make a run that did not measure everything it was asked to a partial run, with its run file only', () => {
    const partial = { failures: [{ step: 'idle', error: 'boom', outcome: 'stopped' as const }], notMeasured: ['idle'] }
    expect(kindOf([], partial)).toBe('partial')
    expect(kindOf(['--quick'], partial)).toBe('partial')
    expect(reportDir('partial', '/r')).toBeNull()
  })
})

describe('writeRun', () => {
  it('leaves the reference run in --out as it was after a quick run, whose report goes to quick/', async () => {
    const { out, before } = folderWithReference()
    const results = completeRun(true)
    const written = await writeRun(results, out)
    expect(written.kind).toBe('quick')
    expect(contents(out, Object.keys(before))).toEqual(before)
    expect(readFileSync(join(out, 'quick', 'latest.json'), 'utf8')).toBe(resultsJson(results))
    expect(existsSync(join(out, 'quick', 'latest.md'))).toBe(true)
    expect(written.charts.length).toBeGreaterThan(0)
    for (const chart of written.charts) expect(existsSync(join(out, 'quick', chart)), chart).toBe(true)
    expect(readFileSync(written.runFile, 'utf8')).toBe(resultsJson(results))
  })

  it('replaces latest.json, latest.md and the charts in --out with a reference run', async () => {
    const { out } = folderWithReference()
    const results = completeRun(false)
    const written = await writeRun(results, out)
    expect(written.kind).toBe('reference')
    expect(readFileSync(join(out, 'latest.json'), 'utf8')).toBe(resultsJson(results))
    expect(readFileSync(join(out, 'latest.md'), 'utf8')).toContain('A default run')
    expect(readFileSync(join(out, 'wire.svg'), 'utf8')).toContain('<svg')
    expect(existsSync(join(out, 'quick'))).toBe(false)
  })

  it('writes only the run file of a partial run, marked partial, and touches nothing else', async () => {
    const { out, before } = folderWithReference()
    const results = completeRun(false)
    results.partial = {
      failures: [{ step: 'idle', error: 'the load process exited', outcome: 'stopped' }],
      notMeasured: ['idle', 'noisy', 'slow-readers', 'dead-peers', 'ticker'],
    }
    const written = await writeRun(results, out)
    expect(written).toMatchObject({ kind: 'partial', reportDir: null, charts: [] })
    expect(readdirSync(out).sort()).toEqual([...Object.keys(before), 'run-2026-01-01T00-00-00-000Z.json'].sort())
    expect(contents(out, Object.keys(before))).toEqual(before)
    expect(JSON.parse(readFileSync(written.runFile, 'utf8'))).toEqual(results)
  })
})

describe('prepareOut', () => {
  it('creates a missing --out and its missing parents, and leaves nothing in it', async () => {
    const out = join(freshFolder(), 'not', 'yet')
    await prepareOut(out)
    expect(readdirSync(out)).toEqual([])
  })

  it('refuses, naming the folder, an --out that cannot be created', async () => {
    const file = join(temp, 'a-file')
    writeFileSync(file, '')
    await expect(prepareOut(join(file, 'results'))).rejects.toThrow(UsageError)
    await expect(prepareOut(join(file, 'results'))).rejects.toThrow(
      `--out ${join(file, 'results')}: the results cannot be written there (ENOTDIR`,
    )
  })
})
