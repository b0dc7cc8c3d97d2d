// Starts a target as its own process and reads it: Transport Lab's server as
// `npm start` runs it (plus the probe preload), or one of the baselines. The
// runner reads CPU and memory through the probe (IPC) and bytes through the
// wire meter (Transport Lab: GET /api/wire; baselines: the same meter over IPC).
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { Handshake, WireSnapshot } from '../server/wire/meter.ts'
import { PROFILE_DIR_ENV } from './ipc.ts'
import type { ProbeReading } from './probe.ts'
import { forkProcess, ROOT, stopProcess, TSX, type Forked } from './processes.ts'
import type { TargetName } from './subjects.ts'

const PROBE = pathToFileURL(join(ROOT, 'benchmarks/probe.ts')).href

const ENTRIES: Record<TargetName, string> = {
  lab: 'server/main.ts',
  'bare-ws': 'benchmarks/baselines/bare-ws.ts',
  'bare-socket.io': 'benchmarks/baselines/bare-socket-io.ts',
  'bare-fastify': 'benchmarks/baselines/bare-fastify.ts',
}

export interface RunningTarget {
  name: TargetName
  url: string
  pid: number
  probe(gc?: boolean): Promise<ProbeReading>
  wire(): Promise<WireSnapshot>
  handshakes(): Promise<Record<string, Handshake>>
  /** Writes a heap snapshot (after a full GC) to `path` in the target's process. */
  heapSnapshot(path: string): Promise<string>
  /** Where its profiles go (--profile), when it is profiled. */
  profileDir: string | undefined
  /** Starts a CPU profile of a window of its life, beside the whole-life one. */
  startWindowProfile(): Promise<void>
  /** Ends it and writes it to `path` (with the source maps beside it). */
  stopWindowProfile(path: string): Promise<string>
  stop(): Promise<void>
}

/**
 * Bytes allocated between two samples of --heap-prof: V8's default (512 KiB) leaves a few dozen samples in a
 * server that holds megabytes, too few to rank allocation sites.
 */
const HEAP_PROF_INTERVAL = 32 * 1024

/** Node's flags that write a CPU profile and a sampling heap profile into `dir` when the process exits. */
export function profileFlags(dir: string): string[] {
  return [
    '--cpu-prof',
    `--cpu-prof-dir=${dir}`,
    '--heap-prof',
    `--heap-prof-dir=${dir}`,
    `--heap-prof-interval=${HEAP_PROF_INTERVAL}`,
  ]
}

/**
 * `settings` are environment variables (HISTORY_LIMIT, ...), given alike to Transport Lab and the baselines;
 * `readyTimeoutMs` is how long it may take to listen (the runner's --start-timeout); `profileDir`, when given,
 * gets the process's CPU and heap profiles (--profile), written when stop() ends it.
 */
export async function startTarget(
  name: TargetName,
  settings: Record<string, string>,
  readyTimeoutMs: number,
  profileDir?: string,
): Promise<RunningTarget> {
  const lab = name === 'lab'
  const profiled = profileDir !== undefined
  const forked = forkProcess(join(ROOT, ENTRIES[name]), {
    label: name,
    // --expose-gc lets the probe run a full GC before it reads memory.
    execArgv: [
      '--expose-gc',
      ...(profiled ? profileFlags(profileDir) : []),
      ...TSX,
      ...(lab ? ['--import', PROBE] : []),
    ],
    env: {
      ...settings,
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      ...(profiled ? { [PROFILE_DIR_ENV]: profileDir } : {}),
    },
  })
  let url: string
  try {
    url = await whenReady(forked, lab, readyTimeoutMs)
  } catch (error) {
    await stopProcess(forked, profiled)
    throw error
  }
  return {
    name,
    url,
    pid: forked.child.pid ?? 0,
    probe: (gc = false) => forked.caller.call<ProbeReading>('probe', { gc }, 30_000),
    wire: async () => (lab ? getJson<WireSnapshot>(`${url}/api/wire`) : forked.caller.call<WireSnapshot>('wire')),
    handshakes: async () =>
      lab
        ? getJson<Record<string, Handshake>>(`${url}/api/wire/handshakes`)
        : forked.caller.call<Record<string, Handshake>>('handshakes'),
    heapSnapshot: (path) => forked.caller.call<string>('snapshot', { path }, 300_000),
    profileDir,
    startWindowProfile: () => forked.caller.call<void>('profile.start', {}, 30_000),
    stopWindowProfile: (path) => forked.caller.call<string>('profile.stop', { path }, 120_000),
    stop: () => stopProcess(forked, profiled),
  }
}

function whenReady(forked: Forked, lab: boolean, readyTimeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${forked.label} did not start within ${readyTimeoutMs} ms:\n${forked.output()}`)),
      readyTimeoutMs,
    )
    const done = (url: string) => {
      clearTimeout(timer)
      resolve(url)
    }
    if (lab) {
      // main.ts prints "Transport Lab: http://127.0.0.1:PORT/" once it listens.
      const look = () => {
        const match = /Transport Lab: (http:\/\/\S+?)\/?\s/.exec(forked.output())
        if (match) {
          forked.child.stdout!.off('data', look)
          done(match[1]!)
        }
      }
      forked.child.stdout!.on('data', look)
    } else {
      forked.caller.onEvent((event, data) => {
        if (event === 'ready') done((data as { url: string }).url)
      })
    }
    void forked.exited.then(({ code, signal }) => {
      clearTimeout(timer)
      reject(new Error(`${forked.label} exited (${signal ?? code}) before it was ready:\n${forked.output()}`))
    })
  })
}

async function getJson<T>(url: string): Promise<T> {
  const res = await fetch(url, { signal: AbortSignal.timeout(10_000) })
  if (!res.ok) throw new Error(`GET ${url} answered ${res.status}`)
  return (await res.json()) as T
}
