// A run's results from what it measured: the sections of the scenarios that
// finished, the accounting, the notes and, when something was not measured,
// the `partial` marker. Then the bench checks its own measurement. Built the
// same way at the end of a run and when a run is cut short (a step that threw,
// the time limit, Ctrl-C), so that nothing measured is lost.
import { cpus, loadavg } from 'node:os'
import type { Config } from '../server/config.ts'
import { addAccounts, type Accounting } from './accounting.ts'
import { environment } from './environment.ts'
import type { Options, ScenarioName } from './options.ts'
import { comparisons } from './report/compare.ts'
import { checkResults, RESULTS_VERSION, type BenchResults, type Failure } from './schema.ts'

/** The key of each scenario's section in the results. */
export const SECTION_OF = {
  wire: 'wire',
  latency: 'latency',
  throughput: 'throughput',
  idle: 'idle',
  noisy: 'noisy',
  'slow-readers': 'slowReaders',
  'dead-peers': 'deadPeers',
  ticker: 'ticker',
  joins: 'joins',
  scale: 'scale',
} as const satisfies Record<ScenarioName, keyof BenchResults>

export type Sections = Partial<Pick<BenchResults, (typeof SECTION_OF)[ScenarioName]>>

/** What a run has measured so far, and what it could not. */
export interface Measured {
  options: Options
  config: Config
  labEnv: Record<string, string>
  /** The command line after `npm run bench --`. */
  argv: string[]
  startedAt: Date
  loadAtStart: number[]
  sections: Sections
  accounts: Partial<Record<ScenarioName, Accounting[]>>
  notes: string[]
  failures: Failure[]
}

function account(list: Accounting[] | undefined): Accounting {
  const sum = addAccounts(list ?? [])
  return { receivers: (list ?? []).reduce((n, a) => n + a.receivers, 0), ...sum }
}

/** The bench checks its own measurement; a failed check is a bug in the bench, not a finding. */
export function selfCheck(results: BenchResults): string[] {
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
  for (const row of results.scale?.rows ?? []) {
    balance(`scale ${row.setup}`, row.accounting)
    if (row.samples !== row.deliveriesMeasured)
      problems.push(`scale ${row.setup}: ${row.samples} samples for ${row.deliveriesMeasured} deliveries`)
    if ((row.redis === null) !== (row.setup === 'alone'))
      problems.push(`scale ${row.setup}: Redis commands ${row.redis ? 'read' : 'not read'}`)
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
    ...(options.profile !== undefined
      ? [
          `Profiled run: Transport Lab's processes${options.profileBaselines ? ' and the baselines' : ''} ran under ` +
            `--cpu-prof and --heap-prof (profiles in ${options.profile}), which slows them: ` +
            'read the profiles, not these figures.',
        ]
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

function partial(measured: Measured): BenchResults['partial'] {
  const notMeasured = measured.options.scenarios.filter((s) => measured.sections[SECTION_OF[s]] === undefined)
  if (measured.failures.length === 0 && notMeasured.length === 0) return undefined
  return { failures: measured.failures, notMeasured }
}

/** The results of what was measured; the self-check's problems are in its notes too. */
export function assembleResults(measured: Measured): { results: BenchResults; problems: string[] } {
  const { options, config, labEnv, startedAt, sections, accounts } = measured
  const finishedAt = new Date()
  const byScenario = Object.fromEntries(Object.entries(accounts).map(([scenario, list]) => [scenario, account(list)]))
  const stopped = measured.failures.filter((f) => f.outcome === 'stopped')
  const incomplete = partial(measured)
  const results: BenchResults = {
    version: RESULTS_VERSION,
    startedAt: startedAt.toISOString(),
    finishedAt: finishedAt.toISOString(),
    durationMs: finishedAt.getTime() - startedAt.getTime(),
    mode: options.quick ? 'quick' : 'default',
    ...(incomplete ? { partial: incomplete } : {}),
    command: ['npm run bench', ...(measured.argv.length > 0 ? ['--', ...measured.argv] : [])].join(' '),
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
      repetitions: options.repetitions,
      noisyRateHz: options.noisyRateHz,
      noisyMs: options.noisyMs,
      slowReaders: options.slowReaders,
      deadPeersShortened: options.deadPeersShortened,
      tickerHz: options.tickerHz,
      tickerMs: options.tickerMs,
      joins: options.joins,
      ...(options.profile !== undefined ? { profile: options.profile } : {}),
    },
    environment: environment(config, labEnv),
    ...sections,
    comparisons: options.baselines ? comparisons(sections, options.transports) : [],
    accounting: { total: account(Object.values(accounts).flat()), byScenario },
    notes: [
      ...standardNotes(options, config),
      loadNote(measured.loadAtStart, loadavg()),
      ...measured.notes,
      ...stopped.map(
        (f) => `Partial run: it stopped at ${f.step} (${f.error}); the scenarios finished before that are here.`,
      ),
    ],
  }
  const problems = selfCheck(results)
  for (const problem of problems) results.notes.push(`Self-check failed: ${problem}`)
  return { results, problems }
}
