// Numbers as people read them in a table, and tables as Markdown or as
// aligned text for a terminal. No I/O here: the tests format fixtures.

export function formatNumber(value: number | null | undefined, digits = 0): string {
  if (value == null || !Number.isFinite(value)) return '—'
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })
}

/** Three significant digits at most, thousands separated: 0.0123, 1.23, 123, 12,345. */
export function formatSignificant(value: number | null | undefined): string {
  if (value == null || !Number.isFinite(value)) return '—'
  const abs = Math.abs(value)
  if (abs === 0) return '0'
  if (abs >= 100) return formatNumber(value, 0)
  if (abs >= 10) return formatNumber(value, 1)
  if (abs >= 1) return formatNumber(value, 2)
  return value.toPrecision(3)
}

/** Bytes with a binary unit past 10 KiB: "731 B", "12.4 KiB", "3.1 MiB". Negative values keep their sign. */
export function formatBytes(value: number | null | undefined): string {
  if (value == null || !Number.isFinite(value)) return '—'
  const abs = Math.abs(value)
  if (abs < 10 * 1024) return `${Number.isInteger(value) ? formatNumber(value) : formatSignificant(value)} B`
  if (abs < 10 * 1024 * 1024) return `${formatSignificant(value / 1024)} KiB`
  return `${formatSignificant(value / (1024 * 1024))} MiB`
}

export function formatMicros(value: number | null | undefined): string {
  return value == null ? '—' : formatNumber(value, value < 100 ? 1 : 0)
}

/**
 * How far a figure's repetitions spread around their median, as ± half their
 * range: "±3%"; empty for a single reading or none.
 */
export function formatSpread(
  spread: { min: number; max: number; values: number[] } | null | undefined,
  median: number | null | undefined,
): string {
  if (!spread || spread.values.length < 2 || median == null || !(Math.abs(median) > 0)) return ''
  return `±${Math.round(((spread.max - spread.min) / 2 / Math.abs(median)) * 100)}%`
}

/** A figure with its spread: "44,050 ±3%"; the figure alone when it was read once. */
export function withSpread(
  text: string,
  spread: Parameters<typeof formatSpread>[0],
  median: number | null | undefined,
) {
  const s = formatSpread(spread, median)
  return s ? `${text} ${s}` : text
}

/** lab / baseline as "0.93x". */
export function formatRatio(value: number | null | undefined): string {
  return value == null || !Number.isFinite(value) ? '—' : `${value.toFixed(2)}x`
}

/** A fraction as a signed percentage: 0.254 -> "+25%". */
export function formatPercent(value: number | null | undefined, signed = false): string {
  if (value == null || !Number.isFinite(value)) return '—'
  const rounded = Math.round(value * 100)
  return `${signed && rounded > 0 ? '+' : ''}${rounded}%`
}

export type Align = 'left' | 'right'

function escapeCell(cell: string): string {
  return cell.replace(/\|/g, '\\|').replace(/\n/g, ' ')
}

export function markdownTable(headers: string[], rows: string[][], align: Align[] = []): string {
  const rule = headers.map((_, i) => (align[i] === 'right' ? '---:' : '---'))
  return [headers, rule, ...rows]
    .map((cells, line) => `| ${(line === 1 ? cells : cells.map(escapeCell)).join(' | ')} |`)
    .join('\n')
}

/** Columns padded to their widest cell; numbers (align right) line up on the right. */
export function textTable(headers: string[], rows: string[][], align: Align[] = []): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)))
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (align[i] === 'right' ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd()
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n')
}

/** A duration read in seconds: "850 ms" below a second, "1.89 s", "22.4 s", "—" when there is none. */
export function formatDuration(ms: number | null | undefined): string {
  if (ms == null || !Number.isFinite(ms)) return '—'
  if (Math.abs(ms) < 1000) return `${formatNumber(ms, 0)} ms`
  return `${formatSignificant(ms / 1000)} s`
}

/** Counted reasons as one cell: "20× bye LAB_ERR_SLOW_CONSUMER; 1× cut: ...". */
export function formatCounts(list: ReadonlyArray<{ reason: string; count: number }>): string {
  return list.length === 0 ? '—' : list.map((l) => `${formatNumber(l.count)}× ${l.reason}`).join('; ')
}

/** A window of time: "25.0 s" when both ends are one, "15.0 s – 30.0 s" otherwise. */
export function formatWindow(minMs: number, maxMs: number): string {
  return minMs === maxMs ? formatDuration(minMs) : `${formatDuration(minMs)} – ${formatDuration(maxMs)}`
}
