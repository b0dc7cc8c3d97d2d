// The command line of `npm run bench`, and the two presets: --quick (about six
// minutes, for CI and a first look) and the default (about forty minutes).
import { resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { TRANSPORTS, type TransportName } from '../server/core/protocol.ts'
import type { RunOptions } from './schema.ts'

export const SCENARIOS = [
  'wire',
  'latency',
  'throughput',
  'idle',
  'noisy',
  'slow-readers',
  'dead-peers',
  'ticker',
  'joins',
  'scale',
] as const
export type ScenarioName = (typeof SCENARIOS)[number]

export interface Options extends RunOptions {
  scenarios: ScenarioName[]
  json: boolean
  out: string
  /** Re-render the report from this results file instead of measuring. */
  render: string | undefined
  /** Messages allowed in flight in the throughput scenario. */
  window: number
  /** autocannon runs (HTTP endpoints), ms */
  httpMs: number
  httpConnections: number
  /** Latency and throughput messages carry this much text. */
  messageTextBytes: number
  noisyRateHz: number
  noisyMs: number
  slowReaders: number
  deadPeersShortened: boolean
  /** noisy: the bystanders' senders (each under the server's default MESSAGE_RATE) and receivers. */
  noisySenders: number
  noisyReceivers: number
  /** slow-readers: the size of each message of the flood, bytes of text. */
  slowTextBytes: number
  /** slow-readers: the flood stops here per reader if the server has not closed them all by then. */
  slowFloodMaxMs: number
  tickerHz: number
  tickerMs: number
  /** How long a server, baseline or load process may take to start (each is tried twice). */
  startTimeoutMs: number
  /** joins: the N of each measurement, per push transport (--joins). */
  joins: number[]
  /** joins: how long the clients are held once joined, and how long one N may take to join, ms. */
  joinsHoldMs: number
  joinsLimitMs: number
  /** --profile: CPU and heap profiles of Transport Lab's processes go into a folder per process here (absolute). */
  profile: string | undefined
  /** --profile-baselines: the baselines are profiled too. */
  profileBaselines: boolean
}

/** A start on a busy machine (two cores shared by a dozen Node processes) can take far longer than on an idle one. */
export const DEFAULT_START_TIMEOUT_S = 120

export const PRESETS = {
  quick: {
    clients: 200,
    rate: 50,
    receivers: 10,
    fanouts: [1, 100],
    textBytes: [16, 256, 4096],
    wireMessages: 5,
    latencyMs: 600,
    throughputMs: 400,
    warmupMs: 150,
    idleHoldMs: 1500,
    repetitions: 3,
    window: 128,
    httpMs: 400,
    httpConnections: 8,
    messageTextBytes: 64,
    noisyRateHz: 40,
    noisyMs: 800,
    noisySenders: 8,
    noisyReceivers: 10,
    slowReaders: 5,
    slowTextBytes: 4096,
    slowFloodMaxMs: 8000,
    deadPeersShortened: true,
    tickerHz: 10,
    tickerMs: 2000,
    joins: [100, 200, 500],
    joinsHoldMs: 1000,
    joinsLimitMs: 30_000,
  },
  default: {
    clients: 1000,
    rate: 200,
    receivers: 50,
    fanouts: [1, 100],
    textBytes: [16, 256, 4096],
    wireMessages: 50,
    latencyMs: 5000,
    throughputMs: 3000,
    warmupMs: 1000,
    idleHoldMs: 30_000,
    repetitions: 3,
    window: 256,
    httpMs: 4000,
    httpConnections: 10,
    messageTextBytes: 64,
    noisyRateHz: 40,
    noisyMs: 5000,
    noisySenders: 8,
    noisyReceivers: 10,
    slowReaders: 20,
    slowTextBytes: 4096,
    slowFloodMaxMs: 20_000,
    deadPeersShortened: false,
    tickerHz: 10,
    tickerMs: 6000,
    joins: [1000, 2000, 5000, 10_000],
    joinsHoldMs: 5000,
    joinsLimitMs: 60_000,
  },
} as const

export class UsageError extends Error {
  override name = 'UsageError'
}

export const HELP = `npm run bench -- [options]

Starts Transport Lab's server and three bare baselines (ws, Socket.IO, a Fastify
route) as their own processes, drives them from a load-client process and prints a
comparison table. Then a flooder next to well-behaved clients (noisy), readers
that stop reading (slow-readers), peers that stop answering (dead-peers) and the
server's own price updates in the ticker room (ticker), on servers of their own.
Last, one server alone against one with Redis and two behind nginx (scale; skipped
with a line in the report when redis-server or nginx is missing).

Every run writes benchmarks/results/run-<time>.json. The reference run (the
default: every scenario, transport and baseline, default counts) also replaces
latest.json, latest.md and the charts there, which the README and the UI show;
a complete --quick run writes those to benchmarks/results/quick/ instead. A run
that fails part way writes what it had measured (a partial run) and exits 1.

  --quick                 a short run (about six minutes): small counts, short windows,
                          shortened heartbeats and leases for dead-peers
  --scenario LIST         wire,latency,throughput,idle,noisy,slow-readers,dead-peers,ticker,joins,scale (default: all)
  --transports LIST       short-polling,long-polling,sse,websocket,socket.io (default: all)
  --no-baselines          measure Transport Lab only (no ratios)
  --clients N             idle clients per transport (default 1000, quick 200)
  --rate N                latency and scale: messages per second offered (default 200, quick 50)
  --receivers N           latency and scale: receivers of each message (default 50, quick 10)
  --slow-readers N        slow-readers: readers that stop reading, per transport (default 20, quick 5)
  --joins LIST            joins: how many clients join one room, per push transport (default
                          1000,2000,5000,10000, quick 100,200,500)
  --fanouts LIST          throughput: the receivers of each message, one measurement per count (default 1,100)
  --throughput-ms MS      throughput: how long each window is read (default 3000, quick 400); with --fanouts 1
                          and --profile, a profile of the path to one receiver and nothing else
  --repetitions N         latency, throughput, idle and scale: measure each figure N times, report the median
                          and the spread, flag a ratio only beyond the spread (default 3)
  --json                  print the results JSON on stdout (progress stays on stderr)
  --out DIR               where results go (default benchmarks/results; created if missing)
  --start-timeout S       seconds a server, baseline or load process may take to start (default ${DEFAULT_START_TIMEOUT_S});
                          a failed start is tried once more, then what needed it is skipped and noted
  --render FILE           measure nothing: write latest.md and the charts again from a results JSON, into
                          --out (into benchmarks/results only from its own latest.json)
  --profile DIR           run every Transport Lab server under --cpu-prof and --heap-prof, each writing into
                          DIR/<label> (shared-lab, idle-lab-websocket-1, ...) when it is stopped, and an idle
                          server's hold alone into idle-hold.cpuprofile there; the figures of
                          such a run are slowed by the profiler and never replace latest.*. Summarize with
                          npm run bench:profile -- DIR [--top N]
  --profile-baselines     with --profile: profile the baselines too
  -h, --help              this text

Settings of the server under test come from the environment, as for npm start
(SHORT_POLL_INTERVAL_MS, LONG_POLL_TIMEOUT_MS, HISTORY_LIMIT, ...); the
baselines get the same values where they apply. All load comes from
127.0.0.1, so unless they are set, Transport Lab runs with MESSAGE_RATE and
MESSAGE_BURST at 1000000 and MAX_CLIENTS_PER_ADDRESS=0; the noisy scenario
runs its own servers with the default limit and with none.`

export function positiveInt(name: string, raw: string | undefined, fallback: number, max: number): number {
  if (raw === undefined) return fallback
  const value = Number(raw)
  if (!/^\d+$/.test(raw) || value < 1 || value > max)
    throw new UsageError(`--${name} ${raw}: expected an integer from 1 to ${max}`)
  return value
}

/** A comma-separated list of counts, smallest first, each once. */
function counts(name: string, raw: string | undefined, fallback: readonly number[], max: number): number[] {
  if (raw === undefined) return [...fallback]
  const items = raw.split(',').map((s) => s.trim())
  if (items.length === 0 || items.some((item) => !/^\d+$/.test(item) || Number(item) < 1 || Number(item) > max))
    throw new UsageError(`--${name} ${raw}: expected a comma-separated list of integers from 1 to ${max}`)
  return [...new Set(items.map(Number))].sort((a, b) => a - b)
}

export function list<T extends string>(name: string, raw: string | undefined, allowed: readonly T[]): T[] {
  if (raw === undefined) return [...allowed]
  const items = raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
  const unknown = items.filter((item) => !allowed.includes(item as T))
  if (unknown.length > 0 || items.length === 0)
    throw new UsageError(`--${name} ${raw}: expected a comma-separated list of ${allowed.join(', ')}`)
  // Keep the canonical order whatever order they were given in.
  return allowed.filter((item) => items.includes(item))
}

export function parseOptions(argv: string[], defaultOut: string): Options | 'help' {
  let values
  try {
    values = parseArgs({
      args: argv,
      strict: true,
      options: {
        quick: { type: 'boolean' },
        scenario: { type: 'string' },
        scenarios: { type: 'string' },
        transports: { type: 'string' },
        'no-baselines': { type: 'boolean' },
        clients: { type: 'string' },
        rate: { type: 'string' },
        receivers: { type: 'string' },
        'slow-readers': { type: 'string' },
        joins: { type: 'string' },
        fanouts: { type: 'string' },
        'throughput-ms': { type: 'string' },
        repetitions: { type: 'string' },
        json: { type: 'boolean' },
        out: { type: 'string' },
        render: { type: 'string' },
        'start-timeout': { type: 'string' },
        profile: { type: 'string' },
        'profile-baselines': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }).values
  } catch (error) {
    throw new UsageError(`${(error as Error).message}\nRun with --help to see the options.`)
  }
  if (values.help) return 'help'
  if (values['profile-baselines'] === true && values.profile === undefined)
    throw new UsageError('--profile-baselines needs --profile DIR')
  const quick = values.quick === true
  const preset = quick ? PRESETS.quick : PRESETS.default
  return {
    quick,
    scenarios: list('scenario', values.scenario ?? values.scenarios, SCENARIOS),
    transports: list<TransportName>('transports', values.transports, TRANSPORTS),
    baselines: values['no-baselines'] !== true,
    clients: positiveInt('clients', values.clients, preset.clients, 50_000),
    rate: positiveInt('rate', values.rate, preset.rate, 100_000),
    receivers: positiveInt('receivers', values.receivers, preset.receivers, 1000),
    fanouts: counts('fanouts', values.fanouts, preset.fanouts, 1000),
    textBytes: [...preset.textBytes],
    wireMessages: preset.wireMessages,
    latencyMs: preset.latencyMs,
    throughputMs: positiveInt('throughput-ms', values['throughput-ms'], preset.throughputMs, 600_000),
    warmupMs: preset.warmupMs,
    idleHoldMs: preset.idleHoldMs,
    repetitions: positiveInt('repetitions', values.repetitions, preset.repetitions, 20),
    noisyRateHz: preset.noisyRateHz,
    noisyMs: preset.noisyMs,
    slowReaders: positiveInt('slow-readers', values['slow-readers'], preset.slowReaders, 1000),
    deadPeersShortened: preset.deadPeersShortened,
    window: preset.window,
    httpMs: preset.httpMs,
    httpConnections: preset.httpConnections,
    messageTextBytes: preset.messageTextBytes,
    noisySenders: preset.noisySenders,
    noisyReceivers: preset.noisyReceivers,
    slowTextBytes: preset.slowTextBytes,
    slowFloodMaxMs: preset.slowFloodMaxMs,
    tickerHz: preset.tickerHz,
    tickerMs: preset.tickerMs,
    joins: counts('joins', values.joins, preset.joins, 50_000),
    joinsHoldMs: preset.joinsHoldMs,
    joinsLimitMs: preset.joinsLimitMs,
    startTimeoutMs: positiveInt('start-timeout', values['start-timeout'], DEFAULT_START_TIMEOUT_S, 3600) * 1000,
    json: values.json === true,
    out: values.out ?? defaultOut,
    render: values.render,
    profile: values.profile === undefined ? undefined : resolve(values.profile),
    profileBaselines: values['profile-baselines'] === true,
  }
}
