// --profile and its summarizer: a profiled target, stopped as the bench stops
// it, leaves a CPU profile, a heap profile and the source maps that place its
// frames on source lines; the summarizer ranks a real profile's functions by
// self time, with shares of the busy time, and groups them by package.
import { execFileSync } from 'node:child_process'
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import {
  place,
  profileFiles,
  summarizeCpu,
  summarizeHeap,
  type CpuProfile,
  type HeapProfile,
} from '../../benchmarks/profile.ts'
import { startTarget } from '../../benchmarks/targets.ts'

const START_TIMEOUT_MS = 60_000

let temp: string
beforeAll(async () => {
  temp = await mkdtemp(join(tmpdir(), 'bench-profile-'))
})
afterAll(async () => {
  await rm(temp, { recursive: true, force: true })
})

describe('npm run bench -- --profile', () => {
  it('leaves the CPU and heap profiles of a target when the bench stops it, with its source maps', async () => {
    const dir = join(temp, 'bare-ws')
    const target = await startTarget('bare-ws', {}, START_TIMEOUT_MS, dir)
    // One connection, so that the process does some work of its own before it stops.
    const ws = new WebSocket(`${target.url.replace('http', 'ws')}/ws?room=lobby&role=receive`)
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject))
    ws.close()
    await target.stop()
    const files = await readdir(dir)
    expect(files.some((f) => f.endsWith('.cpuprofile'))).toBe(true)
    expect(files.some((f) => f.endsWith('.heapprofile'))).toBe(true)
    expect(files.some((f) => /^sourcemaps\.\d+\.json$/.test(f))).toBe(true)
  }, 90_000)
})

describe('npm run bench:profile', () => {
  let cpu: CpuProfile
  let heap: HeapProfile
  beforeAll(async () => {
    // A real profile of a tiny script whose busy function is known (spinTheWheel, on line 2), and so is the one
    // that allocates what stays (fillTheShelf).
    const script = join(temp, 'spin.mjs')
    await writeFile(
      script,
      [
        'const shelf = []',
        'function spinTheWheel() { let x = 0; for (let i = 0; i < 2e5; i++) x += Math.sqrt(i); return x }',
        'function fillTheShelf(i) { shelf.push(new Array(10000).fill(i)) }',
        // In a callback, as a server's work is: what a module does while it is evaluated counts as loading.
        'setImmediate(() => {',
        '  for (let i = 0; i < 50; i++) fillTheShelf(i)',
        '  const end = Date.now() + 300',
        '  while (Date.now() < end) spinTheWheel()',
        '  setTimeout(() => process.exit(0), 50)',
        '})',
      ].join('\n'),
    )
    const dir = join(temp, 'spin')
    execFileSync(process.execPath, [
      '--cpu-prof',
      `--cpu-prof-dir=${dir}`,
      '--heap-prof',
      `--heap-prof-dir=${dir}`,
      '--heap-prof-interval=1024',
      script,
    ])
    const files = await profileFiles([temp])
    const read = async (ext: string) =>
      JSON.parse(
        await readFile(
          files.find((f) => f.includes('/spin/') && f.endsWith(ext))!,
          'utf8',
        ),
      ) as unknown
    cpu = (await read('.cpuprofile')) as CpuProfile
    heap = (await read('.heapprofile')) as HeapProfile
  })

  it('puts the busiest function first, with its file and line, and its share of the busy time', () => {
    const summary = summarizeCpu(cpu)
    const top = summary.functions[0]!
    expect(top.name).toBe('spinTheWheel')
    expect(top.location).toMatch(/spin\.mjs:2$/)
    expect(top.share).toBeGreaterThan(0.5)
    const shares = summary.functions.reduce((sum, row) => sum + row.share, 0)
    expect(shares).toBeCloseTo(1, 5)
    expect(summary.busyMs).toBeLessThanOrEqual(summary.totalMs)
  })

  it('ranks allocation sites by the sampled bytes still allocated at exit', () => {
    const summary = summarizeHeap(heap)
    expect(summary.sites[0]!.name).toBe('fillTheShelf')
    expect(summary.sites[0]!.amount).toBeGreaterThanOrEqual(summary.sites.at(-1)!.amount)
  })

  it('groups scripts by folder in the repository, package in node_modules, and area of Node', () => {
    const root = new URL('../../', import.meta.url).href
    expect(place(`${root}server/core/hub.ts`)).toEqual({ file: 'server/core/hub.ts', group: 'server/core' })
    expect(place('file:///anywhere/node_modules/ws/lib/sender.js')).toEqual({
      file: 'node_modules/ws/lib/sender.js',
      group: 'node_modules/ws',
    })
    expect(place('file:///x/node_modules/@fastify/websocket/index.js').group).toBe('node_modules/@fastify/websocket')
    expect(place('node:internal/streams/writable').group).toBe('node:internal/streams')
    expect(place('node:net').group).toBe('node:net')
    expect(place('').group).toBe('(v8)')
  })
})
