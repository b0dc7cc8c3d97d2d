// Turns benchmark results of any shape into an environment block and plain
// tables, so the Benchmarks tab shows something useful while the results
// format is still moving, and never throws on a shape it has not seen.
export type Cell = string | number | boolean | null

export interface Table {
  /** Where in the JSON the rows were found, e.g. "scenarios › wire-cost › results". */
  title: string
  columns: string[]
  rows: Array<Record<string, Cell>>
  /** Rows left out to keep the page light. */
  omitted: number
}

export interface BenchView {
  environment: Array<[string, Cell]> | undefined
  /** Top-level single values (when it ran, which mode, ...). */
  meta: Array<[string, Cell]>
  tables: Table[]
}

const ENVIRONMENT_KEYS = ['environment', 'env', 'machine', 'system']
const NAME_KEYS = ['name', 'scenario', 'id', 'title', 'transport', 'label']
const MAX_DEPTH = 8
const MAX_TABLES = 80
const MAX_ROWS = 500
/** How deep a row's nested objects become dotted columns ("send.in.bytes"). */
const ROW_LEVELS = 2

type Plain = Record<string, unknown>

function isPlain(value: unknown): value is Plain {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function isCell(value: unknown): value is Cell {
  return value === null || typeof value === 'string' || typeof value === 'boolean' || (typeof value === 'number')
}

function isCellArray(value: unknown): value is Cell[] {
  return Array.isArray(value) && value.every(isCell)
}

/**
 * Single values of an object, nested objects down to `levels` as dotted keys
 * ("latency.p50"), lists of values joined. Deeper structure is left to a table of its own.
 */
export function flatten(object: Plain, levels = 1, prefix = ''): Array<[string, Cell]> {
  const out: Array<[string, Cell]> = []
  for (const [key, value] of Object.entries(object)) {
    const name = prefix ? `${prefix}.${key}` : key
    if (isCell(value)) out.push([name, value])
    else if (isCellArray(value)) out.push([name, value.map((v) => String(v)).join(', ')])
    else if (isPlain(value) && levels > 0) out.push(...flatten(value, levels - 1, name))
  }
  return out
}

/** Whether `flatten(value, levels)` takes in all of it, leaving nothing for a table of its own. */
function isFlat(value: unknown, levels: number): boolean {
  if (isCell(value) || isCellArray(value)) return true
  return isPlain(value) && levels > 0 && Object.values(value).every((v) => isFlat(v, levels - 1))
}

/** A record whose values are all flat objects: one row per key. */
function isRowRecord(value: Plain): boolean {
  const values = Object.values(value)
  return values.length > 0 && values.every((v) => isPlain(v) && isFlat(v, ROW_LEVELS + 1))
}

function rowName(row: unknown, index: number): string {
  if (isPlain(row)) {
    for (const key of NAME_KEYS) {
      const value = row[key]
      if (typeof value === 'string' || typeof value === 'number') return String(value)
    }
  }
  return `#${index + 1}`
}

function toTable(title: string, entries: Array<Array<[string, Cell]>>): Table {
  const columns: string[] = []
  const seen = new Set<string>()
  const rows = entries.slice(0, MAX_ROWS).map((cells) => {
    const row: Record<string, Cell> = {}
    for (const [key, value] of cells) {
      if (!seen.has(key)) {
        seen.add(key)
        columns.push(key)
      }
      row[key] = value
    }
    return row
  })
  return { title, columns, rows, omitted: Math.max(0, entries.length - MAX_ROWS) }
}

function findEnvironment(value: unknown, depth = 0): Plain | undefined {
  if (!isPlain(value) || depth > 2) return undefined
  for (const key of ENVIRONMENT_KEYS) if (isPlain(value[key])) return value[key]
  for (const child of Object.values(value)) {
    const found = findEnvironment(child, depth + 1)
    if (found) return found
  }
  return undefined
}

export function extractBench(json: unknown): BenchView {
  const environmentObject = findEnvironment(json)
  const tables: Table[] = []

  const walk = (value: unknown, path: string[], depth: number): void => {
    if (depth > MAX_DEPTH || tables.length >= MAX_TABLES || value === environmentObject) return
    const title = path.join(' › ') || 'results'
    if (Array.isArray(value)) {
      if (value.length === 0 || !value.every(isPlain)) return
      const rows = value as Plain[]
      const table = toTable(title, rows.map((row) => flatten(row, ROW_LEVELS)))
      if (table.columns.length > 0) tables.push(table)
      rows.forEach((row, i) => {
        for (const [key, child] of Object.entries(row)) {
          if (!isFlat(child, ROW_LEVELS)) walk(child, [...path, rowName(row, i), key], depth + 1)
        }
      })
      return
    }
    if (!isPlain(value)) return
    if (depth > 0 && isRowRecord(value)) {
      tables.push(toTable(title, Object.entries(value).map(([key, row]) => [['name', key] as [string, Cell], ...flatten(row as Plain, ROW_LEVELS)])))
      return
    }
    for (const [key, child] of Object.entries(value)) walk(child, [...path, key], depth + 1)
  }

  try {
    walk(json, [], 0)
  } catch {
    // A shape this cannot read (a cycle cannot come from JSON, but a very deep one can): show what was found so far.
  }
  return {
    environment: environmentObject ? flatten(environmentObject, 3) : undefined,
    meta: isPlain(json) ? Object.entries(json).filter((entry): entry is [string, Cell] => isCell(entry[1])) : [],
    tables,
  }
}

const NUMBER = new Intl.NumberFormat('en-US', { maximumFractionDigits: 3 })

export function formatCell(cell: Cell | undefined): string {
  if (cell === undefined || cell === null) return '—'
  if (typeof cell === 'number') return Number.isFinite(cell) ? NUMBER.format(cell) : String(cell)
  if (typeof cell === 'boolean') return cell ? 'yes' : 'no'
  return cell
}

/** A figure with a fixed number of decimals, so a right-aligned column lines up; '—' where there is none. */
export function formatNumber(value: number | null | undefined, digits = 0): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—'
  return new Intl.NumberFormat('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }).format(value)
}

/** How Transport Lab compares with a baseline: "23% worse", "5% better", "same". */
export function formatWorseBy(worseBy: number | null | undefined): string {
  if (worseBy === null || worseBy === undefined || !Number.isFinite(worseBy)) return '—'
  const percent = Math.round(Math.abs(worseBy) * 100)
  if (percent === 0) return 'same'
  return `${percent}% ${worseBy > 0 ? 'worse' : 'better'}`
}

/**
 * Whether a results file has the version this page was written for and the
 * parts it cannot do without; anything else is shown by `extractBench`.
 */
export function hasResultsShape(body: unknown, version: number): boolean {
  return isPlain(body) && body['version'] === version && isPlain(body['environment']) && isPlain(body['options'])
    && Array.isArray(body['comparisons']) && Array.isArray(body['notes'])
}
