// `npm run bench -- --quick --json` end to end, as its own process: the JSON it
// prints is a valid results file, every transport and baseline was measured,
// and every message sent was delivered. Timings are reported by the bench,
// never asserted here. Loopback with windows under the history limit loses
// nothing, so any lost message is a bug in the server or in the bench.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { OUT_OF_REACH } from '../../benchmarks/environment.ts'
import { checkResults, type BenchResults } from '../../benchmarks/schema.ts'
import { findBinary } from '../../cluster/children.ts'
import { TRANSPORTS } from '../../server/core/protocol.ts'
import { root, runBench } from './bench-process.ts'

/**
 * The quick run takes about six minutes on two idle cores (ten scenarios, latency, throughput, idle and scale three times),
 * eleven or more when others measure on them too; past this it is stopped, whatever it is doing. Its joins are
 * smaller than the quick preset's (about a minute), to keep it short.
 */
const HARD_LIMIT_MS = 900_000
const JOINS = [40, 80]
const temp = mkdtempSync(join(tmpdir(), 'transport-lab-bench-'))
/** A folder that does not exist yet, two levels down: the bench creates it before it measures anything. */
const out = join(temp, 'not', 'yet')

afterAll(() => rmSync(temp, { recursive: true, force: true }))

describe('npm run bench -- --quick --json', () => {
  it(
    'measures every transport and baseline, prints valid results, loses no message and writes into a new --out folder',
    async () => {
      const { code, stdout, stderr } = await runBench(['--quick', '--json', '--out', out, '--joins', JOINS.join()], {
        hardLimitMs: HARD_LIMIT_MS,
      })
      expect(code, stderr.slice(-3000)).toBe(0)
      const results = JSON.parse(stdout) as BenchResults
      expect(checkResults(results)).toEqual([])
      expect(results.mode).toBe('quick')
      expect(results.partial).toBeUndefined()

      const subjects = (rows: Array<{ subject: string }> | undefined) => new Set(rows?.map((r) => r.subject))
      const expected = [
        ...TRANSPORTS.map((t) => `lab/${t}`),
        'bare-fastify/short-polling',
        'bare-fastify/long-polling',
        'bare-fastify/sse',
        'bare-ws/websocket',
        'bare-socket.io/socket.io',
      ]
      for (const rows of [results.wire?.rows, results.latency?.rows, results.throughput?.rows, results.idle?.rows]) {
        expect([...subjects(rows)].sort()).toEqual([...expected].sort())
      }
      expect(results.wire!.rows.length).toBe(expected.length * 3)
      expect(results.throughput!.rows.length).toBe(expected.length * 2)
      expect(results.throughput!.http.map((r) => `${r.subject} ${r.endpoint}`)).toContain('lab/short-polling GET poll')
      expect(
        results.comparisons.some((c) => c.target && c.transport === 'websocket' && c.metric === 'heap per connection'),
      ).toBe(true)

      // The bench's own accounting: everything sent is delivered, and no sample went missing.
      const total = results.accounting.total
      expect(total.expected).toBeGreaterThan(0)
      expect(total.lost, JSON.stringify(total.losses)).toBe(0)
      expect(total.delivered).toBe(total.expected)
      for (const row of results.latency!.rows) {
        expect(row.latency.count, row.subject).toBe(row.deliveriesMeasured)
        expect(row.latency.count, row.subject).toBeGreaterThan(0)
        expect(row.accounting.lost, row.subject).toBe(0)
      }
      for (const row of results.throughput!.rows) expect(row.accounting.lost, `${row.subject} ×${row.fanout}`).toBe(0)
      // Every HTTP message is a request of its own (its send), and the polls that carried it are counted beside it.
      for (const row of results.throughput!.rows) {
        const what = `${row.subject} ×${row.fanout}`
        if (row.transport === 'websocket' || row.transport === 'socket.io')
          expect(row.requestsPerMessage, what).toBeUndefined()
        else expect(row.requestsPerMessage, what).toBeGreaterThanOrEqual(1)
        if (row.transport === 'short-polling' && row.fanout > 1) expect(row.requestsPerMessage, what).toBeGreaterThan(1)
      }
      for (const row of results.idle!.rows) expect(row.connected, row.subject).toBe(row.clients)
      // V8's young generation, left out of RSS per connection, is read from the server itself: never empty.
      for (const row of results.idle!.rows) expect(row.youngAfterBytes, row.subject).toBeGreaterThan(0)
      // Throughput and memory are each the median of three repetitions, every reading kept as the spread.
      expect(results.options.repetitions).toBe(3)
      for (const row of [...results.throughput!.rows, ...results.throughput!.http, ...results.idle!.rows])
        expect(row.repetitions, row.subject).toBe(3)
      for (const row of results.throughput!.rows)
        expect(row.spread.deliveriesPerSecond?.values, row.subject).toHaveLength(3)
      for (const row of results.idle!.rows)
        expect(row.spread.heapPerConnectionBytes?.values, row.subject).toHaveLength(3)

      // The scenarios about bad clients: every phase, transport and peer is there, and the bench's own accounting holds.
      expect(results.noisy!.rows.map((r) => r.label)).toEqual(
        ['on', 'off'].flatMap((limit) =>
          ['nobody flooding', 'WebSocket flood', 'Socket.IO flood', 'HTTP POST flood'].map(
            (who) => `${who}, limit ${limit}`,
          ),
        ),
      )
      for (const row of results.noisy!.rows) {
        expect(row.latency.count, row.label).toBe(row.deliveriesMeasured)
        expect(row.latency.count, row.label).toBeGreaterThan(0)
        expect(row.accounting.lost, row.label).toBe(0)
        if (row.flood) expect(row.flood.accepted, row.label).toBeLessThanOrEqual(row.flood.attempted)
      }
      expect(results.slowReaders!.rows.map((r) => r.transport)).toEqual(['sse', 'websocket', 'socket.io'])
      for (const row of results.slowReaders!.rows) {
        expect(
          row.told.reduce((n, t) => n + t.count, 0),
          row.transport,
        ).toBe(row.readers)
        expect(row.bystander.lost, row.transport).toBe(0)
        expect(row.bystander.expected, row.transport).toBeGreaterThan(0)
      }
      expect(results.deadPeers!.shortened).toBe(true)
      expect(results.deadPeers!.rows.map((r) => r.transport).sort()).toEqual([...TRANSPORTS].sort())
      // Live prices: every receiver got every update of the window, each with its age; a push transport carries one per frame, event or packet.
      expect(results.ticker!.rows.map((r) => r.transport)).toEqual([...TRANSPORTS])
      for (const row of results.ticker!.rows) {
        expect(row.published, row.subject).toBeGreaterThan(0)
        expect(row.received, row.subject).toBe(row.published)
        expect(row.age.count, row.subject).toBe(row.received)
        if (row.transport === 'sse' || row.transport === 'websocket' || row.transport === 'socket.io')
          expect(row.updatesPerDeliveryMax, row.subject).toBe(1)
      }
      // Scaling out: the setups the installed binaries allow are measured, the others have a line saying why not.
      const scale = results.scale!
      expect(scale.rows.length + scale.skipped.length, JSON.stringify(scale.skipped)).toBeGreaterThanOrEqual(3)
      for (const row of scale.rows) {
        expect(row.samples, row.setup).toBe(row.deliveriesMeasured)
        expect(row.accounting.lost, row.setup).toBe(0)
        if (row.redis) expect(row.redis.sent.perMessage!, row.setup).toBeGreaterThanOrEqual(1)
      }
      // Joins: every N of every push transport joined one room, the room's presence counted them all, and each client
      // was told of the others (a notice per join, or fewer coalesced entries, never none). WebSocket once more
      // through Redis when redis-server is installed.
      const series = ['sse', 'websocket', 'socket.io', ...(findBinary('redis-server') ? ['websocket + Redis'] : [])]
      expect(
        results.joins!.rows.map((r) => `${r.transport}${r.setup === 'redis' ? ' + Redis' : ''} ${r.clients}`),
      ).toEqual(series.flatMap((t) => JOINS.map((n) => `${t} ${n}`)))
      for (const row of results.joins!.rows) {
        const what = `${row.transport} ${row.clients}`
        expect(row.complete, row.note ?? what).toBe(true)
        expect(row.joined, what).toBe(row.clients)
        expect(row.memberCount, what).toBe(row.clients)
        expect(row.droppedDuringHold, JSON.stringify(row.dropReasons)).toBe(0)
        expect(row.presenceDeliveries, what).toBeGreaterThan(0)
        expect(row.cpuSeconds, what).toBeGreaterThan(0)
      }
      // Unless the environment sets them, the limits are out of reach for the load from 127.0.0.1, and the results say the bench set them.
      const expectedLabEnv = Object.fromEntries(Object.entries(OUT_OF_REACH).filter(([name]) => !process.env[name]))
      expect(results.environment.labEnv ?? {}).toEqual(expectedLabEnv)
      for (const [name, value] of Object.entries(expectedLabEnv))
        expect(results.environment.settings[name], name).toBe(Number(value))

      // Progress went to stderr as plain lines (not a terminal).
      expect(stderr).toMatch(/\[bench +[\d.]+s\] idle done/)
      expect(stderr).toMatch(/\[bench +[\d.]+s\] dead-peers done/)
      expect(stderr).toMatch(/\[bench +[\d.]+s\] ticker done/)
      expect(stderr).toMatch(/\[bench +[\d.]+s\] joins done/)
      expect(stderr).toMatch(/\[bench +[\d.]+s\] scale done/)
      // The missing --out was created; the run file is there, and the quick run's report went to quick/, beside
      // the reference run's latest.* (which a quick run never writes).
      const runFiles = readdirSync(out).filter((f) => /^run-.*\.json$/.test(f))
      expect(runFiles).toHaveLength(1)
      expect(JSON.parse(readFileSync(join(out, runFiles[0]!), 'utf8'))).toEqual(results)
      for (const file of [
        'latest.json',
        'latest.md',
        'wire.svg',
        'projection.svg',
        'latency.svg',
        'throughput.svg',
        'idle.svg',
        'noisy.svg',
        'slow-readers.svg',
        'dead-peers.svg',
      ]) {
        expect(existsSync(join(out, 'quick', file)), `quick/${file}`).toBe(true)
        expect(existsSync(join(out, file)), file).toBe(false)
      }
      expect(stderr).toContain(`Written: ${relative(root, join(out, 'quick', 'latest.json'))}`)
    },
    HARD_LIMIT_MS + 10_000,
  )
})
