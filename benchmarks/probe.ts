// Loaded into every benchmark target (the Transport Lab server through
// `node --expose-gc --import tsx --import ./benchmarks/probe.ts server/main.ts`,
// the baselines by import): answers the runner over IPC with the process's
// own CPU time and memory, after a full GC when asked. The server itself is
// not changed: this hook only reads what any Node process can read about itself.
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs'
import { Session } from 'node:inspector/promises'
import { findSourceMap } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { PerformanceObserver } from 'node:perf_hooks'
import { getHeapSpaceStatistics, writeHeapSnapshot } from 'node:v8'
import type { WireMeter } from '../server/wire/meter.ts'
import { PROFILE_DIR_ENV, serveCalls } from './ipc.ts'

export interface ProbeReading {
  /** process.cpuUsage(), µs */
  cpuUserUs: number
  cpuSystemUs: number
  rssBytes: number
  heapUsedBytes: number
  heapTotalBytes: number
  externalBytes: number
  arrayBuffersBytes: number
  /**
   * V8's young generation as the OS holds it (new space and its large objects, physical size). V8 grows it
   * with the process's allocation rate, to tens of MB on a busy server whatever it keeps, and gives it back
   * seconds after the allocations stop: part of the RSS that follows what the process does, not what it holds.
   */
  youngGenerationBytes: number
  /**
   * V8's garbage-collection pauses since the probe loaded, in ms, the full GC this reading asked for included:
   * the part of the process's CPU time that is V8's own, not the server's code (its concurrent marking on
   * helper threads is not in it).
   */
  gcPauseMs: number
  /** whether a full GC ran before the memory was read (needs --expose-gc) */
  collected: boolean
  /** process.hrtime in ms, to pair readings */
  at: number
}

let meter: WireMeter | undefined

let gcPauseMs = 0
const gcPauses = new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) gcPauseMs += entry.duration
})
gcPauses.observe({ entryTypes: ['gc'] })

/** The pauses so far, those whose entries are still queued for the observer included. */
function gcPausesSoFar(): number {
  for (const entry of gcPauses.takeRecords()) gcPauseMs += entry.duration
  return gcPauseMs
}

/** Baselines measure bytes with the server's own WireMeter and let the runner read it here. */
export function exposeMeter(wire: WireMeter): void {
  meter = wire
}

async function fullGc(): Promise<boolean> {
  const gc = (globalThis as { gc?: () => void }).gc
  if (!gc) return false
  // Two passes with a turn of the event loop between them, so that objects
  // freed by finalizers and weak callbacks of the first pass go in the second.
  for (let pass = 0; pass < 2; pass++) {
    gc()
    await new Promise((resolve) => setImmediate(resolve))
  }
  return true
}

function youngGeneration(): number {
  let bytes = 0
  for (const space of getHeapSpaceStatistics())
    if (space.space_name === 'new_space' || space.space_name === 'new_large_object_space')
      bytes += space.physical_space_size
  return bytes
}

export async function read(collect: boolean): Promise<ProbeReading> {
  const collected = collect ? await fullGc() : false
  const cpu = process.cpuUsage()
  const memory = process.memoryUsage()
  return {
    cpuUserUs: cpu.user,
    cpuSystemUs: cpu.system,
    rssBytes: memory.rss,
    heapUsedBytes: memory.heapUsed,
    heapTotalBytes: memory.heapTotal,
    externalBytes: memory.external,
    arrayBuffersBytes: memory.arrayBuffers,
    youngGenerationBytes: youngGeneration(),
    gcPauseMs: gcPausesSoFar(),
    collected,
    at: performance.now(),
  }
}

/** A heap snapshot into `path` (benchmarks/heap-account.ts), after the same full GC as a reading. */
async function snapshot(path: string): Promise<string> {
  await fullGc()
  return writeHeapSnapshot(path)
}

/**
 * Samples every 100 µs (V8's default is 1 ms): an idle server is busy for a few hundred milliseconds of a
 * 30 s hold, which would leave a few hundred samples.
 */
const WINDOW_SAMPLING_US = 100
let windowProfiler: Session | undefined

/**
 * A CPU profile of one measured window, where --cpu-prof covers the process's whole life: the idle scenario's
 * hold, without the crowd's joins before it or the memory readings after.
 */
async function startWindowProfile(): Promise<void> {
  if (windowProfiler) throw new Error('a window profile is already running')
  const session = new Session()
  session.connect()
  await session.post('Profiler.enable')
  await session.post('Profiler.setSamplingInterval', { interval: WINDOW_SAMPLING_US })
  await session.post('Profiler.start')
  windowProfiler = session
}

/** Ends the window profile and writes it to `path`, with the source maps beside it (see writeSourceMaps). */
async function stopWindowProfile(path: string): Promise<string> {
  const session = windowProfiler
  if (!session) throw new Error('no window profile is running')
  windowProfiler = undefined
  const { profile } = await session.post('Profiler.stop')
  session.disconnect()
  mkdirSync(dirname(path), { recursive: true })
  writeFileSync(path, JSON.stringify(profile))
  writeSourceMaps(dirname(path))
  return path
}

if (process.send) {
  serveCalls({
    probe: (params: { gc?: boolean }) => read(params?.gc === true),
    snapshot: (params: { path: string }) => snapshot(params.path),
    'profile.start': () => startWindowProfile(),
    'profile.stop': (params: { path: string }) => stopWindowProfile(params.path),
    wire: () => meter?.snapshot() ?? null,
    handshakes: () => meter?.handshakes() ?? null,
  })
}
/** Where the files tsx compiled come from: their source maps turn a profile's positions into source lines. */
const SOURCE_FOLDERS = ['server', 'benchmarks', 'cluster']
const ROOT = fileURLToPath(new URL('..', import.meta.url))

/**
 * tsx compiles each .ts file to one line of JavaScript, so a profile's positions (line 0, column 4635) say
 * nothing by themselves; the source maps tsx registered do. They are written beside the profiles as the process
 * exits (just before Node writes the profiles), for benchmarks/profile.ts.
 */
function writeSourceMaps(dir: string): void {
  const maps: Record<string, unknown> = {}
  const visit = (folder: string) => {
    let entries
    try {
      entries = readdirSync(folder, { withFileTypes: true })
    } catch {
      return
    }
    for (const entry of entries) {
      const path = join(folder, entry.name)
      if (entry.isDirectory()) visit(path)
      else if (entry.name.endsWith('.ts')) {
        const url = pathToFileURL(path).href
        const map = findSourceMap(url)
        if (map) maps[url] = { ...map.payload, sourcesContent: undefined }
      }
    }
  }
  for (const folder of SOURCE_FOLDERS) visit(join(ROOT, folder))
  try {
    // Node creates the folder only when it writes the profiles, after this.
    mkdirSync(dir, { recursive: true })
    writeFileSync(join(dir, `sourcemaps.${process.pid}.json`), JSON.stringify(maps))
  } catch {
    // Without them the summary shows compiled positions: not a reason to fail the exit.
  }
}

const profileDir = process.env[PROFILE_DIR_ENV]
if (profileDir) process.once('exit', () => writeSourceMaps(profileDir))
