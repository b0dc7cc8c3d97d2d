// What a run does when a step fails: a step that throws ends the run, and what
// came before it is written as a partial run; a process that does not start is
// started once more, and when it fails again the scenario that needed it is
// skipped and noted while the run goes on. The starts are real processes
// (Transport Lab's server, a load client) given 50 ms to start, which no
// Node process that loads TypeScript can do.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, join } from 'node:path'
import { PassThrough } from 'node:stream'
import { afterAll, describe, expect, it } from 'vitest'
import { Context, settingsOf } from '../../benchmarks/context.ts'
import { parseOptions, SCENARIOS, type Options } from '../../benchmarks/options.ts'
import { writeRun } from '../../benchmarks/output.ts'
import { Progress } from '../../benchmarks/report/progress.ts'
import { assembleResults, type Sections } from '../../benchmarks/results.ts'
import { checkResults } from '../../benchmarks/schema.ts'
import { runSteps, type Step } from '../../benchmarks/steps.ts'
import { subjectsFor } from '../../benchmarks/subjects.ts'
import { loadConfig, type Config } from '../../server/config.ts'
import { fixtureResults } from './fixture.ts'

const temp = mkdtempSync(join(tmpdir(), 'transport-lab-steps-'))
afterAll(() => rmSync(temp, { recursive: true, force: true }))

const config = loadConfig([], {}) as Config
const quietProgress = () => new Progress(new PassThrough() as unknown as NodeJS.WriteStream)

function context(options: Options): Context {
  return new Context(
    options,
    settingsOf(config, {}),
    subjectsFor(options.transports, options.baselines),
    quietProgress(),
  )
}

describe('runSteps', () => {
  it('stops at a step that throws, and what came before is written as a partial run', async () => {
    const options = parseOptions([], temp) as Options
    const ctx = context(options)
    const sections: Sections = {}
    const ran: string[] = []
    const steps: Step[] = [
      {
        name: 'wire',
        scenario: true,
        run: async () => {
          ran.push('wire')
          sections.wire = fixtureResults().wire
        },
      },
      {
        name: 'latency',
        scenario: true,
        run: async () => {
          ran.push('latency')
          throw new Error('load exited (SIGKILL) during call 7\nits last output')
        },
      },
      { name: 'throughput', scenario: true, run: async () => void ran.push('throughput') },
    ]
    const stopped = await runSteps(steps, (error, step) => ctx.skipped(error, step))
    expect(ran).toEqual(['wire', 'latency'])
    expect(stopped?.failure).toEqual({
      step: 'latency',
      error: 'load exited (SIGKILL) during call 7',
      outcome: 'stopped',
    })

    const { results } = assembleResults({
      options,
      config,
      labEnv: {},
      argv: [],
      startedAt: new Date(),
      loadAtStart: [0, 0, 0],
      sections,
      accounts: ctx.accounts,
      notes: ctx.notes,
      failures: [...ctx.failures, stopped!.failure],
    })
    expect(checkResults(results)).toEqual([])
    const out = join(temp, 'partial')
    mkdirSync(out)
    const written = await writeRun(results, out)
    expect(written.kind).toBe('partial')
    expect(readdirSync(out)).toEqual([basename(written.runFile)])
    const saved = JSON.parse(readFileSync(written.runFile, 'utf8')) as typeof results
    expect(saved.wire).toEqual(sections.wire)
    expect(saved.partial).toEqual({
      failures: [stopped!.failure],
      notMeasured: SCENARIOS.filter((s) => s !== 'wire'),
    })
    expect(saved.notes.at(-1)).toMatch(/^Partial run: it stopped at latency \(load exited/)
  })

  it('skips a scenario whose server does not start at either attempt, notes why, and goes on', async () => {
    const ctx = context({ ...(parseOptions(['--quick'], temp) as Options), startTimeoutMs: 50 })
    const ran: string[] = []
    const steps: Step[] = [
      { name: 'ticker', scenario: true, run: async () => void (await ctx.labWith({})) },
      { name: 'dead-peers', scenario: true, run: async () => void ran.push('dead-peers') },
    ]
    const stopped = await runSteps(steps, (error, step) => ctx.skipped(error, step))
    expect(stopped).toBeNull()
    expect(ran).toEqual(['dead-peers'])
    expect(ctx.failures).toEqual([
      {
        step: 'ticker',
        error:
          'lab did not start at either attempt: lab did not start within 50 ms; then lab did not start within 50 ms',
        outcome: 'skipped',
      },
    ])
    expect(ctx.notes).toEqual([
      'lab did not start at the first attempt (lab did not start within 50 ms) and was started once more.',
      `Not measured: ticker, because ${ctx.failures[0]!.error}.`,
    ])
  })

  it('stops the run when the load process, which every scenario needs, does not start at either attempt', async () => {
    const ctx = context({ ...(parseOptions(['--quick'], temp) as Options), startTimeoutMs: 50 })
    const steps: Step[] = [
      { name: 'starting the load process', scenario: false, run: () => ctx.startLoadProcess() },
      { name: 'wire', scenario: true, run: async () => {} },
    ]
    const stopped = await runSteps(steps, (error, step) => ctx.skipped(error, step))
    expect(stopped?.failure).toEqual({
      step: 'starting the load process',
      error:
        'load did not start at either attempt: load did not start within 50 ms; then load did not start within 50 ms',
      outcome: 'stopped',
    })
    expect(ctx.failures).toEqual([])
  })
})

describe('--start-timeout', () => {
  it('gives every start 120 s unless it says otherwise, in seconds', () => {
    expect((parseOptions([], temp) as Options).startTimeoutMs).toBe(120_000)
    expect((parseOptions(['--quick'], temp) as Options).startTimeoutMs).toBe(120_000)
    expect((parseOptions(['--start-timeout', '300'], temp) as Options).startTimeoutMs).toBe(300_000)
    expect(() => parseOptions(['--start-timeout', '0'], temp)).toThrow(
      '--start-timeout 0: expected an integer from 1 to 3600',
    )
  })
})
