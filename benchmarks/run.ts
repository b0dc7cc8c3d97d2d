// `npm run bench`: starts the targets and a load-client process, runs the
// scenarios, checks its own accounting, writes benchmarks/results/ (JSON,
// Markdown, SVG) and prints the comparison table (or the JSON with --json).
// Every child is killed when this process ends, and the whole run has a hard
// time limit.
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { cpus, loadavg } from 'node:os'
import { join, relative } from 'node:path'
import { loadConfig, type Config } from '../server/config.ts'
import { TRANSPORTS } from '../server/core/protocol.ts'
import { addAccounts, type Accounting } from './accounting.ts'
import { Context, type Settings } from './context.ts'
import { environment, fdLimit, labEnvironment, sharedEnvironment } from './environment.ts'
import { startLoad, type LoadProcess } from './load.ts'
import { HELP, parseOptions, SCENARIOS, UsageError, type Options } from './options.ts'
import { killAll, ROOT } from './processes.ts'
import { chartSpecs, renderSvg } from './report/charts.ts'
import { comparisons } from './report/compare.ts'
import { renderMarkdown, renderTerminal } from './report/markdown.ts'
import { Progress } from './report/progress.ts'
import { checkResults, RESULTS_VERSION, type BenchResults } from './schema.ts'
import { deadPeersEnv, runDeadPeers } from './scenarios/dead-peers.ts'
import { runIdle, CLIENTS_PER_LOAD_PROCESS } from './scenarios/idle.ts'
import { runLatency } from './scenarios/latency.ts'
import { NOISY_SERVERS, runNoisy } from './scenarios/noisy.ts'
import { runSlowReaders, slowReadersServers } from './scenarios/slow-readers.ts'
import { runThroughput } from './scenarios/throughput.ts'
import { runTicker, tickerEnv } from './scenarios/ticker.ts'
import { runWire } from './scenarios/wire.ts'
import { subjectsFor } from './subjects.ts'

const DEFAULT_OUT = join(ROOT, 'benchmarks/results')
/** File descriptors a process needs besides its connections. */
const FD_MARGIN = 512

function timeLimitMs(options: Options): number {
  if (options.quick) return 230_000
  // Idle dominates: every subject holds its crowd, and crowds of thousands take time to connect.
  return 25 * 60_000 + Math.ceil(options.clients / 1000) * 10 * 60_000
}

function checkFdLimit(options: Options): void {
  if (!options.scenarios.includes('idle')) return
  const limit = fdLimit()
  const perLoad = Math.ceil(options.clients / Math.ceil(options.clients / CLIENTS_PER_LOAD_PROCESS))
  // The server holds every client's socket; each load process its share.
  const needed = options.clients + FD_MARGIN
  if (limit !== null && limit < needed) {
    throw new UsageError(
      `--clients ${options.clients} needs ${needed} open files in the server process ` +
        `(and ${perLoad + FD_MARGIN} per load process), but ulimit -n is ${limit}. ` +
        `Raise it first, e.g. \`ulimit -n ${Math.max(needed, 20000)}\` (root, or a hard limit that allows it), ` +
        `or use fewer clients.`,
    )
  }
}

function account(list: Accounting[] | undefined): Accounting {
  const sum = addAccounts(list ?? [])
  return { receivers: (list ?? []).reduce((n, a) => n + a.receivers, 0), ...sum }
}

/** The bench checks its own measurement; a failed check is a bug in the bench, not a finding. */
function selfCheck(results: BenchResults): string[] {
  const problems: string[] = []
  const balance = (where: string, a: Accounting) => {
    if (a.delivered + a.lost !== a.expected)
      problems.push(`${where}: delivered ${a.delivered} + lost ${a.lost} != expected ${a.expected}`)
    if (a.losses.reduce((n, l) => n + l.count, 0) !== a.lost)
      problems.push(`${where}: the reasons given cover ${a.losses.reduce((n, l) => n + l.count, 0)} of ${a.lost} lost`)
  }
  balance('total', results.accounting.total)
  for (const [scenario, a] of Object.entries(results.accounting.byScenario)) balance(scenario, a)
  for (const row of results.latency?.rows ?? []) {
    if (row.latency.count !== row.deliveriesMeasured)
      problems.push(`latency ${row.subject}: ${row.latency.count} samples for ${row.deliveriesMeasured} deliveries`)
    balance(`latency ${row.subject}`, row.accounting)
  }
  for (const row of results.noisy?.rows ?? []) {
    if (row.latency.count !== row.deliveriesMeasured)
      problems.push(`noisy ${row.label}: ${row.latency.count} samples for ${row.deliveriesMeasured} deliveries`)
    if (row.latency.count === 0) problems.push(`noisy ${row.label}: no bystander latency was recorded`)
    balance(`noisy ${row.label}`, row.accounting)
    const flood = row.flood
    if (flood && flood.accepted > flood.attempted)
      problems.push(
        `noisy ${row.label}: the server accepted ${flood.accepted} flood messages of ${flood.attempted} sent`,
      )
  }
  for (const row of results.slowReaders?.rows ?? []) {
    balance(`slow-readers ${row.transport} bystander`, row.bystander)
    const told = row.told.reduce((n, t) => n + t.count, 0)
    if (told !== row.readers)
      problems.push(`slow-readers ${row.transport}: ${told} outcomes for ${row.readers} readers`)
    if (row.samples === 0) problems.push(`slow-readers ${row.transport}: no memory reading during the flood`)
  }
  for (const row of results.ticker?.rows ?? []) {
    balance(`ticker ${row.subject}`, row.accounting)
    if (row.age.count !== row.received)
      problems.push(`ticker ${row.subject}: ${row.age.count} ages for ${row.received} updates received`)
  }
  for (const row of results.deadPeers?.rows ?? []) {
    if (row.expectedMinMs > row.expectedMaxMs)
      problems.push(`dead-peers ${row.transport}: a window from ${row.expectedMinMs} to ${row.expectedMaxMs} ms`)
  }
  problems.push(...checkResults(results).map((p) => `schema: ${p}`))
  return problems
}

function standardNotes(options: Options, config: Config): string[] {
  return [
    `Socket.IO load clients use transports: ['websocket'] (no Engine.IO polling phase); ` +
      `the handshake table also shows the client's default start (polling, then upgrade).`,
    `Short polling runs at the server's configured interval, ` +
      `SHORT_POLL_INTERVAL_MS = ${config.shortPollIntervalMs} ms, in every scenario.`,
    'The baselines count bytes with the same WireMeter class as Transport Lab (imported unchanged), ' +
      "so bytes are measured alike and the meter's own small cost is on both sides of every ratio.",
    'Throughput and latency messages carry 64 bytes of text; ' +
      'Socket.IO and WebSocket sends are plain frames without an ack; HTTP sends are POSTs answered with an ack.',
    "Servers, baselines and the load client share this machine's cores: absolute figures move from run to run; " +
      'ratios to baselines measured in the same run are the figures to read.',
    ...(options.quick
      ? ['Quick run: counts are small and windows short; the figures are a smoke test, not results to quote.']
      : []),
  ]
}

/** Other processes on the machine move every timing: the run says how busy it was. */
function loadNote(atStart: number[], atEnd: number[]): string {
  const show = (l: number[]) => l.map((v) => v.toFixed(2)).join(', ')
  return (
    `The machine's load average (1, 5, 15 min) was ${show(atStart)} when the run started, before its own processes, ` +
    `and ${show(atEnd)} when it ended, on ${cpus().length} cores; ` +
    `at the start, above the core count means other processes were competing for the CPU.`
  )
}

/** latest.md and the SVG charts; returns the charts' file names. */
async function writeReport(results: BenchResults, out: string): Promise<string[]> {
  await mkdir(out, { recursive: true })
  const charts: string[] = []
  for (const [name, spec] of Object.entries(chartSpecs(results))) {
    await writeFile(join(out, name), await renderSvg(spec))
    charts.push(name)
  }
  await writeFile(join(out, 'latest.md'), renderMarkdown(results, charts))
  return charts
}

async function main(): Promise<number> {
  let options
  try {
    options = parseOptions(process.argv.slice(2), DEFAULT_OUT)
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`bench: ${error.message}\n`)
      return 2
    }
    throw error
  }
  if (options === 'help') {
    process.stdout.write(`${HELP}\n`)
    return 0
  }
  if (options.render) {
    const results = JSON.parse(await readFile(options.render, 'utf8')) as BenchResults
    const problems = checkResults(results)
    if (problems.length > 0)
      throw new UsageError(
        `${options.render} is not a results file of version ${RESULTS_VERSION}:\n${problems.join('\n')}`,
      )
    const charts = await writeReport(results, options.out)
    process.stdout.write(
      `Written: ${relative(process.cwd(), join(options.out, 'latest.md'))} and ${charts.length} charts, from ${options.render}.\n`,
    )
    return 0
  }
  // Transport Lab reads its settings from the environment plus what the bench adds (the limits out of reach).
  const labEnv = labEnvironment(process.env)
  const config = loadConfig([], { ...process.env, ...labEnv })
  if (config === 'help') return 0
  checkFdLimit(options)

  const limit = timeLimitMs(options)
  const deadline = setTimeout(() => {
    process.stderr.write(
      `bench: the run took longer than its limit of ${Math.round(limit / 1000)} s; stopping every process.\n`,
    )
    killAll()
    process.exit(1)
  }, limit)
  deadline.unref()

  const startedAt = new Date()
  const loadAtStart = loadavg()
  const progress = new Progress()
  const settings: Settings = {
    env: sharedEnvironment(config),
    labEnv,
    config,
    shortPollIntervalMs: config.shortPollIntervalMs,
    longPollTimeoutMs: config.longPollTimeoutMs,
    historyLimit: config.historyLimit,
  }
  const subjects = subjectsFor(options.transports, options.baselines)
  let load: LoadProcess | undefined
  let ctx: Context | undefined
  const sections: Partial<
    Pick<BenchResults, 'wire' | 'latency' | 'throughput' | 'idle' | 'noisy' | 'slowReaders' | 'deadPeers' | 'ticker'>
  > = {}
  try {
    load = await startLoad('load')
    ctx = new Context(options, settings, subjects, progress, load)
    // The shared targets serve wire, latency and throughput; the other scenarios start servers of their own.
    if (options.scenarios.some((s) => s === 'wire' || s === 'latency' || s === 'throughput'))
      await ctx.startTargets(subjects.map((s) => s.target))
    // The idle scenario's servers start now and sit idle until it comes: while the wire scenario runs, which counts bytes, not time.
    // So do the servers of the scenarios that need their own settings or a process that has served nothing.
    if (options.scenarios.includes('idle')) ctx.prepareFresh(subjects)
    if (options.scenarios.includes('noisy'))
      for (const [key, env] of Object.entries(NOISY_SERVERS)) ctx.prepareLab(key, env)
    if (options.scenarios.includes('slow-readers'))
      for (const key of slowReadersServers(options.transports)) ctx.prepareLab(key, {})
    if (options.scenarios.includes('dead-peers')) ctx.prepareLab('dead-peers', deadPeersEnv(options))
    if (options.scenarios.includes('ticker')) ctx.prepareLab('ticker', tickerEnv(options))
    if (options.scenarios.includes('wire')) sections.wire = await runWire(ctx)
    await ctx.spareTargetsStarted()
    if (options.scenarios.includes('latency')) sections.latency = await runLatency(ctx)
    if (options.scenarios.includes('throughput')) sections.throughput = await runThroughput(ctx)
    if (options.scenarios.includes('idle')) sections.idle = await runIdle(ctx)
    await ctx.stopSharedTargets()
    if (options.scenarios.includes('noisy')) sections.noisy = await runNoisy(ctx)
    if (options.scenarios.includes('slow-readers')) sections.slowReaders = await runSlowReaders(ctx)
    if (options.scenarios.includes('dead-peers')) sections.deadPeers = await runDeadPeers(ctx)
    if (options.scenarios.includes('ticker')) sections.ticker = await runTicker(ctx)
  } finally {
    progress.stop()
    await ctx?.stopSharedTargets()
    await ctx?.stopSpareTargets()
    await load?.stop()
  }

  const finishedAt = new Date()
  const byScenario = Object.fromEntries(
    Object.entries(ctx.accounts).map(([scenario, list]) => [scenario, account(list)]),
  )
  const results: BenchResults = {
    version: RESULTS_VERSION,
    startedAt: startedAt.toISOString(),
    finishedAt: finishedAt.toISOString(),
    durationMs: finishedAt.getTime() - startedAt.getTime(),
    mode: options.quick ? 'quick' : 'default',
    command: ['npm run bench', ...(process.argv.length > 2 ? ['--', ...process.argv.slice(2)] : [])].join(' '),
    options: {
      quick: options.quick,
      scenarios: options.scenarios,
      transports: options.transports,
      baselines: options.baselines,
      clients: options.clients,
      rate: options.rate,
      receivers: options.receivers,
      fanouts: options.fanouts,
      textBytes: options.textBytes,
      wireMessages: options.wireMessages,
      latencyMs: options.latencyMs,
      throughputMs: options.throughputMs,
      warmupMs: options.warmupMs,
      idleHoldMs: options.idleHoldMs,
      noisyRateHz: options.noisyRateHz,
      noisyMs: options.noisyMs,
      slowReaders: options.slowReaders,
      deadPeersShortened: options.deadPeersShortened,
      tickerHz: options.tickerHz,
      tickerMs: options.tickerMs,
    },
    environment: environment(config, labEnv),
    ...sections,
    comparisons: options.baselines ? comparisons(sections, options.transports) : [],
    accounting: { total: account(Object.values(ctx.accounts).flat()), byScenario },
    notes: [...standardNotes(options, config), loadNote(loadAtStart, loadavg()), ...ctx.notes],
  }

  const problems = selfCheck(results)
  for (const problem of problems) results.notes.push(`Self-check failed: ${problem}`)

  const json = `${JSON.stringify(results, null, 2)}\n`
  const stamp = startedAt.toISOString().replace(/[:.]/g, '-')
  const runFile = join(options.out, `run-${stamp}.json`)
  await mkdir(options.out, { recursive: true })
  await writeFile(runFile, json)
  // A run of some scenarios or transports only does not replace the full picture that the README and the UI show.
  const complete =
    options.scenarios.length === SCENARIOS.length &&
    options.transports.length === TRANSPORTS.length &&
    options.baselines
  const charts = complete ? await writeReport(results, options.out) : []
  if (complete) await writeFile(join(options.out, 'latest.json'), json)

  if (options.json) process.stdout.write(json)
  else if (complete)
    process.stdout.write(
      `${renderTerminal(results)}\n\n` +
        `Written: ${relative(process.cwd(), join(options.out, 'latest.json'))}, ` +
        `latest.md and ${charts.length} charts.\n`,
    )
  else
    process.stdout.write(
      `${renderTerminal(results)}\n\n` +
        `Written: ${relative(process.cwd(), runFile)} (a partial run: latest.* left as they were; ` +
        `\`--render ${relative(process.cwd(), runFile)}\` makes a report of it).\n`,
    )
  for (const problem of problems) process.stderr.write(`bench: self-check failed: ${problem}\n`)
  return problems.length > 0 ? 1 : 0
}

process.once('SIGINT', () => {
  killAll()
  process.exit(130)
})
process.once('SIGTERM', () => {
  killAll()
  process.exit(143)
})

main().then(
  (code) => {
    killAll()
    process.exit(code)
  },
  (error: unknown) => {
    process.stderr.write(`bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`)
    killAll()
    process.exit(1)
  },
)
