// latest.md: the report's sections (sections.ts) in Markdown, the charts
// linked where they were drawn; and the few lines the terminal prints.
import type { BenchResults } from '../schema.ts'
import { formatDuration, formatNumber, formatWindow, markdownTable, textTable } from './format.ts'
import { REPORT_TITLE, reportIntro, reportSections, type Block } from './sections.ts'
import { missedTargets } from './targets.ts'
import {
  checkSentences,
  noisySentences,
  ratioTable,
  slowReadersSentences,
  summaryTable,
  scaleSentences,
  tickerSentence,
  type Table,
} from './tables.ts'

const text = (t: Table) => textTable(t.headers, t.rows, t.align)

/** A block's lines, each block followed by a blank line; a chart only when it was drawn. */
function markdownBlock(block: Block, charts: string[]): string[] {
  switch (block.kind) {
    case 'paragraph':
      return [block.text, '']
    case 'heading':
      return [`### ${block.text}`, '']
    case 'table':
      return [markdownTable(block.table.headers, block.table.rows, block.table.align), '']
    case 'list':
      return [...block.items.map((item) => `- ${item}`), '']
    // A code block, so the values line up whatever their length; the header line of textTable is left out.
    case 'pairs':
      return [
        '```',
        text({ headers: ['', ''], rows: block.pairs, align: ['left', 'left'] })
          .split('\n')
          .slice(2)
          .join('\n'),
        '```',
        '',
      ]
    case 'chart':
      return charts.includes(block.file) ? [`![${block.alt}](${block.file})`, ''] : []
  }
}

export function renderMarkdown(results: BenchResults, charts: string[] = []): string {
  const out = [`# ${REPORT_TITLE}`, '', reportIntro(results), '']
  for (const section of reportSections(results)) {
    out.push(`## ${section.title}`, '', ...section.blocks.flatMap((block) => markdownBlock(block, charts)))
  }
  return out.join('\n')
}

/** What `npm run bench` prints when it is done (without --json). */
export function renderTerminal(results: BenchResults): string {
  const out = ['', 'Transport Lab vs its baselines', '', text(summaryTable(results))]
  if (results.comparisons.length > 0) {
    out.push('', 'lab / baseline (⚠ = more than 10% worse)', '', text(ratioTable(results)))
    // The 10% target covers WebSocket and Socket.IO only: a run without them says nothing of it.
    const targeted = results.comparisons.filter((c) => c.target)
    const flagged = targeted.filter((c) => c.flagged)
    if (targeted.length > 0)
      out.push(
        '',
        flagged.length === 0
          ? 'The 10% target holds for every comparison it covers.'
          : `The 10% target is missed ${flagged.length} time(s):`,
      )
    for (const sentence of checkSentences(results).filter((s) => s.includes('more than 10%')))
      out.push(`  - ${sentence.replace(/\*\*/g, '')}`)
    const missed = missedTargets(results)
    if (missed.length > 0) {
      out.push('', `Issue 14's targets not met in this run (the report's "Targets (issue 14)" states every one):`)
      for (const item of missed) out.push(`  - ${item}`)
    }
  }
  if (results.noisy) out.push('', 'Noisy neighbour:', ...noisySentences(results).map((line) => `  - ${line}`))
  if (results.slowReaders) out.push('', 'Slow readers:', ...slowReadersSentences(results).map((line) => `  - ${line}`))
  if (results.deadPeers) {
    out.push('', `Dead peers${results.deadPeers.shortened ? ' (shortened settings)' : ''}:`)
    for (const row of results.deadPeers.rows)
      out.push(
        `  - ${row.label}: gone from presence after ${formatDuration(row.goneFromPresenceMs)}, ` +
          `connection closed after ${formatDuration(row.connectionClosedMs)} ` +
          `(the settings allow ${formatWindow(row.expectedMinMs, row.expectedMaxMs)})`,
      )
  }
  const ticker = tickerSentence(results)
  if (ticker) out.push('', 'Live prices:', `  - ${ticker}`)
  if (results.scale) out.push('', 'Scaling out:', ...scaleSentences(results).map((line) => `  - ${line}`))
  const total = results.accounting.total
  out.push(
    '',
    `Accounting: ${formatNumber(total.sent)} sent, ` +
      `${formatNumber(total.delivered)}/${formatNumber(total.expected)} delivered, ${formatNumber(total.lost)} lost.`,
  )
  return out.join('\n')
}
