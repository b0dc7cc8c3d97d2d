// Every process the runner forks: the Transport Lab server, the baselines and
// the load clients. Each gets an IPC channel (it exits when the channel closes)
// and is killed when the runner exits, however it exits.
import { fork, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { Caller } from './ipc.ts'

export const ROOT = fileURLToPath(new URL('..', import.meta.url))
const STOP_GRACE_MS = 3000
const PROFILED_STOP_GRACE_MS = 60_000

const children = new Set<ChildProcess>()

export interface Forked {
  child: ChildProcess
  caller: Caller
  label: string
  /** The last lines the process wrote to stdout and stderr, for error messages. */
  output(): string
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
}

export function forkProcess(
  entry: string,
  options: { label: string; execArgv: string[]; env?: Record<string, string>; args?: string[] },
): Forked {
  const child = fork(entry, options.args ?? [], {
    cwd: ROOT,
    execArgv: options.execArgv,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  })
  children.add(child)
  let output = ''
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-8000)
  }
  child.stdout!.on('data', keep)
  child.stderr!.on('data', keep)
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      children.delete(child)
      resolve({ code, signal })
    })
  })
  return { child, caller: new Caller(child, options.label), label: options.label, output: () => output, exited }
}

/**
 * SIGTERM, then SIGKILL if it is still there after the grace period. A profiled process (`profiled`) is asked
 * to go by closing its IPC channel instead: every child then calls process.exit(0) (see serveCalls), which is
 * when Node writes its --cpu-prof and --heap-prof files, and a baseline has no SIGTERM handler. It gets a minute:
 * writing the profile of a busy process takes a while, and a SIGKILL writes nothing.
 */
export async function stopProcess(forked: Forked, profiled = false): Promise<void> {
  const { child } = forked
  if (child.exitCode !== null || child.signalCode !== null) return
  if (profiled && child.connected) child.disconnect()
  else child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), profiled ? PROFILED_STOP_GRACE_MS : STOP_GRACE_MS)
  await forked.exited
  clearTimeout(timer)
}

/** A process that did not start at either attempt: what needed it is skipped and noted, not the whole run. */
export class StartFailure extends Error {
  override name = 'StartFailure'
}

/** The first line of an error's message, for notes: a start error goes on, after a colon, with the process's last output. */
export function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0]!.replace(/:$/, '')
}

/**
 * Starts a process, and once more if that fails: on a busy machine a start can miss its time limit once.
 * `onRetry` hears why the first attempt failed; when the second fails too, a StartFailure says both (and has the
 * second error, with the process's output, as its cause).
 */
export async function startWithRetry<T>(
  label: string,
  start: () => Promise<T>,
  onRetry: (reason: string) => void,
): Promise<T> {
  let first: string
  try {
    return await start()
  } catch (error) {
    first = firstLine(error)
    onRetry(first)
  }
  try {
    return await start()
  } catch (error) {
    throw new StartFailure(`${label} did not start at either attempt: ${first}; then ${firstLine(error)}`, {
      cause: error,
    })
  }
}

/**
 * Processes the runner did not fork (the scale scenario's redis-server and cluster run in process groups of their
 * own): `kill` ends them at once, and killAll() calls it however the runner ends. The returned function forgets it.
 */
const otherKills = new Set<() => void>()
export function killOnExit(kill: () => void): () => void {
  otherKills.add(kill)
  return () => otherKills.delete(kill)
}

export function killAll(): void {
  for (const child of children) child.kill('SIGKILL')
  children.clear()
  for (const kill of otherKills) {
    try {
      kill()
    } catch {
      // Already gone.
    }
  }
  otherKills.clear()
}

process.once('exit', killAll)

export const TSX = ['--import', 'tsx']

/**
 * Runs a command's `main` when `moduleUrl` is the script Node was started with (npm run bench:profile,
 * bench:heap): the process exits with its code, or with 1 and its message on stderr when it throws.
 */
export function runAsCommand(moduleUrl: string, name: string, main: () => Promise<number>): void {
  if (!process.argv[1] || fileURLToPath(moduleUrl) !== process.argv[1]) return
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`${name}: ${error instanceof Error ? error.message : String(error)}\n`)
      process.exit(1)
    },
  )
}
