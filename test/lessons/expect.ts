// Compares what a step printed with what its lesson says it prints. A lesson
// shows the learner's view: `{{name}}` stands for text that differs from run
// to run (an id, a time, a latency) and a line that is only `...` stands for
// any number of lines. Everything else must be exactly as written.
import { diffArrays } from 'diff'

export const SKIP_LINE = '...'
const PLACEHOLDER = /\{\{[^{}]*\}\}/g

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;?]*[A-Za-z]/g

/** What a terminal would show: no colour codes, no carriage returns, no trailing spaces or blank tail. */
export function normalizeOutput(text: string): string {
  return text
    .replace(ANSI, '')
    .replace(/\r\n?/g, '\n')
    .split('\n')
    .map((line) => line.trimEnd())
    .join('\n')
    .replace(/\n+$/, '')
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

function linePattern(line: string): string {
  return line.split(PLACEHOLDER).map(escapeRegExp).join('[^\\n]+?')
}

export function lineMatches(expected: string, actual: string): boolean {
  return new RegExp(`^${linePattern(expected)}$`).test(actual)
}

export function outputMatches(expected: string, actual: string): boolean {
  const lines = normalizeOutput(expected).split('\n')
  const source = lines.map((line) => (line === SKIP_LINE ? '(?:[^\\n]*\\n)*?' : `${linePattern(line)}\\n`)).join('')
  return new RegExp(`^${source}$`).test(`${normalizeOutput(actual)}\n`)
}

/**
 * A line diff that treats placeholder matches as equal and the lines a `...`
 * stands for as context, so only real differences are marked: `-` what the
 * lesson says, `+` what was printed.
 */
export function describeDifference(expected: string, actual: string): string {
  const got = normalizeOutput(actual).split('\n')
  // A `...` stands for the printed lines the others leave over: give each that
  // many wildcards (any more and they would swallow real differences) and let
  // the diff use what it needs; the unused ones are not shown.
  const lines = normalizeOutput(expected).split('\n')
  const spare = Math.max(0, got.length - lines.filter((line) => line !== SKIP_LINE).length)
  const wildcard = Symbol('...')
  const want = lines.flatMap<string | symbol>((line) =>
    line === SKIP_LINE ? Array<symbol>(spare).fill(wildcard) : [line],
  )
  const comparator = (a: string | symbol, b: string | symbol) =>
    a === wildcard || (typeof a === 'string' && typeof b === 'string' && lineMatches(a, b))
  const parts = diffArrays<string | symbol>(want, got, { comparator })
  const out: string[] = []
  let w = 0
  let g = 0
  for (const part of parts) {
    for (let k = 0; k < (part.count ?? part.value.length); k++) {
      if (part.added) out.push(`+ ${got[g++]}`)
      else if (part.removed) {
        const line = want[w++]!
        if (line !== wildcard) out.push(`- ${String(line)}`)
      } else {
        out.push(`  ${got[g++]}`)
        w++
      }
    }
  }
  return out.join('\n')
}
