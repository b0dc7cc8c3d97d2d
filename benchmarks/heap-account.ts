// `npm run bench:heap -- [--transports LIST] [--clients N] [--top N]`: where
// the heap of an idle connection goes. For each transport, Transport Lab and
// its baseline in turn: a fresh server, a warm-up crowd that leaves, a heap
// snapshot, N idle clients as the idle scenario opens them (rooms of 50), a
// second snapshot; then every object the second has and the first had not is
// given to the owner that holds it (benchmarks/heap-snapshot.ts), per client.
// It answers what the idle scenario's "heap per connection" is made of: which
// part is Node's socket and parser, which the hub's member, the inspector's
// handshake, the wire meter's stream.
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { TRANSPORTS, type TransportName } from '../server/core/names.ts'
import { loadConfig } from '../server/config.ts'
import { crowdHandlers } from './clients/crowd.ts'
import { labEnvironment, sharedEnvironment } from './environment.ts'
import { list, positiveInt, UsageError } from './options.ts'
import { runAsCommand } from './processes.ts'
import { accountNew, idsOf, type HeapSnapshot, type Owner } from './heap-snapshot.ts'
import { OPEN_CONCURRENCY, ROOM_SIZE, settledReading } from './scenarios/idle.ts'
import { BASELINE_OF, subject, subjectLabel, type Subject } from './subjects.ts'
import { startTarget } from './targets.ts'
import { sleep } from './clients/common.ts'

/** The crowd that connects and leaves before the first snapshot, so that it holds the code the first joins compile. */
export const WARMUP_CLIENTS = 20

const USAGE = `Usage: npm run bench:heap -- [--transports LIST] [--clients N] [--hold-ms MS] [--top N] [--kinds N] [--no-baselines]

Where the heap of an idle connection goes: for each transport (default all five),
Transport Lab and then its baseline each get a fresh server, a heap snapshot before
and one after N idle clients (default 1,000) connect and join rooms of ${ROOM_SIZE}, and the
objects that are new in the second are summed by the object that holds them
("Hub.clients", "HandshakeLog.pins", "(native) (Global handles)" for Node's sockets
and parsers), in bytes per client. Takes about half a minute per server.

  --transports LIST  short-polling, long-polling, sse, websocket, socket.io
  --clients N        idle clients per server (default 1000, at most 5000: one load process)
  --hold-ms MS       hold the clients this long before the second snapshot, as the idle scenario does (30000):
                     what an idle connection leaves behind as its transport keeps it alive (an SSE stream's
                     renewal, a long poll answered at its timeout); default 0, the second snapshot at once
  --top N            owners listed per server (default 15)
  --kinds N          under each owner, the N kinds of object it holds most of (default 0)
  --no-baselines     Transport Lab only
  -h, --help         this text`

export interface HeapAccount {
  subject: Subject
  clients: number
  /** heapUsed after a full GC, after minus before, per client: what the idle scenario reports */
  heapUsedPerClient: number
  /** the new objects' self sizes, per client */
  newPerClient: number
  owners: Owner[]
}

/** One server's account: snapshots before and after `clients` idle clients of `subject`. */
export async function accountHeap(
  subject: Subject,
  clients: number,
  warmup = WARMUP_CLIENTS,
  holdMs = 0,
): Promise<HeapAccount> {
  const config = loadConfig([], { ...process.env, ...labEnvironment(process.env) })
  if (config === 'help') throw new Error('unexpected --help')
  const env =
    subject.target === 'lab'
      ? { ...sharedEnvironment(config), ...labEnvironment(process.env) }
      : sharedEnvironment(config)
  const dir = await mkdtemp(join(tmpdir(), 'lab-heap-'))
  const target = await startTarget(subject.target, env, 30_000)
  try {
    const endpoint = {
      target: subject.target,
      transport: subject.transport,
      url: target.url,
      pollIntervalMs: config.shortPollIntervalMs,
    }
    const crowd = (name: string, count: number) => ({
      crowd: name,
      endpoint,
      count,
      roomSize: ROOM_SIZE,
      roomPrefix: name,
      offset: 0,
      concurrency: OPEN_CONCURRENCY,
    })
    await crowdHandlers['crowd.open'](crowd('hw', warmup))
    await crowdHandlers['crowd.close']({ crowd: 'hw' })
    const before = await settledReading(target)
    const first = await target.heapSnapshot(join(dir, 'before.heapsnapshot'))
    const opened = await crowdHandlers['crowd.open'](crowd('h', clients))
    if (opened.connected === 0) throw new Error(`no ${subjectLabel(subject)} client connected`)
    if (holdMs > 0) await sleep(holdMs)
    const after = await settledReading(target)
    const second = await target.heapSnapshot(join(dir, 'after.heapsnapshot'))
    await crowdHandlers['crowd.close']({ crowd: 'h' })
    const ids = idsOf(JSON.parse(await readFile(first, 'utf8')) as HeapSnapshot)
    const account = accountNew(ids, JSON.parse(await readFile(second, 'utf8')) as HeapSnapshot)
    const per = (bytes: number) => bytes / opened.connected
    return {
      subject,
      clients: opened.connected,
      heapUsedPerClient: per(after.heapUsedBytes - before.heapUsedBytes),
      newPerClient: per(account.bytes),
      owners: account.owners.map((o) => ({
        owner: o.owner,
        bytes: per(o.bytes),
        objects: per(o.objects),
        kinds: o.kinds.map((k) => ({ kind: k.kind, bytes: per(k.bytes), objects: per(k.objects) })),
      })),
    }
  } finally {
    await target.stop()
    await rm(dir, { recursive: true, force: true })
  }
}

/** The account as a terminal table: bytes and objects per client, by owner. */
export function formatAccount(account: HeapAccount, top: number, kinds = 0): string {
  const lines = [
    `${subjectLabel(account.subject)}: ${account.clients} clients, heapUsed ${Math.round(account.heapUsedPerClient)} B per client; new objects ${Math.round(account.newPerClient)} B per client, held by:`,
  ]
  for (const o of account.owners.slice(0, top)) {
    lines.push(`${String(Math.round(o.bytes)).padStart(8)} B ${o.objects.toFixed(2).padStart(7)} objects  ${o.owner}`)
    for (const k of o.kinds.slice(0, kinds))
      lines.push(`${String(Math.round(k.bytes)).padStart(16)} B ${k.objects.toFixed(2).padStart(7)}  ${k.kind}`)
  }
  const rest = account.owners.slice(top).reduce((sum, o) => sum + o.bytes, 0)
  if (rest > 0)
    lines.push(`${String(Math.round(rest)).padStart(8)} B                  ${account.owners.length - top} more owners`)
  return lines.join('\n')
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      transports: { type: 'string' },
      clients: { type: 'string' },
      'hold-ms': { type: 'string' },
      top: { type: 'string' },
      kinds: { type: 'string' },
      'no-baselines': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  })
  if (values.help) {
    process.stdout.write(`${USAGE}\n`)
    return 0
  }
  let transports: TransportName[], clients: number, holdMs: number, top: number, kinds: number
  try {
    transports = list<TransportName>('transports', values.transports, TRANSPORTS)
    clients = positiveInt('clients', values.clients, 1000, 5000)
    holdMs = values['hold-ms'] === '0' ? 0 : positiveInt('hold-ms', values['hold-ms'], 0, 600_000)
    top = positiveInt('top', values.top, 15, 1000)
    kinds = values.kinds === '0' ? 0 : positiveInt('kinds', values.kinds, 0, 1000)
  } catch (error) {
    if (!(error instanceof UsageError)) throw error
    process.stderr.write(`bench:heap: ${error.message}\n${USAGE}\n`)
    return 2
  }
  for (const t of transports) {
    const subjects = [subject('lab', t), ...(values['no-baselines'] ? [] : [subject(BASELINE_OF[t], t)])]
    for (const s of subjects)
      process.stdout.write(`${formatAccount(await accountHeap(s, clients, WARMUP_CLIENTS, holdMs), top, kinds)}\n\n`)
  }
  return 0
}

runAsCommand(import.meta.url, 'bench:heap', main)
