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
import { HOLD_PROFILE } from '../../benchmarks/scenarios/idle.ts'
import { startTarget } from '../../benchmarks/targets.ts'
import { runBench } from './bench-process.ts'

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

  it('profiles a window of a target’s life on request, written where asked with the source maps beside it', async () => {
    const dir = join(temp, 'window')
    const target = await startTarget('bare-ws', {}, START_TIMEOUT_MS, dir)
    try {
      const opened = performance.now()
      await target.startWindowProfile()
      const ws = new WebSocket(`${target.url.replace('http', 'ws')}/ws?room=lobby&role=receive`)
      await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject))
      ws.close()
      const path = await target.stopWindowProfile(join(dir, 'window.cpuprofile'))
      const windowUs = (performance.now() - opened) * 1000
      const profile = JSON.parse(await readFile(path, 'utf8')) as CpuProfile
      // The window alone: not the process's start before it (tsx compiling, listening).
      expect(profile.endTime - profile.startTime).toBeLessThanOrEqual(windowUs)
      expect(profile.samples.length).toBeGreaterThan(0)
      // Written now, not at exit: the source maps are there while the process still runs.
      expect((await readdir(dir)).filter((f) => /^sourcemaps\.\d+\.json$/.test(f))).toHaveLength(1)
      await expect(target.stopWindowProfile(join(dir, 'again.cpuprofile'))).rejects.toThrow(/no window profile/)
    } finally {
      await target.stop()
    }
  }, 90_000)

  it('gives the idle scenario’s hold a profile of its own in the server’s folder', async () => {
    const dir = join(temp, 'idle')
    const { code, stderr } = await runBench(
      [
        ...['--quick', '--scenario', 'idle', '--transports', 'websocket', '--clients', '10'],
        ...['--repetitions', '1', '--no-baselines', '--profile', dir, '--out', join(temp, 'idle-out')],
      ],
      { hardLimitMs: 120_000 },
    )
    expect(code, stderr).toBe(0)
    const server = join(dir, 'idle-lab-websocket-1')
    const files = await readdir(server)
    expect(files).toContain(HOLD_PROFILE)
    // Beside the whole-life profile, which is no shorter than the hold.
    const whole = files.find((f) => /^CPU\..*\.0\.\d+\.cpuprofile$/.test(f))!
    const read = async (f: string) => JSON.parse(await readFile(join(server, f), 'utf8')) as CpuProfile
    const [hold, life] = [await read(HOLD_PROFILE), await read(whole)]
    expect(hold.endTime - hold.startTime).toBeLessThan(life.endTime - life.startTime)
  }, 150_000)
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
