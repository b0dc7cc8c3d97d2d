// The Benchmarks tab's building blocks, fed what `npm run bench` really writes:
// benchmarks/results/latest.json, a full run, in the shape benchmarks/schema.ts
// defines. The tab shows its own tables for that shape; a file of another
// version falls back to extractBench's plain tables, so both are read here.
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { checkResults, RESULTS_VERSION, type BenchResults } from '../../benchmarks/schema.ts'
import { extractBench, flatten, formatCell, formatNumber, formatWorseBy, hasResultsShape, type Table } from '../../ui/src/components/bench-tables.ts'

const latest = JSON.parse(readFileSync(new URL('../../benchmarks/results/latest.json', import.meta.url), 'utf8')) as BenchResults

describe('a real run\'s results (benchmarks/results/latest.json)', () => {
  it('are in the shape the schema defines, so the tab shows its own tables for them', () => {
    expect(checkResults(latest)).toEqual([])
    expect(hasResultsShape(latest, RESULTS_VERSION)).toBe(true)
  })

  it('are shown as plain tables instead when their version is another or a part the tab needs is missing', () => {
    expect(hasResultsShape({ ...latest, version: RESULTS_VERSION + 1 }, RESULTS_VERSION)).toBe(false)
    for (const part of ['environment', 'options', 'comparisons', 'notes'] as const) {
      const { [part]: _left, ...rest } = latest
      expect(hasResultsShape(rest, RESULTS_VERSION), `without ${part}`).toBe(false)
    }
    expect(hasResultsShape([latest], RESULTS_VERSION)).toBe(false)
    expect(hasResultsShape(null, RESULTS_VERSION)).toBe(false)
  })

  it('read each comparison with the baseline in words, every flagged one as more than 10% worse and no other', () => {
    expect(latest.comparisons.some((c) => c.flagged)).toBe(true)
    for (const c of latest.comparisons) {
      const worse = /^(\d+)% worse$/.exec(formatWorseBy(c.worseBy))
      const percentWorse = worse ? Number(worse[1]) : 0
      if (c.flagged) expect(percentWorse, `${c.metric}, ${c.transport}`).toBeGreaterThanOrEqual(10)
      else expect(percentWorse, `${c.metric}, ${c.transport}`).toBeLessThanOrEqual(10)
    }
  })
})

describe('extractBench, showing a real run as plain tables', () => {
  // What a reader sees when the file's version is not the one the tab was written for.
  const view = extractBench({ ...latest, version: RESULTS_VERSION + 1 })
  const table = (title: string): Table => {
    const found = view.tables.filter((t) => t.title === title)
    expect(found, title).toHaveLength(1)
    return found[0]!
  }

  it('shows when and how the run went, then the machine, its libraries and settings', () => {
    expect(view.meta).toEqual([
      ['version', RESULTS_VERSION + 1],
      ['startedAt', latest.startedAt],
      ['finishedAt', latest.finishedAt],
      ['durationMs', latest.durationMs],
      ['mode', latest.mode],
      ['command', latest.command],
    ])
    const env = latest.environment
    expect(view.environment).toEqual(expect.arrayContaining([
      ['cpuModel', env.cpuModel],
      ['cores', env.cores],
      ['node', env.node],
      ['socketIoClientTransports', env.socketIoClientTransports.join(', ')],
      ...Object.entries(env.libraries).map(([name, version]) => [`libraries.${name}`, version]),
      ...Object.entries(env.settings).map(([name, value]) => [`settings.${name}`, value]),
    ]))
  })

  it('has one table for each list of rows the run wrote, with every row and none left out', () => {
    const sections: Array<[string, unknown[]]> = [
      ['wire › rows', latest.wire!.rows],
      ['wire › handshakes', latest.wire!.handshakes],
      ['wire › projection', latest.wire!.projection],
      ['latency › rows', latest.latency!.rows],
      ['throughput › rows', latest.throughput!.rows],
      ['throughput › http', latest.throughput!.http],
      ['idle › rows', latest.idle!.rows],
      ['comparisons', latest.comparisons],
    ]
    const titles = view.tables.map((t) => t.title)
    expect(titles.filter((title) => sections.some(([s]) => s === title))).toEqual(sections.map(([title]) => title))
    for (const [title, rows] of sections) {
      expect(rows.length, title).toBeGreaterThan(0)
      expect(table(title).rows, title).toHaveLength(rows.length)
    }
    expect(view.tables.every((t) => t.omitted === 0)).toBe(true)
  })

  it('spreads each wire row\'s legs over dotted columns holding the bytes the run measured', () => {
    const wire = table('wire › rows')
    expect(wire.columns).toEqual([
      'subject', 'target', 'transport', 'label', 'textBytes', 'messages',
      'send.in.bytes', 'send.in.payload', 'send.in.overhead', 'send.out.bytes', 'send.out.payload', 'send.out.overhead',
      'receive.in.bytes', 'receive.in.payload', 'receive.in.overhead', 'receive.out.bytes', 'receive.out.payload', 'receive.out.overhead',
      'receiveBytesPerMessage', 'method',
    ])
    expect(wire.rows).toEqual(latest.wire!.rows.map((r) => ({
      subject: r.subject, target: r.target, transport: r.transport, label: r.label, textBytes: r.textBytes, messages: r.messages,
      'send.in.bytes': r.send.in.bytes, 'send.in.payload': r.send.in.payload, 'send.in.overhead': r.send.in.overhead,
      'send.out.bytes': r.send.out.bytes, 'send.out.payload': r.send.out.payload, 'send.out.overhead': r.send.out.overhead,
      'receive.in.bytes': r.receive.in.bytes, 'receive.in.payload': r.receive.in.payload, 'receive.in.overhead': r.receive.in.overhead,
      'receive.out.bytes': r.receive.out.bytes, 'receive.out.payload': r.receive.out.payload, 'receive.out.overhead': r.receive.out.overhead,
      receiveBytesPerMessage: r.receiveBytesPerMessage, method: r.method,
    })))
  })

  it('puts the latency percentiles and each row\'s accounting in columns of the latency table', () => {
    const latency = table('latency › rows')
    expect(latency.columns).toEqual(expect.arrayContaining(['label', 'latency.p50Us', 'latency.p99Us', 'latency.p999Us', 'accounting.expected', 'accounting.lost']))
    latest.latency!.rows.forEach((r, i) => {
      expect(latency.rows[i]).toMatchObject({ label: r.label, 'latency.p50Us': r.latency.p50Us, 'latency.p99Us': r.latency.p99Us, 'accounting.lost': r.accounting.lost })
    })
  })

  it('lists each comparison with the baseline as a row', () => {
    const comparisons = table('comparisons')
    expect(comparisons.columns.slice(0, 11)).toEqual(['metric', 'transport', 'baselineTarget', 'unit', 'better', 'lab', 'baseline', 'ratio', 'worseBy', 'flagged', 'target'])
    latest.comparisons.forEach((c, i) => {
      expect(comparisons.rows[i]).toMatchObject({ metric: c.metric, transport: c.transport, baselineTarget: c.baselineTarget, ratio: c.ratio, flagged: c.flagged })
    })
  })

  it('gives each projection row\'s Mbit/s per client count a small table of its own, in order', () => {
    const mbps = view.tables.filter((t) => t.title.startsWith('wire › projection › '))
    expect(mbps.map((t) => t.rows)).toEqual(latest.wire!.projection.map((r) => r.mbps))
    expect(mbps.every((t) => t.columns.join() === 'clients,mbps')).toBe(true)
  })

  it('turns the whole run\'s accounting into a table with a row for the total and one for the scenarios', () => {
    const accounting = table('accounting')
    expect(accounting.rows.map((r) => r.name)).toEqual(['total', 'byScenario'])
    expect(accounting.rows[0]).toMatchObject({ expected: latest.accounting.total.expected, delivered: latest.accounting.total.delivered, lost: latest.accounting.total.lost })
    for (const [scenario, a] of Object.entries(latest.accounting.byScenario)) {
      expect(accounting.rows[1]).toMatchObject({ [`${scenario}.delivered`]: a.delivered, [`${scenario}.lost`]: a.lost })
    }
  })

  it('prints every figure of the run for reading: thousands grouped, at most three decimals', () => {
    const numbers = view.tables.flatMap((t) => t.rows.flatMap((row) => Object.values(row))).filter((cell): cell is number => typeof cell === 'number')
    expect(numbers.length).toBeGreaterThan(1000)
    for (const n of numbers) expect(formatCell(n)).toMatch(/^-?\d{1,3}(,\d{3})*(\.\d{1,3})?$/)
  })
})

describe('extractBench, on a shape no page was written for', () => {
  it('never throws, whatever it is given', () => {
    for (const json of [null, 42, 'text', [], [1, 2], [[{ a: 1 }]], { a: [] }, { a: [1, { b: 2 }] }, { a: { b: { c: { d: { e: { f: { g: { h: { i: { j: [{ k: 1 }] } } } } } } } } } }]) {
      expect(() => extractBench(json)).not.toThrow()
    }
    expect(extractBench([{ a: 1 }]).tables[0]!.title).toBe('results')
    expect(extractBench(null)).toEqual({ environment: undefined, meta: [], tables: [] })
  })

  it('caps very long tables', () => {
    const view = extractBench({ samples: Array.from({ length: 600 }, (_, i) => ({ i })) })
    expect(view.tables[0]!.rows).toHaveLength(500)
    expect(view.tables[0]!.omitted).toBe(100)
  })
})

describe('flatten', () => {
  it('joins lists of values and stops at the depth it is given', () => {
    expect(flatten({ a: [1, 'b'], b: { c: { d: 1 } } }, 1)).toEqual([['a', '1, b']])
    expect(flatten({ b: { c: { d: 1 } } }, 2)).toEqual([['b.c.d', 1]])
  })
})

describe('formatCell', () => {
  it('prints numbers, booleans and gaps for reading', () => {
    expect(formatCell(1234567.891234)).toBe('1,234,567.891')
    expect(formatCell(true)).toBe('yes')
    expect(formatCell(null)).toBe('—')
    expect(formatCell(undefined)).toBe('—')
    expect(formatCell('x')).toBe('x')
  })
})

describe('formatNumber and formatWorseBy', () => {
  it('keeps a fixed number of decimals and marks missing figures', () => {
    expect(formatNumber(1234.5, 1)).toBe('1,234.5')
    expect(formatNumber(2, 2)).toBe('2.00')
    expect(formatNumber(0.4)).toBe('0')
    expect(formatNumber(null)).toBe('—')
    expect(formatNumber(Number.NaN)).toBe('—')
  })

  it('says how much worse or better, in words', () => {
    expect(formatWorseBy(0.234)).toBe('23% worse')
    expect(formatWorseBy(-0.05)).toBe('5% better')
    expect(formatWorseBy(0.001)).toBe('same')
    expect(formatWorseBy(null)).toBe('—')
  })
})
