import { describe, expect, it } from 'vitest'
import { extractBench, flatten, formatCell, formatNumber, formatWorseBy, hasResultsShape } from '../../ui/src/components/bench-tables.ts'

describe('extractBench', () => {
  it('finds the environment, the top-level values and every array of objects', () => {
    const view = extractBench({
      generatedAt: '2025-01-01T00:00:00Z',
      quick: true,
      environment: { node: 'v20.20.2', cpu: { model: 'X', cores: 4 } },
      scenarios: [
        { name: 'wire-cost', results: [{ transport: 'sse', overhead: 12, payload: 100 }, { transport: 'websocket', overhead: 2, payload: 100, extra: 'x' }] },
        { name: 'latency', results: [{ transport: 'sse', latencyUs: { p50: 120.5, p99: 900 } }] },
      ],
    })
    expect(view.environment).toEqual([['node', 'v20.20.2'], ['cpu.model', 'X'], ['cpu.cores', 4]])
    expect(view.meta).toEqual([['generatedAt', '2025-01-01T00:00:00Z'], ['quick', true]])
    expect(view.tables.map((t) => t.title)).toEqual(['scenarios', 'scenarios › wire-cost › results', 'scenarios › latency › results'])
    expect(view.tables[1]!.columns).toEqual(['transport', 'overhead', 'payload', 'extra'])
    expect(view.tables[1]!.rows[1]).toEqual({ transport: 'websocket', overhead: 2, payload: 100, extra: 'x' })
    expect(view.tables[2]!.columns).toEqual(['transport', 'latencyUs.p50', 'latencyUs.p99'])
  })

  it('makes columns of objects nested two deep instead of tables of their own', () => {
    const view = extractBench({ rows: [{ label: 'ws', send: { in: { bytes: 10, payload: 4 } }, deep: { a: { b: { c: 1 } } } }] })
    expect(view.tables.map((t) => t.title)).toEqual(['rows', 'rows › ws › deep'])
    expect(view.tables[0]!.columns).toEqual(['label', 'send.in.bytes', 'send.in.payload'])
    expect(view.tables[1]!.columns).toEqual(['name', 'b.c'])
  })

  it('turns a record of flat objects into a table with a name column', () => {
    const view = extractBench({ baselines: { sse: { p50: 1, flagged: false }, websocket: { p50: 2, flagged: true } } })
    expect(view.tables).toEqual([{ title: 'baselines', columns: ['name', 'p50', 'flagged'], rows: [{ name: 'sse', p50: 1, flagged: false }, { name: 'websocket', p50: 2, flagged: true }], omitted: 0 }])
  })

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

describe('hasResultsShape', () => {
  it('accepts the version it knows with its required parts, and nothing else', () => {
    const body = { version: 1, environment: {}, options: {}, comparisons: [], notes: [] }
    expect(hasResultsShape(body, 1)).toBe(true)
    expect(hasResultsShape({ ...body, version: 2 }, 1)).toBe(false)
    expect(hasResultsShape({ ...body, comparisons: undefined }, 1)).toBe(false)
    expect(hasResultsShape([body], 1)).toBe(false)
    expect(hasResultsShape(null, 1)).toBe(false)
  })
})
