// `npm run bench` as its own process, for the tests that run it end to end:
// what it printed and how it exited, under a hard time limit.
import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'

export const root = fileURLToPath(new URL('../..', import.meta.url))

export interface BenchExit {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

/**
 * Runs benchmarks/run.ts with these arguments. Past `hardLimitMs` it gets SIGTERM (the runner then kills its
 * children), and SIGKILL 5 s later if even that hangs (its children exit when their IPC channel closes).
 * `onStderr` sees the stderr written so far, with the child, each time more arrives.
 */
export function runBench(
  args: string[],
  options: {
    hardLimitMs: number
    env?: Record<string, string>
    onStderr?: (stderr: string, child: ChildProcess) => void
  },
): Promise<BenchExit> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'benchmarks/run.ts', ...args], {
      cwd: root,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk) => {
      stdout += chunk
    })
    child.stderr.on('data', (chunk) => {
      stderr += chunk
      options.onStderr?.(stderr, child)
    })
    const term = setTimeout(() => child.kill('SIGTERM'), options.hardLimitMs)
    const kill = setTimeout(() => child.kill('SIGKILL'), options.hardLimitMs + 5000)
    // 'close', not 'exit': by then stdout and stderr have been read to the end.
    child.once('close', (code, signal) => {
      clearTimeout(term)
      clearTimeout(kill)
      resolve({ code, signal, stdout, stderr })
    })
  })
}
