// `npm run bench -- --quick --scenario scale --json` end to end, as its own
// process: one server alone, one with Redis and two behind nginx, each
// measured with real clients, a real redis-server and a real nginx. The
// figures have the shapes the report needs (numbers, ratios to the server
// alone, Redis round trips per message); their values are timings and are
// never asserted.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { checkResults, type BenchResults } from '../../benchmarks/schema.ts'
import { requireBinary } from '../support/binaries.ts'
import { runBench } from './bench-process.ts'

/** Three setups started one after the other, then measured three times each: about two minutes on two busy cores. */
const HARD_LIMIT_MS = 300_000
const temp = mkdtempSync(join(tmpdir(), 'transport-lab-bench-scale-'))

afterAll(() => rmSync(temp, { recursive: true, force: true }))

const needs = 'the scale scenario end to end'
const installed = requireBinary('redis-server', 'redis-server', needs) && requireBinary('nginx', 'nginx', needs)

describe.skipIf(!installed)('npm run bench -- --quick --scenario scale --json', () => {
  it(
    'measures one server alone, one with Redis and two behind nginx, with ratios to the one alone and Redis round trips per message',
    async () => {
      const { code, stdout, stderr } = await runBench(['--quick', '--scenario', 'scale', '--json', '--out', temp], {
        hardLimitMs: HARD_LIMIT_MS,
      })
      expect(code, stderr.slice(-3000)).toBe(0)
      const results = JSON.parse(stdout) as BenchResults
      expect(checkResults(results)).toEqual([])
      expect(results.partial).toBeUndefined()
      const scale = results.scale!
      expect(scale.skipped).toEqual([])
      expect(scale.rows.map((r) => r.setup)).toEqual(['alone', 'redis', 'cluster'])
      expect(scale.rows.map((r) => r.instances)).toEqual([1, 1, 2])

      for (const row of scale.rows) {
        expect(row.repetitions, row.setup).toBe(3)
        expect(row.placements, row.setup).toHaveLength(3)
        expect(row.deliveriesPerSecond, row.setup).toBeGreaterThan(0)
        expect(row.spread.deliveriesPerSecond?.values, row.setup).toHaveLength(3)
        expect(row.p50Us, row.setup).toBeGreaterThan(0)
        expect(row.p99Us!, row.setup).toBeGreaterThanOrEqual(row.p50Us!)
        expect(row.samples, row.setup).toBeGreaterThan(0)
        expect(row.samples, row.setup).toBe(row.deliveriesMeasured)
        // Every ratio is this row's figure over the one alone's.
        const alone = scale.rows[0]!
        expect(row.vsAlone.deliveriesPerSecond, row.setup).toBeCloseTo(
          row.deliveriesPerSecond / alone.deliveriesPerSecond,
          9,
        )
        expect(row.vsAlone.p50Us, row.setup).toBeCloseTo(row.p50Us! / alone.p50Us!, 9)
        expect(row.vsAlone.p99Us, row.setup).toBeCloseTo(row.p99Us! / alone.p99Us!, 9)
        expect(row.accounting.expected, row.setup).toBeGreaterThan(0)
        expect(row.accounting.lost, JSON.stringify(row.accounting.losses)).toBe(0)
        expect(row.accounting.duplicates, row.setup).toBe(0)
      }

      const [alone, redis, cluster] = scale.rows as [(typeof scale.rows)[number], ...typeof scale.rows]
      expect(alone.redis).toBeNull()
      expect(alone.placements.every((p) => p.sender === null)).toBe(true)
      for (const row of [redis!, cluster!]) {
        // Each message is at least one round trip (append.lua's EVALSHA); Redis runs more than it is sent.
        const { sent, ran } = row.redis!
        expect(sent.messages, row.setup).toBeGreaterThan(0)
        expect(sent.perMessage!, row.setup).toBeGreaterThanOrEqual(1)
        expect(sent.byCommand.evalsha, row.setup).toBeGreaterThanOrEqual(sent.messages)
        expect(sent.byCommand.xadd, 'a command the script runs is not a round trip').toBeUndefined()
        expect(ran.messages, row.setup).toBeGreaterThan(0)
        expect(ran.perMessage!, row.setup).toBeGreaterThan(sent.perMessage!)
        expect(ran.byCommand.xadd, row.setup).toBeGreaterThanOrEqual(ran.messages)
      }
      expect(redis!.placements).toEqual(Array(3).fill({ sender: 'a', receivers: { a: results.options.receivers } }))
      // Behind the balancer, the sticky values spread every room's receivers over both instances.
      for (const placement of cluster!.placements) {
        expect(['a', 'b']).toContain(placement.sender)
        expect(Object.keys(placement.receivers).sort()).toEqual(['a', 'b'])
        expect(placement.receivers.a! + placement.receivers.b!).toBe(results.options.receivers)
      }
      expect(stderr).toMatch(/\[bench +[\d.]+s\] scale done/)
    },
    HARD_LIMIT_MS + 10_000,
  )
})
