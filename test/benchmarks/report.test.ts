// The report's formatting and comparisons, from a hand-made results file.
import { describe, expect, it } from 'vitest'
import { comparisons } from '../../benchmarks/report/compare.ts'
import { formatBytes, formatMicros, formatPercent, formatRatio, formatSignificant, markdownTable, textTable } from '../../benchmarks/report/format.ts'
import { renderMarkdown, renderTerminal } from '../../benchmarks/report/markdown.ts'
import { checkSentences, ratioTable, summaryTable } from '../../benchmarks/report/tables.ts'
import { chartSpecs, renderSvg } from '../../benchmarks/report/charts.ts'
import { checkResults } from '../../benchmarks/schema.ts'
import { fixtureResults } from './fixture.ts'

describe('number formatting', () => {
  it('writes bytes in B below 10 KiB and in KiB or MiB above', () => {
    expect(formatBytes(731)).toBe('731 B')
    expect(formatBytes(9000)).toBe('9,000 B')
    expect(formatBytes(12_697)).toBe('12.4 KiB')
    expect(formatBytes(3.1 * 1024 * 1024 * 4)).toBe('12.4 MiB')
    expect(formatBytes(-2048)).toBe('-2,048 B')
    expect(formatBytes(null)).toBe('—')
  })

  it('keeps three significant digits and thousands separators', () => {
    expect(formatSignificant(0.012345)).toBe('0.0123')
    expect(formatSignificant(1.2345)).toBe('1.23')
    expect(formatSignificant(12.345)).toBe('12.3')
    expect(formatSignificant(12_345.6)).toBe('12,346')
  })

  it('writes ratios, percentages and microseconds', () => {
    expect(formatRatio(0.934)).toBe('0.93x')
    expect(formatPercent(0.254, true)).toBe('+25%')
    expect(formatPercent(-0.05)).toBe('-5%')
    expect(formatMicros(12.34)).toBe('12.3')
    expect(formatMicros(500_695.04)).toBe('500,695')
  })
})

describe('tables', () => {
  it('render as Markdown with right-aligned number columns and escaped pipes', () => {
    expect(markdownTable(['transport', 'bytes'], [['a|b', '12'], ['c', '3']], ['left', 'right'])).toBe(
      ['| transport | bytes |', '| --- | ---: |', '| a\\|b | 12 |', '| c | 3 |'].join('\n'),
    )
  })

  it('render as aligned text for a terminal', () => {
    expect(textTable(['name', 'n'], [['ws', '1,234'], ['socket.io', '5']], ['left', 'right'])).toBe(
      ['name           n', '---------  -----', 'ws         1,234', 'socket.io      5'].join('\n'),
    )
  })
})

describe('the report', () => {
  const results = fixtureResults()

  it('is a valid results file by the schema the UI reads', () => {
    expect(checkResults(results)).toEqual([])
    expect(checkResults({ ...results, version: 2 })).not.toEqual([])
  })

  it('compares WebSocket with bare ws and flags only what is more than 10% worse', () => {
    const list = comparisons(results, ['websocket'])
    const byMetric = Object.fromEntries(list.map((c) => [c.metric, c]))
    expect(byMetric['throughput, fan-out 1']).toMatchObject({ ratio: 0.8, flagged: true, target: true, baselineTarget: 'bare-ws' })
    expect(byMetric['throughput, fan-out 1']!.note).toContain('load client')
    expect(byMetric['heap per connection']).toMatchObject({ ratio: 1.1, flagged: false, target: true })
    expect(byMetric['RSS per connection']).toMatchObject({ ratio: 1, flagged: false })
    expect(byMetric['server CPU per idle minute']).toMatchObject({ flagged: true, target: false })
  })

  it('puts one summary row per transport and baseline, with the figures of each scenario', () => {
    const table = summaryTable(results)
    expect(table.headers).toEqual(['transport', 'send B/msg', 'receive B/msg', 'overhead', 'handshake B', 'Mbit/s @10k', 'p50 µs', 'p99 µs', 'deliv/s ×1', 'deliv/CPU-s ×1', 'heap/conn', 'RSS/conn', 'idle req/min'])
    expect(table.rows[0]).toEqual(['WebSocket', '350', '494', '1%', '640', '39.5', '350', '1,200', '80,000', '80,000', '10.7 KiB', '29.3 KiB', '0'])
    expect(table.rows[1]![0]).toBe('bare ws (WebSocket)')
    expect(table.rows[1]![8]).toBe('100,000*')
  })

  it('shows lab / baseline with a warning sign where Transport Lab is more than 10% worse', () => {
    const table = ratioTable(results)
    expect(table.headers.slice(0, 4)).toEqual(['transport', 'baseline', 'deliv/s ×1', 'per CPU-s ×1'])
    expect(table.rows[0]!.slice(0, 4)).toEqual(['WebSocket', 'bare ws', '0.80x ⚠', '0.80x ⚠'])
  })

  it('states the 10% check plainly, with both figures', () => {
    const sentences = checkSentences(results)
    expect(sentences[0]).toBe('WebSocket throughput, fan-out 1: 80,000 deliveries/s vs 100,000 deliveries/s for bare ws = 0.80x, **more than 10% worse** (20% worse) — the load client was near a full core: the figure may be its limit.')
    expect(sentences.find((s) => s.startsWith('WebSocket heap per connection'))).toBe('WebSocket heap per connection: 10.7 KiB vs 10,000 B for bare ws = 1.10x, within 10% (10% worse).')
  })

  it('writes every section, the accounting and the environment in Markdown, linking the charts it was given', () => {
    const md = renderMarkdown(results, ['wire.svg'])
    for (const heading of ['## Summary', '## Against the bare baselines', '## 1. Wire cost', '### Handshakes', '## 2. Delivery latency', '## 3. Throughput at saturation', '## 4. Idle cost', '## Accounting', '## Environment', '## Notes']) {
      expect(md).toContain(heading)
    }
    expect(md).toContain('![Bytes per delivered message, payload and overhead](wire.svg)')
    expect(md).not.toContain('latency.svg')
    expect(md).toContain('**0 lost**')
  })

  it('prints the summary, the ratios and the missed targets on the terminal', () => {
    const text = renderTerminal(results)
    expect(text).toContain('Transport Lab vs its baselines')
    expect(text).toContain('The 10% target is missed 1 time(s):')
    expect(text).toContain('WebSocket throughput, fan-out 1')
    expect(text).not.toContain('**')
  })

  it('draws its charts as SVG without a browser', async () => {
    const specs = chartSpecs(results)
    expect(Object.keys(specs).sort()).toEqual(['idle.svg', 'latency.svg', 'projection.svg', 'throughput.svg', 'wire.svg'])
    const svg = await renderSvg(specs['throughput.svg']!)
    expect(svg.startsWith('<svg')).toBe(true)
    expect(svg).toContain('bare ws')
  })
})
