// `npm run bench:profile -- DIR_OR_FILES [--top N]`: what the profiles of a
// `npm run bench -- --profile DIR` run say, in a terminal. Per .cpuprofile, the
// functions that spent the most self time and the same time by package or
// folder (server/core, node_modules/ws, node:internal/streams ...); per
// .heapprofile, the allocation sites with the most sampled bytes. Shares of
// self time are what to compare between two runs: the profiler and the
// machine's other processes move the milliseconds.
import { readdir, readFile, stat } from 'node:fs/promises'
import { SourceMap, type SourceMapPayload } from 'node:module'
import { basename, dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { ROOT, runAsCommand } from './processes.ts'

export interface CallFrame {
  functionName: string
  url: string
  /** 0-based, -1 when unknown */
  lineNumber: number
  columnNumber: number
}

/** The .cpuprofile format (V8's Profiler.Profile). */
export interface CpuProfile {
  nodes: Array<{ id: number; callFrame: CallFrame; children?: number[] }>
  startTime: number
  endTime: number
  samples: number[]
  /** µs since the previous sample (the first: since startTime) */
  timeDeltas: number[]
}

/** The .heapprofile format (V8's HeapProfiler.SamplingHeapProfile). */
export interface HeapProfile {
  head: HeapNode
  samples?: Array<{ size: number; nodeId: number }>
}
interface HeapNode {
  callFrame: CallFrame
  selfSize: number
  id: number
  children: HeapNode[]
}

export interface Row {
  /** "send", "(garbage collector)", "(anonymous)" */
  name: string
  /** "server/core/hub.ts:120", "node_modules/ws/lib/sender.js:88", "node:internal/streams/writable:502", "" */
  location: string
  /** "server/core", "node_modules/ws", "node:internal/streams", "(v8)" */
  group: string
  /** ms of self time, or sampled bytes */
  amount: number
  /** of the busy time (CPU) or of all sampled bytes (heap), 0..1 */
  share: number
}

export interface CpuSummary {
  /** from the first sample to the last, ms */
  totalMs: number
  /** the part of totalMs not spent waiting in the event loop nor loading modules, ms */
  busyMs: number
  /** loading and compiling modules (the start, tsx, lazy imports) and the probe: not what a scenario measures, ms */
  loadingMs: number
  functions: Row[]
  groups: Row[]
}

export interface HeapSummary {
  /** sampled bytes, less loadingBytes */
  totalBytes: number
  /** what loading modules allocated (compiled code, sources): the process's own, not a connection's */
  loadingBytes: number
  sites: Row[]
  groups: Row[]
}

/** V8's names for time no JavaScript function accounts for. */
const IDLE = '(idle)'
/** A sample with one of these in its stack is the process loading code, not serving. */
const LOADING = /^node:internal\/(modules\/|bootstrap\/realm$)/
/** The bench's own instrument in the profiled process (its readings, the source maps it writes at exit). */
const PROBE = /\/benchmarks\/probe\.ts$/

/** Where a script lives, relative to the repository, node_modules or Node itself; and the group it falls in. */
export function place(url: string): { file: string; group: string } {
  if (url === '') return { file: '', group: '(v8)' }
  if (url.startsWith('node:')) {
    const parts = url.slice('node:'.length).split('/')
    return { file: url, group: parts[0] === 'internal' && parts.length > 2 ? `node:internal/${parts[1]}` : url }
  }
  let path = url
  if (url.startsWith('file://')) {
    try {
      path = fileURLToPath(url)
    } catch {
      return { file: url, group: url }
    }
  }
  const inModules = path.lastIndexOf('/node_modules/')
  if (inModules >= 0) {
    const file = path.slice(inModules + 1)
    const [, first, second] = file.split('/')
    return { file, group: `node_modules/${first?.startsWith('@') ? `${first}/${second}` : first}` }
  }
  const file = relative(ROOT, path)
  if (file.startsWith('..')) return { file: path, group: path.slice(0, path.lastIndexOf('/')) || path }
  const slash = file.lastIndexOf('/')
  return { file, group: slash >= 0 ? file.slice(0, slash) : '.' }
}

/** Source maps by script URL (what the probe wrote beside the profiles), to turn compiled positions into source lines. */
export type SourceMaps = Map<string, SourceMap>

/** 1-based source line of a frame: through its script's source map when there is one. */
function lineOf(frame: CallFrame, maps: SourceMaps): number | undefined {
  if (frame.lineNumber < 0) return undefined
  const map = maps.get(frame.url)
  if (!map) return frame.lineNumber + 1
  const entry = map.findEntry(frame.lineNumber, frame.columnNumber) as { originalLine?: number }
  return entry.originalLine === undefined ? undefined : entry.originalLine + 1
}

function rowOf(frame: CallFrame, maps: SourceMaps): Omit<Row, 'amount' | 'share'> {
  const { file, group } = place(frame.url)
  const name = frame.functionName || (file ? '(anonymous)' : '(program)')
  // A frame without a script is V8's own bookkeeping or a native function: a group of its own.
  if (!file) return { name, location: '', group: name.startsWith('(') ? name : '(native)' }
  const line = lineOf(frame, maps)
  return { name, location: line === undefined ? file : `${file}:${line}`, group }
}

function ranked(amounts: Map<string, Omit<Row, 'share'>>, total: number): Row[] {
  return [...amounts.values()]
    .map((row) => ({ ...row, share: total > 0 ? row.amount / total : 0 }))
    .sort((a, b) => b.amount - a.amount)
}

function byGroup(rows: Row[], total: number): Row[] {
  const groups = new Map<string, Omit<Row, 'share'>>()
  for (const row of rows) {
    const group = groups.get(row.group) ?? { name: row.group, location: '', group: row.group, amount: 0 }
    group.amount += row.amount
    groups.set(row.group, group)
  }
  return ranked(groups, total)
}

/**
 * Self time per function (the same function at two nodes of the call tree counts once). A sample lasts until
 * the next one, as Chrome's DevTools reads it; the last lasts until the profile's end.
 */
export function summarizeCpu(profile: CpuProfile, maps: SourceMaps = new Map()): CpuSummary {
  const frames = new Map(profile.nodes.map((node) => [node.id, node.callFrame]))
  const parents = new Map<number, number>()
  for (const node of profile.nodes) for (const child of node.children ?? []) parents.set(child, node.id)
  const loadingCache = new Map<number, boolean>()
  const loading = (id: number): boolean => {
    const known = loadingCache.get(id)
    if (known !== undefined) return known
    const parent = parents.get(id)
    const url = frames.get(id)?.url ?? ''
    const answer = LOADING.test(url) || PROBE.test(url) || (parent !== undefined && loading(parent))
    loadingCache.set(id, answer)
    return answer
  }
  const selfUs = new Map<number, number>()
  let at = profile.startTime
  const times = profile.timeDeltas.map((delta) => (at += delta))
  for (let i = 0; i < profile.samples.length; i++) {
    const next = i + 1 < times.length ? times[i + 1]! : profile.endTime
    const id = profile.samples[i]!
    selfUs.set(id, (selfUs.get(id) ?? 0) + Math.max(0, next - times[i]!))
  }
  const functions = new Map<string, Omit<Row, 'share'>>()
  let totalUs = 0
  let idleUs = 0
  let loadingUs = 0
  for (const [id, us] of selfUs) {
    totalUs += us
    const frame = frames.get(id)
    if (!frame) continue
    if (frame.functionName === IDLE) {
      idleUs += us
      continue
    }
    if (loading(id)) {
      loadingUs += us
      continue
    }
    const row = rowOf(frame, maps)
    const key = `${row.name}\u0000${row.location}`
    const existing = functions.get(key)
    if (existing) existing.amount += us / 1000
    else functions.set(key, { ...row, amount: us / 1000 })
  }
  const busyMs = (totalUs - idleUs - loadingUs) / 1000
  const rows = ranked(functions, busyMs)
  return {
    totalMs: totalUs / 1000,
    busyMs,
    loadingMs: loadingUs / 1000,
    functions: rows,
    groups: byGroup(rows, busyMs),
  }
}

/**
 * Sampled bytes per allocation site: what was still allocated when the process wrote the profile (at exit),
 * less what the probe allocated (the source maps it reads as the process exits) and what loading modules did.
 */
export function summarizeHeap(profile: HeapProfile, maps: SourceMaps = new Map()): HeapSummary {
  const sites = new Map<string, Omit<Row, 'share'>>()
  let totalBytes = 0
  let loadingBytes = 0
  const visit = (node: HeapNode, underLoading: boolean) => {
    if (PROBE.test(node.callFrame.url)) return
    const loading = underLoading || LOADING.test(node.callFrame.url)
    if (node.selfSize > 0 && loading) loadingBytes += node.selfSize
    else if (node.selfSize > 0) {
      totalBytes += node.selfSize
      const row = rowOf(node.callFrame, maps)
      const key = `${row.name}\u0000${row.location}`
      const existing = sites.get(key)
      if (existing) existing.amount += node.selfSize
      else sites.set(key, { ...row, amount: node.selfSize })
    }
    for (const child of node.children) visit(child, loading)
  }
  visit(profile.head, false)
  const rows = ranked(sites, totalBytes)
  return { totalBytes, loadingBytes, sites: rows, groups: byGroup(rows, totalBytes) }
}

const pct = (share: number) => `${(share * 100).toFixed(1)}%`.padStart(6)
const ms = (value: number) => value.toFixed(1).padStart(9)
const kib = (bytes: number) => `${(bytes / 1024).toFixed(0)} KiB`.padStart(10)

function table(rows: Row[], top: number, amount: (row: Row) => string, withLocation: boolean): string[] {
  return rows
    .slice(0, top)
    .map(
      (row) =>
        `  ${pct(row.share)} ${amount(row)}  ${row.name}${withLocation && row.location ? `  ${row.location}` : ''}`,
    )
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`

export function renderCpu(name: string, summary: CpuSummary, top: number): string {
  return [
    `${name}: ${seconds(summary.busyMs)} busy of ${seconds(summary.totalMs)} profiled ` +
      `(besides ${seconds(summary.loadingMs)} loading modules and in the probe, left out, and the rest idle); shares are of the busy time`,
    `  self time by function (top ${top}):`,
    `   share       ms  function  file:line`,
    ...table(summary.functions, top, (row) => ms(row.amount), true),
    '  self time by package or folder:',
    ...table(summary.groups, top, (row) => ms(row.amount), false),
  ].join('\n')
}

export function renderHeap(name: string, summary: HeapSummary, top: number): string {
  return [
    `${name}: ${kib(summary.totalBytes).trim()} sampled, still allocated when the process exited ` +
      `(besides ${kib(summary.loadingBytes).trim()} allocated loading modules, left out)`,
    `  allocation sites by sampled bytes (top ${top}):`,
    ...table(summary.sites, top, (row) => kib(row.amount), true),
    '  by package or folder:',
    ...table(summary.groups, top, (row) => kib(row.amount), false),
  ].join('\n')
}

/** Every .cpuprofile and .heapprofile under each path (a file, or a folder searched to any depth), sorted. */
export async function profileFiles(paths: string[]): Promise<string[]> {
  const found: string[] = []
  const walk = async (path: string) => {
    if ((await stat(path)).isDirectory()) {
      for (const entry of await readdir(path)) await walk(join(path, entry))
    } else if (/\.(cpu|heap)profile$/.test(path)) found.push(path)
  }
  for (const path of paths) await walk(path)
  return found.sort()
}

/**
 * Node names a profile CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile: thread 0 is the main thread, the
 * others (tsx's module loader runs in one) serve no request.
 */
export function isMainThread(file: string): boolean {
  const parts = basename(file).split('.')
  return parts.length < 7 || parts[4] === '0'
}

/** The source maps the probe wrote beside a profile (sourcemaps.<pid>.json), by script URL. */
export async function sourceMapsNear(file: string): Promise<SourceMaps> {
  const maps: SourceMaps = new Map()
  const dir = dirname(file)
  for (const entry of await readdir(dir)) {
    if (!/^sourcemaps\.\d+\.json$/.test(entry)) continue
    try {
      const payloads = JSON.parse(await readFile(join(dir, entry), 'utf8')) as Record<string, SourceMapPayload>
      for (const [url, payload] of Object.entries(payloads)) maps.set(url, new SourceMap(payload))
    } catch {
      // A map that cannot be read leaves compiled positions: still a summary.
    }
  }
  return maps
}

export async function summarizeFile(file: string, top: number): Promise<string> {
  const profile: unknown = JSON.parse(await readFile(file, 'utf8'))
  const maps = await sourceMapsNear(file)
  const name = relative(process.cwd(), file)
  return file.endsWith('.cpuprofile')
    ? renderCpu(name, summarizeCpu(profile as CpuProfile, maps), top)
    : renderHeap(name, summarizeHeap(profile as HeapProfile, maps), top)
}

const USAGE = `npm run bench:profile -- DIR_OR_FILE... [--top N]

Summarizes the profiles of \`npm run bench -- --profile DIR\` (or any .cpuprofile
and .heapprofile files): per CPU profile, the top N functions by self time
(share of the busy time, ms, function, file:line) and the same time by package
or folder; per heap profile, the top N allocation sites by sampled bytes still
allocated at exit. Folders are searched to any depth. Time spent loading modules
is left out of the shares; so are the profiles of threads other than the main
one (tsx's module loader), unless --all-threads.

  --top N         rows per table (default 15)
  --all-threads   also the profiles of the other threads
  -h, --help      this text`

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { top: { type: 'string' }, 'all-threads': { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
  })
  if (values.help || positionals.length === 0) {
    process.stdout.write(`${USAGE}\n`)
    return values.help ? 0 : 2
  }
  const top = Number(values.top ?? 15)
  if (!Number.isInteger(top) || top < 1) {
    process.stderr.write(`bench:profile: --top ${values.top}: expected a positive integer\n`)
    return 2
  }
  const all = await profileFiles(positionals)
  const files = values['all-threads'] ? all : all.filter(isMainThread)
  if (files.length === 0) {
    process.stderr.write(`bench:profile: no .cpuprofile or .heapprofile in ${positionals.join(', ')}\n`)
    return 1
  }
  for (const file of files) process.stdout.write(`${await summarizeFile(file, top)}\n\n`)
  if (files.length < all.length)
    process.stdout.write(
      `(${all.length - files.length} profiles of other threads left out: --all-threads shows them)\n`,
    )
  return 0
}

runAsCommand(import.meta.url, 'bench:profile', main)
