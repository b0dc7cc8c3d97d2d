// Reads a lesson into the steps the checker runs. The markdown is parsed with
// mdast-util-from-markdown, so a fence inside a list, a quote or a <details>
// block counts the same as one at the top level, and nothing is guessed from
// regular expressions over the raw text. lessons/FORMAT.md is the contract.
import { fromMarkdown } from 'mdast-util-from-markdown'
import type { Code, Nodes } from 'mdast'

export type StepKind = 'shell' | 'node' | 'file' | 'browser' | 'server'

export interface Expected {
  text: string
  /** 1-based line of the opening fence, for error messages. */
  line: number
  /** Where the whole fenced block sits in the file, so LESSONS_UPDATE can rewrite it. */
  start: number
  end: number
}

export interface Step {
  kind: StepKind
  code: string
  line: number
  meta: Record<string, string>
  expected?: Expected
}

const SHELL = new Set(['sh', 'bash', 'shell'])
const NODE = new Set(['js', 'mjs', 'javascript'])

/** `terminal=2 ready="joined l07" norun` → { terminal: '2', ready: 'joined l07', norun: '' } */
export function parseMeta(meta: string | null | undefined): Record<string, string> {
  const words: Record<string, string> = {}
  for (const match of (meta ?? '').matchAll(/([\w-]+)(?:=(?:"([^"]*)"|(\S+)))?/g)) {
    words[match[1]!] = match[2] ?? match[3] ?? ''
  }
  return words
}

function kindOf(node: Code, meta: Record<string, string>): StepKind | undefined {
  if ('norun' in meta) return undefined
  const lang = node.lang ?? ''
  if (SHELL.has(lang)) return 'server' in meta ? 'server' : 'shell'
  if (NODE.has(lang)) {
    if ('browser' in meta) return 'browser'
    return 'file' in meta ? 'file' : 'node'
  }
  return undefined
}

function codeBlocks(tree: Nodes): Code[] {
  const found: Code[] = []
  const walk = (node: Nodes) => {
    if (node.type === 'code') found.push(node)
    if ('children' in node) for (const child of node.children) walk(child)
  }
  walk(tree)
  return found
}

export function parseLesson(markdown: string): Step[] {
  const blocks = codeBlocks(fromMarkdown(markdown))
  const steps: Step[] = []
  for (const [index, node] of blocks.entries()) {
    const meta = parseMeta(node.meta)
    const kind = kindOf(node, meta)
    if (!kind) continue
    const step: Step = { kind, code: node.value, line: node.position!.start.line, meta }
    const next = blocks[index + 1]
    if (next && next.lang === 'text' && !kindOf(next, parseMeta(next.meta))) {
      step.expected = {
        text: next.value,
        line: next.position!.start.line,
        start: next.position!.start.offset!,
        end: next.position!.end.offset!,
      }
    }
    steps.push(step)
  }
  return steps
}

export interface Outline {
  /** Level-two and level-three headings, in order. */
  headings: Array<{ depth: number; text: string }>
  /** Paragraphs that open with a bold label (`**Goal:**`), by label. */
  labels: string[]
  /** Every link's target, in order. */
  links: string[]
  /** Raw HTML pieces (for the exercises' <details> solutions). */
  html: string[]
}

function textOf(node: Nodes): string {
  if ('value' in node && typeof node.value === 'string' && node.type !== 'html') return node.value
  return 'children' in node ? node.children.map((child) => textOf(child as Nodes)).join('') : ''
}

/** What a lesson is made of, for checking that it has the shape every lesson shares. */
export function outlineLesson(markdown: string): Outline {
  const outline: Outline = { headings: [], labels: [], links: [], html: [] }
  const walk = (node: Nodes) => {
    if (node.type === 'heading' && node.depth >= 2) outline.headings.push({ depth: node.depth, text: textOf(node) })
    if (node.type === 'paragraph' && node.children[0]?.type === 'strong')
      outline.labels.push(textOf(node.children[0]).replace(/:$/, ''))
    if (node.type === 'link') outline.links.push(node.url)
    if (node.type === 'html') outline.html.push(node.value)
    if ('children' in node) for (const child of node.children) walk(child)
  }
  walk(fromMarkdown(markdown))
  return outline
}
