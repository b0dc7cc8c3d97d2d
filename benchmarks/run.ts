// `npm run bench`: starts the targets and a load-client process, runs the
// scenarios, checks its own accounting, writes benchmarks/results/ (JSON,
// Markdown, SVG; see output.ts for which files a run writes) and prints the
// comparison table (or the JSON with --json). Every child is killed when this
// process ends, and the whole run has a hard time limit. A run that ends early
// (a step that threw, the time limit, Ctrl-C) writes what it had measured.
import { readFile } from 'node:fs/promises'
import { loadavg, tmpdir } from 'node:os'
import { basename, join, relative, resolve } from 'node:path'
import { loadConfig } from '../server/config.ts'
import { Context, settingsOf } from './context.ts'
import { fdLimit, labEnvironment } from './environment.ts'
import { HELP, parseOptions, UsageError, type Options, type ScenarioName } from './options.ts'
import { prepareOut, resultsJson, writeReport, writeRun, writeRunFile, type Written } from './output.ts'
import { firstLine, killAll, ROOT } from './processes.ts'
import { renderTerminal } from './report/markdown.ts'
import { Progress } from './report/progress.ts'
import { assembleResults, type Measured, type Sections } from './results.ts'
import { checkResults, RESULTS_VERSION, type BenchResults, type Failure } from './schema.ts'
import { deadPeersEnv, runDeadPeers } from './scenarios/dead-peers.ts'
import { runIdle, CLIENTS_PER_LOAD_PROCESS } from './scenarios/idle.ts'
import { runJoins } from './scenarios/joins.ts'
import { runLatency } from './scenarios/latency.ts'
import { NOISY_SERVERS, runNoisy } from './scenarios/noisy.ts'
import { runSlowReaders, slowReadersServers } from './scenarios/slow-readers.ts'
import { runThroughput } from './scenarios/throughput.ts'
import { runScale } from './scenarios/scale.ts'
import { runTicker, tickerEnv } from './scenarios/ticker.ts'
import { runWire } from './scenarios/wire.ts'
import { runSteps, type Step } from './steps.ts'
import { subjectsFor } from './subjects.ts'

const DEFAULT_OUT = join(ROOT, 'benchmarks/results')
/** File descriptors a process needs besides its connections. */
const FD_MARGIN = 512

function timeLimitMs(options: Options): number {
  // Joins: each N at most its limit and hold, plus starting and stopping its server.
  const joins = options.scenarios.includes('joins')
    ? 3 * options.joins.length * (options.joinsLimitMs + options.joinsHoldMs + 60_000)
    : 0
  // Scale's three setups (a redis-server, a cluster of four processes) start in its own minute or two.
  if (options.quick) return 600_000 + joins
  // Idle dominates: every subject holds its crowd, and crowds of thousands take time to connect.
  return 25 * 60_000 + Math.ceil(options.clients / 1000) * 10 * 60_000 + joins
}

function checkFdLimit(options: Options): void {
  const limit = fdLimit()
  const check = (option: string, clients: number) => {
    const perLoad = Math.ceil(clients / Math.ceil(clients / CLIENTS_PER_LOAD_PROCESS))
    // The server holds every client's socket; each load process its share.
    const needed = clients + FD_MARGIN
    if (limit !== null && limit < needed) {
      throw new UsageError(
        `${option} needs ${needed} open files in the server process ` +
          `(and ${perLoad + FD_MARGIN} per load process), but ulimit -n is ${limit}. ` +
          `Raise it first, e.g. \`ulimit -n ${Math.max(needed, 20000)}\` (root, or a hard limit that allows it), ` +
          `or use fewer clients.`,
      )
    }
  }
  if (options.scenarios.includes('idle')) check(`--clients ${options.clients}`, options.clients)
  if (options.scenarios.includes('joins')) check(`--joins ${options.joins.join(',')}`, Math.max(...options.joins))
}

const shown = (path: string) => relative(process.cwd(), path)

/** --render: latest.md and the charts from a results file, into --out; never over the reference run's with another run's. */
async function render(file: string, out: string): Promise<number> {
  const results = JSON.parse(await readFile(file, 'utf8')) as BenchResults
  const problems = checkResults(results)
  if (problems.length > 0)
    throw new UsageError(`${file} is not a results file of version ${RESULTS_VERSION}:\n${problems.join('\n')}`)
  // latest.md and the charts in the committed folder must agree with its latest.json, which the README quotes.
  if (resolve(out) === DEFAULT_OUT && resolve(file) !== join(DEFAULT_OUT, 'latest.json'))
    throw new UsageError(
      `--render ${file}: its report would replace the reference run's latest.md and charts in ${shown(out)}, ` +
        `which must agree with its latest.json. Give --out DIR for this run's report.`,
    )
  const charts = await writeReport(results, out)
  process.stdout.write(`Written: ${shown(join(out, 'latest.md'))} and ${charts.length} charts, from ${file}.\n`)
  return 0
}

/** The last line of a run: what was written where, and why latest.* changed or did not. */
function writtenLine(written: Written, results: BenchResults, out: string): string {
  const report =
    written.reportDir &&
    `${shown(join(written.reportDir, 'latest.json'))}, latest.md and ${written.charts.length} charts`
  const kept = `latest.* in ${shown(out) || '.'} left as they were`
  switch (written.kind) {
    case 'reference':
      return `Written: ${report} (the reference run), and ${basename(written.runFile)}.`
    case 'quick':
      return `Written: ${report} (a quick run: the reference run's ${kept}), and ${shown(written.runFile)}.`
    case 'partial': {
      const what = results.partial!.failures.map((f) => `${f.step} ${f.outcome}: ${f.error}`).join('; ')
      return `Written: ${shown(written.runFile)} (a partial run, ${what}; ${kept}).`
    }
    case 'custom':
      return (
        `Written: ${shown(written.runFile)} (not a complete default or quick run: ${kept}; ` +
        `\`--render ${shown(written.runFile)} --out DIR\` makes a report of it).`
      )
  }
}

/** Set while a run measures: writes what it has so far, for a time limit or a signal that ends the process. */
let saveSoFar: ((reason: string) => void) | undefined

function stopNow(reason: string, code: number): never {
  killAll()
  if (saveSoFar) saveSoFar(reason)
  else process.stderr.write(`bench: ${reason}; stopping every process.\n`)
  process.exit(code)
}

async function main(): Promise<number> {
  const options = parseOptions(process.argv.slice(2), DEFAULT_OUT)
  if (options === 'help') {
    process.stdout.write(`${HELP}\n`)
    return 0
  }
  if (options.render) return render(options.render, options.out)
  // Transport Lab reads its settings from the environment plus what the bench adds (the limits out of reach).
  const labEnv = labEnvironment(process.env)
  const config = loadConfig([], { ...process.env, ...labEnv })
  if (config === 'help') return 0
  checkFdLimit(options)
  // Before anything is measured: a folder that cannot be written fails now, not after the run.
  await prepareOut(options.out)

  const limit = timeLimitMs(options)
  const deadline = setTimeout(
    () => stopNow(`the run took longer than its limit of ${Math.round(limit / 1000)} s`, 1),
    limit,
  )
  deadline.unref()

  const startedAt = new Date()
  const loadAtStart = loadavg()
  const progress = new Progress()
  const subjects = subjectsFor(options.transports, options.baselines)
  const ctx = new Context(options, settingsOf(config, labEnv), subjects, progress)
  const sections: Sections = {}
  const measured = (stopped: Failure[]): Measured => ({
    options,
    config,
    labEnv,
    argv: process.argv.slice(2),
    startedAt,
    loadAtStart,
    sections,
    accounts: ctx.accounts,
    notes: ctx.notes,
    failures: [...ctx.failures, ...stopped],
  })

  const has = (name: ScenarioName) => options.scenarios.includes(name)
  const step = (name: string, run: () => Promise<void> | void, when = true): Step[] =>
    when ? [{ name, scenario: false, run: async () => run() }] : []
  const scenario = (name: ScenarioName, run: () => Promise<void>): Step[] =>
    has(name) ? [{ name, scenario: true, run }] : []
  const steps: Step[] = [
    ...step('starting the load process', () => ctx.startLoadProcess()),
    // The shared targets serve wire, latency and throughput; the other scenarios start servers of their own.
    ...step(
      'starting the targets',
      () => ctx.startTargets(ctx.subjects.map((s) => s.target)),
      has('wire') || has('latency') || has('throughput'),
    ),
    // The idle scenario's servers start now and sit idle until it comes: while the wire scenario runs, which counts bytes, not time.
    // So do the servers of the scenarios that need their own settings or a process that has served nothing.
    ...step("starting the later scenarios' servers", () => {
      if (has('idle')) ctx.prepareFresh(ctx.subjects, options.repetitions)
      if (has('noisy')) for (const [key, env] of Object.entries(NOISY_SERVERS)) ctx.prepareLab(key, env)
      if (has('slow-readers')) for (const key of slowReadersServers(options.transports)) ctx.prepareLab(key, {})
      if (has('dead-peers')) ctx.prepareLab('dead-peers', deadPeersEnv(options))
      if (has('ticker')) ctx.prepareLab('ticker', tickerEnv(options))
    }),
    ...scenario('wire', async () => void (sections.wire = await runWire(ctx))),
    ...step("waiting for the later scenarios' servers", () => ctx.spareTargetsStarted()),
    ...scenario('latency', async () => void (sections.latency = await runLatency(ctx))),
    ...scenario('throughput', async () => void (sections.throughput = await runThroughput(ctx))),
    ...scenario('idle', async () => void (sections.idle = await runIdle(ctx))),
    ...step('stopping the shared targets', () => ctx.stopSharedTargets()),
    ...scenario('noisy', async () => void (sections.noisy = await runNoisy(ctx))),
    ...scenario('slow-readers', async () => void (sections.slowReaders = await runSlowReaders(ctx))),
    ...scenario('dead-peers', async () => void (sections.deadPeers = await runDeadPeers(ctx))),
    ...scenario('ticker', async () => void (sections.ticker = await runTicker(ctx))),
    ...scenario('joins', async () => void (sections.joins = await runJoins(ctx))),
    // Last: it starts a redis-server, nginx and several servers of its own, and stops them when it is done.
    ...scenario('scale', async () => void (sections.scale = await runScale(ctx))),
  ]

  let current = 'starting'
  saveSoFar = (reason) => {
    try {
      const { results } = assembleResults(measured([{ step: current, error: reason, outcome: 'stopped' }]))
      const file = writeRunFile(results, options.out)
      process.stderr.write(
        `bench: ${reason}, during ${current}; every process stopped. What the run had measured is in ${shown(file)} (a partial run).\n`,
      )
    } catch (error) {
      process.stderr.write(
        `bench: ${reason}; every process stopped, and what was measured could not be written: ${firstLine(error)}\n`,
      )
    }
  }
  let stopped
  try {
    stopped = await runSteps(
      steps,
      (error, name) => ctx.skipped(error, name),
      (name) => (current = name),
    )
  } finally {
    saveSoFar = undefined
    progress.stop()
    await ctx.stop()
  }
  if (stopped) {
    const { error } = stopped
    process.stderr.write(
      `bench: ${stopped.failure.step} failed; the run stopped there.\n` +
        `${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    )
  }

  const { results, problems } = assembleResults(measured(stopped ? [stopped.failure] : []))
  const json = resultsJson(results)
  let written: Written
  try {
    written = await writeRun(results, options.out)
  } catch (error) {
    // --out could be written at the start; if it no longer can, the results go to the system's temporary folder, not nowhere.
    const file = writeRunFile(results, tmpdir())
    process.stderr.write(
      `bench: the results could not be written to ${options.out} (${firstLine(error)}); they are in ${file}.\n`,
    )
    if (options.json) process.stdout.write(json)
    return 1
  }

  const line = writtenLine(written, results, options.out)
  if (options.json) {
    process.stdout.write(json)
    process.stderr.write(`${line}\n`)
  } else process.stdout.write(`${renderTerminal(results)}\n\n${line}\n`)
  for (const problem of problems) process.stderr.write(`bench: self-check failed: ${problem}\n`)
  return results.partial || problems.length > 0 ? 1 : 0
}

process.once('SIGINT', () => stopNow('interrupted (SIGINT)', 130))
process.once('SIGTERM', () => stopNow('stopped (SIGTERM)', 143))

main().then(
  (code) => {
    killAll()
    process.exit(code)
  },
  (error: unknown) => {
    if (error instanceof UsageError) process.stderr.write(`bench: ${error.message}\n`)
    else process.stderr.write(`bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`)
    killAll()
    process.exit(error instanceof UsageError ? 2 : 1)
  },
)
