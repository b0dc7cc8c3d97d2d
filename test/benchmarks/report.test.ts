// The report's formatting and comparisons, from a hand-made results file.
import { describe, expect, it } from 'vitest'
import { comparisons } from '../../benchmarks/report/compare.ts'
import {
  formatBytes,
  formatCounts,
  formatDuration,
  formatMicros,
  formatWindow,
  formatPercent,
  formatRatio,
  formatSignificant,
  markdownTable,
  textTable,
} from '../../benchmarks/report/format.ts'
import { renderMarkdown, renderTerminal } from '../../benchmarks/report/markdown.ts'
import { reportSections } from '../../benchmarks/report/sections.ts'
import {
  checkSentences,
  crossInstanceShare,
  deadPeersTable,
  floodOutcome,
  idleTable,
  joinsSentences,
  joinsTable,
  noisySentences,
  noisyTable,
  ratioTable,
  scaleSentences,
  scaleTable,
  slowReadersSentences,
  slowReadersTable,
  summaryTable,
  throughputTable,
  tickerSentence,
  tickerTable,
} from '../../benchmarks/report/tables.ts'
import { chartSpecs, renderSvg } from '../../benchmarks/report/charts.ts'
import { checkResults } from '../../benchmarks/schema.ts'
import { presenceCount, withRatios } from '../../benchmarks/scenarios/joins.ts'
import { targetGroups } from '../../benchmarks/report/targets.ts'
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

  it('writes durations in ms below a second and in seconds above, and counted reasons in one cell', () => {
    expect(formatDuration(850.4)).toBe('850 ms')
    expect(formatDuration(1889.56)).toBe('1.89 s')
    expect(formatDuration(22_400)).toBe('22.4 s')
    expect(formatDuration(null)).toBe('—')
    expect(
      formatCounts([
        { reason: '1013 LAB_ERR_SLOW_CONSUMER', count: 19 },
        { reason: 'cut: 1006', count: 1 },
      ]),
    ).toBe('19× 1013 LAB_ERR_SLOW_CONSUMER; 1× cut: 1006')
    expect(formatCounts([])).toBe('—')
    expect(formatWindow(25_000, 25_000)).toBe('25.0 s')
    expect(formatWindow(15_000, 30_000)).toBe('15.0 s – 30.0 s')
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
    expect(
      markdownTable(
        ['transport', 'bytes'],
        [
          ['a|b', '12'],
          ['c', '3'],
        ],
        ['left', 'right'],
      ),
    ).toBe(['| transport | bytes |', '| --- | ---: |', '| a\\|b | 12 |', '| c | 3 |'].join('\n'))
  })

  it('render as aligned text for a terminal', () => {
    expect(
      textTable(
        ['name', 'n'],
        [
          ['ws', '1,234'],
          ['socket.io', '5'],
        ],
        ['left', 'right'],
      ),
    ).toBe(['name           n', '---------  -----', 'ws         1,234', 'socket.io      5'].join('\n'))
  })
})

describe('the report', () => {
  const results = fixtureResults()

  it('is a valid results file by the schema the UI reads', () => {
    expect(checkResults(results)).toEqual([])
    expect(checkResults({ ...results, version: 1 as unknown as 2 })).not.toEqual([])
  })

  it('compares WebSocket with bare ws and flags only what is more than 10% worse', () => {
    const list = comparisons(results, ['websocket'])
    const byMetric = Object.fromEntries(list.map((c) => [c.metric, c]))
    expect(byMetric['throughput, fan-out 1']).toMatchObject({
      ratio: 0.8,
      flagged: true,
      target: true,
      baselineTarget: 'bare-ws',
    })
    expect(byMetric['throughput, fan-out 1']!.note).toContain('load client')
    expect(byMetric['heap per connection']).toMatchObject({ ratio: 1.1, flagged: false, target: true })
    expect(byMetric['RSS per connection']).toMatchObject({ ratio: 1, flagged: false })
    expect(byMetric['server CPU per idle minute']).toMatchObject({ flagged: true, target: false })
  })

  it('does not flag a difference that the spread of the repetitions covers, and says so', () => {
    const byMetric = Object.fromEntries(comparisons(results, ['websocket']).map((c) => [c.metric, c]))
    // 20% worse per CPU-second, but one of the lab's readings (105,000) beats one of bare ws's (95,000).
    expect(byMetric['deliveries per server CPU-second, fan-out 1']).toMatchObject({
      ratio: 0.8,
      flagged: false,
      withinSpread: true,
      labSpread: { min: 70_000, max: 105_000 },
      baselineSpread: { min: 95_000, max: 104_000 },
    })
    expect(byMetric['throughput, fan-out 1']).toMatchObject({ flagged: true, withinSpread: false })
  })

  it('shows each repeated figure as its median with the spread of its readings', () => {
    const throughput = throughputTable(results)
    expect(throughput.rows[0]!.slice(2, 6)).toEqual(['80,000 ±3%', '80,000 ±3%', '100%', '80,000 ±22%'])
    const idle = idleTable(results)
    expect(idle.rows[0]!.slice(2, 5)).toEqual(['10.7 KiB ±2%', '29.3 KiB ±3%', '0.200 ±8%'])
  })

  it('puts one summary row per transport and baseline, with the figures of each scenario', () => {
    const table = summaryTable(results)
    expect(table.headers).toEqual([
      'transport',
      'send B/msg',
      'receive B/msg',
      'overhead',
      'handshake B',
      'Mbit/s @10k',
      'p50 µs',
      'p99 µs',
      'deliv/s ×1',
      'deliv/CPU-s ×1',
      'heap/conn',
      'RSS/conn',
      'idle req/min',
    ])
    expect(table.rows[0]).toEqual([
      'WebSocket',
      '350',
      '494',
      '1%',
      '640',
      '39.5',
      '350',
      '1,200',
      '80,000',
      '80,000',
      '10.7 KiB',
      '29.3 KiB',
      '0',
    ])
    expect(table.rows[1]![0]).toBe('bare ws (WebSocket)')
    expect(table.rows[1]![8]).toBe('100,000*')
  })

  it('shows lab / baseline with a warning sign where Transport Lab is more than 10% worse', () => {
    const table = ratioTable(results)
    expect(table.headers.slice(0, 4)).toEqual(['transport', 'baseline', 'deliv/s ×1', 'per CPU-s ×1'])
    expect(table.rows[0]!.slice(0, 4)).toEqual(['WebSocket', 'bare ws', '0.80x ⚠', '0.80x ~'])
  })

  it('states the 10% check plainly, with both figures', () => {
    const sentences = checkSentences(results)
    expect(sentences[0]).toBe(
      'WebSocket throughput, fan-out 1: 80,000 deliveries/s vs 100,000 deliveries/s for bare ws = 0.80x, ' +
        '**more than 10% worse** (20% worse, beyond the spread (readings 78,000–82,000 vs 98,000–102,000)) ' +
        '— the load client was near a full core: the figure may be its limit.',
    )
    expect(sentences.find((s) => s.startsWith('WebSocket heap per connection'))).toBe(
      'WebSocket heap per connection: 10.7 KiB vs 10,000 B for bare ws = 1.10x, within 10% (10% worse).',
    )
  })

  it('writes every section, the accounting and the environment in Markdown, linking the charts it was given', () => {
    const md = renderMarkdown(results, ['wire.svg'])
    for (const heading of [
      '## Summary',
      '## Against the bare baselines',
      '## 1. Wire cost',
      '### Handshakes',
      '## 2. Delivery latency',
      '## 3. Throughput at saturation',
      '## 4. Idle cost',
      '## 5. Noisy neighbour',
      '## 6. Slow readers',
      '## 7. Dead peers',
      '## 8. Live prices (the ticker room)',
      '## 9. Scaling out (one server, Redis, two behind nginx)',
      '## 10. Joins: N clients into one room',
      '## Accounting',
      '## Environment',
      '## Notes',
    ]) {
      expect(md).toContain(heading)
    }
    expect(md).toContain('![Bytes per delivered message, payload and overhead](wire.svg)')
    expect(md).not.toContain('latency.svg')
    expect(md).toContain('**0 lost**')
    expect(md).toMatch(/MESSAGE_RATE +1000000 \(set by the bench: all load comes from 127\.0\.0\.1\)/)
  })

  it('is one list of sections, which latest.md writes in its order with every table of it and no other', () => {
    const sections = reportSections(results)
    const md = renderMarkdown(results)
    expect(md.match(/^## .*$/gm)).toEqual(sections.map((s) => `## ${s.title}`))
    const tables = sections.flatMap((s) =>
      s.blocks.flatMap((b) =>
        b.kind === 'table' ? [markdownTable(b.table.headers, b.table.rows, b.table.align)] : [],
      ),
    )
    expect(md.match(/^\| (---|---:)( \| (---|---:))* \|$/gm)).toHaveLength(tables.length)
    let from = 0
    for (const table of tables) {
      const at = md.indexOf(table, from)
      expect(at, table.split('\n')[0]).toBeGreaterThanOrEqual(from)
      from = at + table.length
    }
  })

  it('leaves out the sections of the scenarios that did not run and of the comparisons when there are none', () => {
    const ids = (r: typeof results) => reportSections(r).map((s) => s.id)
    expect(ids(results)).toEqual([
      'summary',
      'baselines',
      'targets',
      'wire',
      'latency',
      'throughput',
      'idle',
      'noisy',
      'slow-readers',
      'dead-peers',
      'ticker',
      'scale',
      'joins',
      'accounting',
      'environment',
      'notes',
    ])
    expect(
      ids({
        ...results,
        wire: undefined,
        noisy: undefined,
        ticker: undefined,
        scale: undefined,
        comparisons: [],
        notes: [],
      }),
    ).toEqual([
      'summary',
      'targets',
      'latency',
      'throughput',
      'idle',
      'slow-readers',
      'dead-peers',
      'joins',
      'accounting',
      'environment',
    ])
  })

  it('says at its start that a partial run is partial, and where it stopped', () => {
    const failure = { step: 'idle', error: 'the load process exited', outcome: 'stopped' as const }
    const partial = renderMarkdown({ ...results, partial: { failures: [failure], notMeasured: ['idle'] } })
    expect(partial).toContain('A default run, **partial** (it stopped at idle; see the notes) of `npm run bench`')
    expect(renderMarkdown(results)).not.toContain('partial')
  })

  it('prints the summary, the ratios and the missed targets on the terminal', () => {
    const text = renderTerminal(results)
    expect(text).toContain('Transport Lab vs its baselines')
    expect(text).toContain('The 10% target is missed 1 time(s):')
    expect(text).toContain('WebSocket throughput, fan-out 1')
    expect(text).not.toContain('**')
  })

  it("lists issue 14's targets not met on the terminal, and claims nothing of the 10% target in a run it does not cover", () => {
    const text = renderTerminal(results)
    expect(text).toContain("Issue 14's targets not met in this run")
    expect(text).toContain('  - WebSocket: 20.00x of bare ws idle CPU (target at most 1.50x): not met.')
    expect(text).not.toContain('heap per idle connection and 1.00x RSS (target at most 1.20x): met.')
    const uncovered = renderTerminal({ ...results, comparisons: results.comparisons.filter((c) => !c.target) })
    expect(uncovered).toContain('lab / baseline')
    expect(uncovered).not.toContain('The 10% target')
  })

  it('draws its charts as SVG without a browser', async () => {
    const specs = chartSpecs(results)
    expect(Object.keys(specs).sort()).toEqual([
      'dead-peers.svg',
      'idle.svg',
      'latency.svg',
      'noisy.svg',
      'projection.svg',
      'slow-readers.svg',
      'throughput.svg',
      'wire.svg',
    ])
    const svg = await renderSvg(specs['throughput.svg']!)
    expect(svg.startsWith('<svg')).toBe(true)
    expect(svg).toContain('bare ws')
  })
})

describe('the noisy neighbour', () => {
  const results = fixtureResults()

  it('puts each phase in a row with its percentiles, their ratio to the quiet phase and what the flooder got', () => {
    const table = noisyTable(results)
    expect(table.headers).toEqual([
      'phase',
      'p50 µs',
      'p99 µs',
      'p50 × quiet',
      'p99 × quiet',
      'samples',
      'server CPU',
      'flood sent',
      'accepted',
      'refused',
      'flooder',
      'flooder CPU',
      'lost',
    ])
    expect(table.rows[0]).toEqual([
      'nobody flooding, limit on',
      '500',
      '2,000',
      '1.00x',
      '1.00x',
      '2,000',
      '5%',
      '—',
      '—',
      '—',
      '—',
      '—',
      '0',
    ])
    expect(table.rows[1]).toEqual([
      'WebSocket flood, limit on',
      '550',
      '2,200',
      '1.10x',
      '1.10x',
      '2,000',
      '5%',
      '400',
      '20',
      '21',
      'closed: 1008 LAB_ERR_RATE_LIMIT, after 12 ms',
      '1%',
      '0',
    ])
    expect(table.rows[3]![10]).toBe('never closed')
  })

  it('says per flooder, in a sentence, what the limit did and what the bystanders saw with it and without it', () => {
    expect(noisySentences(results)).toEqual([
      'WebSocket flood: with the default limit (MESSAGE_RATE 10/s, burst 20) the flooder sent 400, ' +
        'had 20 accepted and 21 refused and was closed (1008 LAB_ERR_RATE_LIMIT) after 12 ms; ' +
        "the bystanders' p50/p99 were 550/2,200 µs, 1.10x/1.10x of quiet (500/2,000 µs); " +
        'with the limit off it had 250,000 messages accepted (50,000/s) ' +
        "and the bystanders' p50/p99 were 40,000/160,000 µs, 100.00x/100.00x of quiet, " +
        'with the server at 95% of a core.',
    ])
  })

  it('describes a flooder that was never closed as such', () => {
    expect(
      floodOutcome({
        transport: 'http',
        label: 'HTTP POSTs',
        durationMs: 1000,
        attempted: 10,
        accepted: 10,
        refused: 0,
        otherErrors: [],
        closed: null,
        closedAfterMs: null,
        loadCpuCores: 0.4,
      }),
    ).toBe('never closed')
  })
})

describe('slow readers', () => {
  const results = fixtureResults()

  it('tabulates what the stopped readers were told and the memory held for them against N x SEND_BUFFER_BYTES', () => {
    const table = slowReadersTable(results)
    expect(table.rows[0]).toEqual([
      'WebSocket',
      '20 of 20 closed',
      '3,000',
      '1.40 s',
      '19× 1013 LAB_ERR_SLOW_CONSUMER; 1× cut: 1006',
      '100 MiB',
      '60.0 MiB (30.0 MiB)',
      '30.0 MiB (10.0 MiB)',
      '20.0 MiB',
      '1.00x',
      '+10.0 MiB',
      '0 of 3,000',
    ])
  })

  it('says it in a sentence, control and bystander included', () => {
    expect(slowReadersSentences(results)).toEqual([
      'WebSocket: all 20 stopped readers were closed as slow 1.40 s into the flood (3,000 messages of 4,096 B); ' +
        'told 19× 1013 LAB_ERR_SLOW_CONSUMER; 1× cut: 1006. ' +
        'At the end of the flood, after a GC, the server held 20.0 MiB more than the same flood without them, ' +
        '1.00x of 20 × SEND_BUFFER_BYTES (20.0 MiB); ' +
        'its RSS peaked 60.0 MiB above before (the same flood without them: 30.0 MiB). ' +
        'The reading bystander lost 0 of 3,000.',
    ])
  })
})

describe('dead peers', () => {
  it('gives each peer its settings, the window they allow and the delays measured, or how long it waited in vain', () => {
    const table = deadPeersTable(fixtureResults())
    expect(table.headers).toEqual([
      'transport',
      'the dead peer',
      'settings',
      'the settings allow',
      'gone from presence',
      'connection closed',
    ])
    expect(table.rows[0]).toEqual([
      'WebSocket',
      'a WebSocket that never answers pings (ws autoPong: false)',
      'WS_HEARTBEAT_MS 15,000',
      '15.0 s – 30.0 s',
      '22.4 s',
      '22.4 s',
    ])
    expect(table.rows[1]!.slice(2)).toEqual([
      'HTTP_SESSION_TTL_MS 30,000, LONG_POLL_TIMEOUT_MS 25,000',
      '55.0 s – 56.0 s',
      '55.5 s',
      'not within 66.0 s',
    ])
  })

  it('lists every peer on the terminal', () => {
    expect(renderTerminal(fixtureResults())).toContain(
      'WebSocket: gone from presence after 22.4 s, connection closed after 22.4 s (the settings allow 15.0 s – 30.0 s)',
    )
  })
})

describe('live prices', () => {
  const results = fixtureResults()

  it('tabulates per transport what each delivery carried and how old the updates were', () => {
    const table = tickerTable(results)
    expect(table.headers).toEqual([
      'transport',
      'updates received',
      'deliveries',
      'updates/delivery',
      'most in one',
      'age p50 µs',
      'age p95 µs',
      'age max µs',
      'lost',
    ])
    expect(table.rows).toEqual([
      ['short polling', '60 / 60', '6', '10.0', '11', '450,000', '950,000', '999,000', '0'],
      ['WebSocket', '60 / 60', '60', '1.00', '1', '311', '620', '1,500', '0'],
    ])
  })

  it('says it in one sentence, in the report and on the terminal', () => {
    const sentence =
      'With the server publishing 10.0 updates a second (TICKER_HZ 10) for 6.00 s, ' +
      'each receiver got them as follows: ' +
      'short polling 10.0 per delivery (at most 11), 450,000 µs old at the median and 950,000 µs at p95; ' +
      'WebSocket 1.00 per delivery (at most 1), 311 µs old at the median and 620 µs at p95.'
    expect(tickerSentence(results)).toBe(sentence)
    expect(renderMarkdown(results)).toContain(`- ${sentence}`)
    expect(renderTerminal(results)).toContain(sentence)
    expect(tickerSentence({ ...results, ticker: undefined })).toBeUndefined()
  })
})

describe('the targets of issue 14, in sentences', () => {
  const results = fixtureResults()
  const items = (r: typeof results) => targetGroups(r).flatMap((g) => g.items)

  it('states each target with its figures, ratios and whether it is met', () => {
    expect(targetGroups(results)).toEqual([
      {
        heading: '1. Throughput, against the bare baselines',
        items: [
          'WebSocket fan-out 1: 0.80x of bare ws deliveries/s and 0.80x per server CPU-second (target at least 0.90x): not met.',
        ],
      },
      {
        heading: '2. Memory per idle connection and idle CPU',
        items: [
          'WebSocket: 1.10x of bare ws heap per idle connection and 1.00x RSS (target at most 1.20x): met.',
          'WebSocket: 20.00x of bare ws idle CPU (target at most 1.50x): not met.',
        ],
      },
      {
        heading: '3. Delivery latency',
        items: ['WebSocket: 1.25x of bare ws p50 and 1.33x p99 (target at most 1.30x): not met.'],
      },
      {
        heading: '4. Joins: 10,000 connections per push transport, and joins that scale',
        items: [
          'WebSocket: 10,000 of 10,000 held with 0 errors: met; a join at 10,000 cost 1.20x of one at 1,000 ' +
            '(1.20 against 1.00 CPU-ms; linear: at most 1.50x): met.',
        ],
      },
    ])
  })

  it("calls a ratio worse than its target whose repetitions overlap the baseline's not shown to be met", () => {
    const noisy = structuredClone(results)
    const row = noisy.throughput!.rows.find((r) => r.target === 'lab')!
    const base = noisy.throughput!.rows.find((r) => r.target !== 'lab' && r.fanout === row.fanout)!
    row.spread.deliveriesPerSecond = {
      values: [],
      min: row.deliveriesPerSecond * 0.8,
      max: base.deliveriesPerSecond * 1.1,
    }
    row.spread.deliveriesPerServerCpuSecond = {
      values: [],
      min: row.deliveriesPerServerCpuSecond! * 0.8,
      max: base.deliveriesPerServerCpuSecond! * 1.1,
    }
    expect(items(noisy)[0]).toMatch(/: not shown to be met \(within noise\)\.$/)
  })

  it("calls a latency miss whose repetitions overlap the baseline's not shown to be met, and one beyond them not met", () => {
    const repeated = structuredClone(results)
    const [lab, base] = ['lab', 'bare-ws'].map((target) => repeated.latency!.rows.find((r) => r.target === target)!)
    const p99 = (min: number, max: number) => ({
      p50Us: null,
      p99Us: { values: [min, max], min, max },
    })
    // The lab's p99 is 1.33x the baseline's (the fixture); its readings reach down into the baseline's.
    lab!.spread = p99(lab!.latency.p99Us! * 0.9, lab!.latency.p99Us! * 1.1)
    base!.spread = p99(base!.latency.p99Us! * 0.9, lab!.latency.p99Us!)
    const latencyItem = (r: typeof results) =>
      targetGroups(r).find((g) => g.heading === '3. Delivery latency')!.items[0]
    expect(latencyItem(repeated)).toMatch(/: not shown to be met \(within noise\)\.$/)
    base!.spread = p99(base!.latency.p99Us! * 0.95, base!.latency.p99Us! * 1.05)
    expect(latencyItem(repeated)).toMatch(/: not met\.$/)
  })

  it('says a join that grows with N, a crowd not held and a run without joins for what they are', () => {
    const steep = structuredClone(results)
    steep.joins!.rows[1] = { ...steep.joins!.rows[1]!, perJoinRatio: 3, droppedDuringHold: 2 }
    expect(items(steep).at(-1)).toBe(
      'WebSocket: 10,000 of 10,000 held with 2 errors: not met; a join at 10,000 cost 3.00x of one at 1,000 ' +
        '(1.20 against 1.00 CPU-ms; linear: at most 1.50x): not met.',
    )
    expect(items({ ...results, joins: undefined }).at(-1)).toBe('Not measured in this run (it has no joins section).')
  })

  it('is a section of the report, after the baselines, also for a run of an older version without joins', () => {
    const md = renderMarkdown({ ...results, joins: undefined })
    expect(md).toContain('## Targets (issue 14)')
    expect(md).toContain('### 4. Joins: 10,000 connections per push transport, and joins that scale')
    expect(
      reportSections(results)
        .map((s) => s.id)
        .slice(0, 3),
    ).toEqual(['summary', 'baselines', 'targets'])
  })
})

describe('joins', () => {
  const results = fixtureResults()

  it('tabulates per transport and N the joins, their CPU per join against the smallest N and the presence each client got', () => {
    const table = joinsTable(results)
    expect(table.headers).toEqual([
      'transport',
      'N',
      'joined',
      'errors',
      'join time',
      'server CPU-s',
      'CPU-ms/join',
      'per join vs smallest N',
      'presence/client',
      'dropped in hold',
    ])
    expect(table.rows).toEqual([
      ['WebSocket', '1,000', '1,000 / 1,000', '0', '2.00 s', '1.00', '1.00', '—', '3.00', '0'],
      ['WebSocket', '10,000', '10,000 / 10,000', '0', '25.0 s', '12.0', '1.20', '1.20x', '4.00', '0'],
    ])
  })

  it('says per transport how many were held with how many errors, and whether a join grew with N', () => {
    expect(joinsSentences(results)).toEqual([
      'WebSocket: 10,000 of 10,000 clients joined one room and were held 5.00 s with 0 errors; ' +
        'a join cost 1.20 CPU-ms at 10,000, 1.20x of its 1.00 CPU-ms at 1,000: linear in N (linear: within 1.50x); ' +
        'each client received 4.00 presence deliveries.',
    ])
    const steep = structuredClone(results)
    steep.joins!.rows[1]!.perJoinRatio = 4
    expect(joinsSentences(steep)[0]).toContain('4.00x of its 1.00 CPU-ms at 1,000: not linear in N')
  })

  it('keeps WebSocket through Redis a series of its own: its rows, its sentence, its target and its own smallest N', () => {
    const both = structuredClone(results)
    const redisRows = both.joins!.rows.map((r) => ({
      ...r,
      subject: `${r.subject}+redis`,
      label: `${r.label} + Redis`,
      setup: 'redis' as const,
      cpuSeconds: r.cpuSeconds * 2,
      cpuMsPerJoin: r.cpuMsPerJoin! * 2,
    }))
    both.joins!.rows.push(...redisRows)
    expect(joinsTable(both).rows.map((r) => `${r[0]} ${r[1]}`)).toEqual([
      'WebSocket 1,000',
      'WebSocket 10,000',
      'WebSocket + Redis 1,000',
      'WebSocket + Redis 10,000',
    ])
    const sentences = joinsSentences(both)
    expect(sentences).toHaveLength(2)
    expect(sentences[1]).toMatch(/^WebSocket \+ Redis: 10,000 of 10,000 clients joined one room/)
    expect(sentences[1]).toContain('1.20x of its 2.00 CPU-ms at 1,000')
    const joinTargets = targetGroups(both).find((g) => g.heading.startsWith('4. Joins'))!.items
    expect(joinTargets.at(-1)).toMatch(/^WebSocket \+ Redis: 10,000 of 10,000 held with 0 errors: met; /)
    const ratios = withRatios(both.joins!.rows.map(({ perJoinRatio: _, ...r }) => r))
    expect(ratios.map((r) => r.perJoinRatio)).toEqual([null, 1.2, null, 1.2])
  })

  it('divides each per-join cost by the smallest complete N of the same transport', () => {
    const [small, large] = results.joins!.rows
    const rows = withRatios([
      { ...small!, perJoinRatio: undefined },
      { ...large!, perJoinRatio: undefined },
    ] as never)
    expect(rows.map((r) => r.perJoinRatio)).toEqual([null, 1.2])
    const cut = withRatios([{ ...small!, complete: false }, large!] as never)
    expect(cut.map((r) => r.perJoinRatio)).toEqual([null, null])
  })

  it('counts the members of a presence answer, a list or an object that says how many', () => {
    expect(presenceCount([{ clientId: 'a' }, { clientId: 'b' }])).toBe(2)
    expect(presenceCount({ memberCount: 7, members: [] })).toBe(7)
    expect(presenceCount({ members: [{}, {}, {}] })).toBe(3)
    expect(presenceCount(null)).toBe(0)
  })
})

describe('scaling out', () => {
  const results = fixtureResults()

  it('tabulates each setup against one server alone, with the share of deliveries across instances and Redis per message', () => {
    const table = scaleTable(results)
    expect(table.headers).toEqual([
      'setup',
      'across instances',
      'deliveries/s',
      'vs alone',
      'p50 µs',
      'vs alone',
      'p99 µs',
      'vs alone',
      'Redis round trips/msg',
      'Redis commands run/msg',
      'lost',
    ])
    expect(table.rows).toEqual([
      ['one server, in memory', '—', '40,000', '1.00x', '500', '1.00x', '2,000', '1.00x', '—', '—', '0'],
      ['one server + Redis', '—', '20,000', '0.50x', '750', '1.50x', '3,000', '1.50x', '1.05', '2.00', '0'],
      [
        'two servers + Redis, behind nginx',
        '55%',
        '30,000',
        '0.75x',
        '1,000',
        '2.00x',
        '5,000',
        '2.50x',
        '1.10',
        '2.00',
        '0',
      ],
    ])
  })

  it('counts a delivery as across instances when its receiver is on another instance than the sender', () => {
    // a sends to 4 on a and 6 on b, then b sends to 5 on a and 5 on b: 11 of 20 crossed.
    expect(crossInstanceShare(results.scale!.rows[2]!)).toBeCloseTo(11 / 20, 9)
    expect(crossInstanceShare({ placements: [{ sender: null, receivers: { 'in memory': 10 } }] })).toBe(0)
    expect(crossInstanceShare({ placements: [] })).toBeNull()
  })

  it('says what each setup costs, and what Redis does per message, in the report and on the terminal', () => {
    const sentences = [
      'one server + Redis: 0.50x the deliveries per second of one server alone, p50 1.50x and p99 1.50x its latency; ' +
        'per message, 1.05 Redis round trips (evalsha 1.00, set 0.0500) and 2.00 commands run in Redis, ' +
        "the scripts' own included (evalsha 1.00, xadd 1.00).",
      'two servers + Redis, behind nginx (55% of deliveries across instances): 0.75x the deliveries per second of ' +
        'one server alone, p50 2.00x and p99 2.50x its latency; per message, 1.10 Redis round trips ' +
        "(evalsha 1.00, set 0.100) and 2.00 commands run in Redis, the scripts' own included (evalsha 1.00, xadd 1.00).",
    ]
    expect(scaleSentences(results)).toEqual(sentences)
    expect(renderMarkdown(results)).toContain(`- ${sentences[1]}`)
    expect(renderTerminal(results)).toContain(sentences[1])
    expect(scaleSentences({ ...results, scale: undefined })).toEqual([])
  })

  it('says which setups were not measured, and why, when redis-server or nginx is missing', () => {
    const scale = results.scale!
    const skipped = {
      ...results,
      scale: {
        ...scale,
        rows: scale.rows.slice(0, 1),
        skipped: [
          'one server + Redis: not measured, redis-server not found (apt-get install redis-server)',
          'two servers + Redis, behind nginx: not measured, redis-server and nginx not found (apt-get install redis-server nginx)',
        ],
      },
    }
    expect(checkResults(skipped)).toEqual([])
    expect(scaleSentences(skipped)).toEqual([
      'One server + Redis: not measured, redis-server not found (apt-get install redis-server).',
      'Two servers + Redis, behind nginx: not measured, redis-server and nginx not found (apt-get install redis-server nginx).',
    ])
    expect(renderMarkdown(skipped)).toContain(
      '- Two servers + Redis, behind nginx: not measured, redis-server and nginx not found (apt-get install redis-server nginx).',
    )
    const none = { ...skipped, scale: { ...skipped.scale, rows: [] } }
    const section = reportSections(none).find((s) => s.id === 'scale')!
    expect(section.blocks.some((b) => b.kind === 'table')).toBe(false)
  })
})
