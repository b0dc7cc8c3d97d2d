// The processes a cluster is made of. Each runs in a process group of its own
// (spawn's `detached`: a new session), so that stopping it stops whatever it
// started too (nginx's workers, npm's node), and so that the terminal's Ctrl-C
// reaches only the cluster's runner, which stops them in order.
import { spawn, type ChildProcess } from 'node:child_process'
import { accessSync, constants } from 'node:fs'
import { createServer } from 'node:net'
import { delimiter, join } from 'node:path'

export interface Exit {
  code: number | null
  signal: NodeJS.Signals | null
}

export interface Child {
  name: string
  pid: number
  process: ChildProcess
  /** Everything it wrote (stdout and stderr, the last 64 KiB), for error messages. */
  output(): string
  exited: Promise<Exit>
  /** Whether it has exited. */
  gone(): boolean
  /** `signal` to its whole group, then SIGKILL to the group after `graceMs`; resolves once it has exited. */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<Exit>
  /** SIGKILL to its whole group, at once. */
  kill(): void
}

const OUTPUT_KEPT = 64 * 1024
const PIPES_GRACE_MS = 500

/** Starts `command` in a group of its own; `onLine` hears each line it writes, stdout and stderr alike. */
export function spawnChild(
  name: string,
  command: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string; onLine?: (line: string) => void } = {},
): Child {
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  })
  let output = ''
  const readLines = () => {
    let partial = ''
    return (chunk: Buffer) => {
      const text = chunk.toString()
      output = (output + text).slice(-OUTPUT_KEPT)
      const lines = (partial + text).split('\n')
      partial = lines.pop()!
      for (const line of lines) options.onLine?.(line)
    }
  }
  child.stdout.on('data', readLines())
  child.stderr.on('data', readLines())
  let exit: Exit | undefined
  const exited = new Promise<Exit>((resolve) => {
    // At 'close' the last of its output has been read; but a process it started (nginx's worker) may hold
    // the pipes open after it is gone, so 'exit' counts too, a moment later.
    const settle = (code: number | null, signal: NodeJS.Signals | null) => resolve((exit ??= { code, signal }))
    child.once('close', settle)
    child.once('exit', (code, signal) => setTimeout(() => settle(code, signal), PIPES_GRACE_MS).unref())
    // A command that cannot be run at all (ENOENT) emits 'error' and no 'exit'.
    child.once('error', (error) => {
      output += `${error.message}\n`
      resolve((exit ??= { code: null, signal: null }))
    })
  })
  const signalGroup = (signal: NodeJS.Signals) => {
    if (child.pid === undefined) return
    try {
      process.kill(-child.pid, signal)
    } catch {
      // The group is already empty.
    }
  }
  return {
    name,
    pid: child.pid ?? -1,
    process: child,
    output: () => output,
    exited,
    gone: () => exit !== undefined,
    async stop(signal = 'SIGTERM', graceMs = 5000) {
      if (exit) {
        // The leader has exited, but what it started may linger in its group.
        signalGroup('SIGKILL')
        return exit
      }
      signalGroup(signal)
      const timer = setTimeout(() => signalGroup('SIGKILL'), graceMs)
      const result = await exited
      clearTimeout(timer)
      signalGroup('SIGKILL')
      return result
    },
    kill: () => signalGroup('SIGKILL'),
  }
}

/** A port free at the moment of asking, on `host`; the caller binds it soon after, and retries if it lost the race. */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, host, () => {
      const address = server.address()
      const port = typeof address === 'object' && address ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}

/**
 * Where `name` is installed: on PATH, or in the sbin directories that Debian
 * installs daemons to (nginx is /usr/sbin/nginx) and that a user's PATH often lacks.
 */
export function findBinary(name: string, path = process.env.PATH ?? ''): string | undefined {
  const dirs = [...path.split(delimiter).filter(Boolean), '/usr/local/sbin', '/usr/sbin', '/sbin']
  for (const dir of dirs) {
    const candidate = join(dir, name)
    try {
      accessSync(candidate, constants.X_OK)
      return candidate
    } catch {
      // Not here.
    }
  }
  return undefined
}

/** Resolves with `read`'s first value other than undefined or false, polled; rejects after `timeoutMs` with `what`. */
export async function waitFor<T>(
  read: () => T | undefined | false | Promise<T | undefined | false>,
  what: string,
  timeoutMs: number,
  everyMs = 20,
): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await read()
    if (value !== undefined && value !== false) return value
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, everyMs))
  }
}
