// The README quotes the committed reference run. Its tables stay true only if
// they are the ones the report draws from benchmarks/results/latest.json, and
// latest.json is a reference run of the current results format.
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { runKind } from '../../benchmarks/output.ts'
import { markdownTable } from '../../benchmarks/report/format.ts'
import { ratioTable, summaryTable, type Table } from '../../benchmarks/report/tables.ts'
import { checkResults, type BenchResults } from '../../benchmarks/schema.ts'

const root = new URL('../../', import.meta.url)
const readme = readFileSync(new URL('README.md', root), 'utf8')
const results = JSON.parse(readFileSync(new URL('benchmarks/results/latest.json', root), 'utf8')) as BenchResults
const latestMd = readFileSync(new URL('benchmarks/results/latest.md', root), 'utf8')
const markdown = (t: Table) => markdownTable(t.headers, t.rows, t.align)

describe('the committed benchmark results', () => {
  it('are a complete reference run of the current results format', () => {
    expect(checkResults(results)).toEqual([])
    expect(runKind(results)).toBe('reference')
  })

  it("are what the README's summary and ratio tables show", () => {
    expect(readme).toContain(markdown(summaryTable(results)))
    expect(readme).toContain(markdown(ratioTable(results)))
  })

  it('are what latest.md shows', () => {
    expect(latestMd).toContain(markdown(summaryTable(results)))
    expect(latestMd).toContain(markdown(ratioTable(results)))
  })
})
