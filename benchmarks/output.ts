// Where a run's results go. Every run writes run-<time>.json into --out, a
// partial run too, so that nothing measured is lost. Only the reference run (a
// complete default run) replaces latest.json, latest.md and the charts there:
// the files the README quotes and the UI's Benchmarks tab serves. A complete
// quick run writes its own into quick/ beside them; any other run gets its run
// file only (`--render` makes a report of it).
import { writeFileSync } from 'node:fs'
import { mkdir, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { TRANSPORTS } from '../server/core/protocol.ts'
import { PRESETS, SCENARIOS, UsageError } from './options.ts'
import { chartSpecs, renderSvg } from './report/charts.ts'
import { renderMarkdown } from './report/markdown.ts'
import type { BenchResults } from './schema.ts'

/**
 * reference: every scenario, transport and baseline at the default counts, all measured;
 * quick: the same with --quick; partial: something asked for was not measured;
 * custom: a choice of scenarios, transports or counts.
 */
export type RunKind = 'reference' | 'quick' | 'partial' | 'custom'

/** The folder inside --out that a complete quick run's report goes to. */
export const QUICK_DIR = 'quick'

export function runKind(results: Pick<BenchResults, 'options' | 'partial'>): RunKind {
  if (results.partial) return 'partial'
  const o = results.options
  // The scale scenario needs redis-server and nginx, and it and joins came after the committed reference run: a
  // run without them is still a reference run of every transport.
  const everything =
    SCENARIOS.every((s) => s === 'scale' || s === 'joins' || o.scenarios.includes(s)) &&
    TRANSPORTS.every((t) => o.transports.includes(t)) &&
    o.baselines
  // The profiler slows what it watches: a profiled run's figures are not to be quoted.
  if (!everything || o.profile !== undefined) return 'custom'
  if (o.quick) return 'quick'
  const preset = PRESETS.default
  const defaultCounts =
    o.clients === preset.clients &&
    o.rate === preset.rate &&
    o.receivers === preset.receivers &&
    o.slowReaders === preset.slowReaders &&
    o.repetitions === preset.repetitions &&
    o.fanouts.join() === preset.fanouts.join() &&
    o.throughputMs === preset.throughputMs &&
    (o.joins === undefined || o.joins.join() === preset.joins.join())
  return defaultCounts ? 'reference' : 'custom'
}

/** The folder that gets a run's latest.json, latest.md and charts, or null when it gets its run file only. */
export function reportDir(kind: RunKind, out: string): string | null {
  if (kind === 'reference') return out
  if (kind === 'quick') return join(out, QUICK_DIR)
  return null
}

/**
 * Creates --out (and its parents) and proves it can be written, before anything is measured: a run that cannot
 * keep its results should not take minutes to find out.
 */
export async function prepareOut(out: string): Promise<void> {
  const probe = join(out, `.write-check-${process.pid}.tmp`)
  try {
    await mkdir(out, { recursive: true })
    await writeFile(probe, '')
    await rm(probe)
  } catch (error) {
    throw new UsageError(
      `--out ${out}: the results cannot be written there (${(error as Error).message}); nothing was measured`,
    )
  }
}

export function runFileName(results: Pick<BenchResults, 'startedAt'>): string {
  return `run-${results.startedAt.replace(/[:.]/g, '-')}.json`
}

export function resultsJson(results: BenchResults): string {
  return `${JSON.stringify(results, null, 2)}\n`
}

/** The run file, written synchronously: this also runs on a time limit or a signal, just before the process exits. */
export function writeRunFile(results: BenchResults, dir: string): string {
  const file = join(dir, runFileName(results))
  writeFileSync(file, resultsJson(results))
  return file
}

/** latest.md and the SVG charts; returns the charts' file names. */
export async function writeReport(results: BenchResults, dir: string): Promise<string[]> {
  await mkdir(dir, { recursive: true })
  const charts: string[] = []
  for (const [name, spec] of Object.entries(chartSpecs(results))) {
    await writeFile(join(dir, name), await renderSvg(spec))
    charts.push(name)
  }
  await writeFile(join(dir, 'latest.md'), renderMarkdown(results, charts))
  return charts
}

export interface Written {
  kind: RunKind
  runFile: string
  /** Where latest.json, latest.md and the charts went, if this run has them. */
  reportDir: string | null
  charts: string[]
}

/** Everything a finished run writes into `out`: its run file first, then the report its kind gets. */
export async function writeRun(results: BenchResults, out: string): Promise<Written> {
  const runFile = writeRunFile(results, out)
  const kind = runKind(results)
  const dir = reportDir(kind, out)
  if (dir === null) return { kind, runFile, reportDir: null, charts: [] }
  const charts = await writeReport(results, dir)
  await writeFile(join(dir, 'latest.json'), resultsJson(results))
  return { kind, runFile, reportDir: dir, charts }
}
