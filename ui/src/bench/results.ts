// What GET /api/bench answered, read into what the Benchmarks tab shows: the
// report's own sections (benchmarks/report/sections.ts, the list latest.md is
// written from), "no run yet", or a file of another version of the benchmark,
// which the tab names as such rather than guessing at its shape.
import type { BenchResults } from '../../../benchmarks/schema.ts'
import { reportIntro, reportSections, type ReportSection } from '../../../benchmarks/report/sections.ts'

/**
 * The results version the report's builders read. Typed from the schema
 * (whose RESULTS_VERSION value would bring TypeBox into the bundle), so
 * bumping it there fails the UI's type check until this is looked at again.
 */
export const RESULTS_VERSION: BenchResults['version'] = 2

export type BenchAnswer =
  | { kind: 'report'; results: BenchResults; intro: string; sections: ReportSection[] }
  /** The server has no results file: nobody has run the benchmark here yet. */
  | { kind: 'none'; message: string }
  /** A file the report cannot read: its version, when it says one. */
  | { kind: 'other-version'; version: unknown }

interface Reply {
  ok: boolean
  status: number
  statusText: string
}

/** Reads an answer of /api/bench; throws, with what went wrong, for an answer that is not one. */
export function readBenchAnswer(reply: Reply, body: unknown): BenchAnswer {
  if (reply.status === 404 && isError(body) && body.code === 'LAB_ERR_NOT_FOUND')
    return { kind: 'none', message: body.message }
  if (!reply.ok)
    throw new Error(
      isError(body) ? `${body.code}: ${body.message}` : `the server answered ${reply.status} ${reply.statusText}`,
    )
  if (body === undefined) throw new Error('the results are not valid JSON')
  const version = isObject(body) ? body['version'] : undefined
  if (version !== RESULTS_VERSION) return { kind: 'other-version', version }
  const results = body as unknown as BenchResults
  try {
    return { kind: 'report', results, intro: reportIntro(results), sections: reportSections(results) }
  } catch {
    // The right version number on a file the builders cannot read (edited by hand, cut short): as foreign as any other.
    return { kind: 'other-version', version }
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function isError(body: unknown): body is { type: 'error'; code: string; message: string } {
  return (
    isObject(body) &&
    body['type'] === 'error' &&
    typeof body['code'] === 'string' &&
    typeof body['message'] === 'string'
  )
}
