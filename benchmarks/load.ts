// Starts load-client processes (benchmarks/clients/load-process.ts) and waits
// until they answer.
import { join } from 'node:path'
import type { Caller } from './ipc.ts'
import { forkProcess, ROOT, stopProcess, TSX } from './processes.ts'

export interface LoadProcess {
  caller: Caller
  pid: number
  stop(): Promise<void>
}

/** `readyTimeoutMs` is how long it may take to answer (the runner's --start-timeout); one that does not is stopped. */
export async function startLoad(label: string, readyTimeoutMs: number): Promise<LoadProcess> {
  const forked = forkProcess(join(ROOT, 'benchmarks/clients/load-process.ts'), { label, execArgv: TSX })
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${label} did not start within ${readyTimeoutMs} ms:\n${forked.output()}`)),
        readyTimeoutMs,
      )
      forked.caller.onEvent((event) => {
        if (event !== 'ready') return
        clearTimeout(timer)
        resolve()
      })
      void forked.exited.then(({ code, signal }) => {
        clearTimeout(timer)
        reject(new Error(`${label} exited (${signal ?? code}):\n${forked.output()}`))
      })
    })
  } catch (error) {
    await stopProcess(forked)
    throw error
  }
  return { caller: forked.caller, pid: forked.child.pid ?? 0, stop: () => stopProcess(forked) }
}
