// Calls and events between the runner and the processes it forks (targets and
// load clients), over Node's IPC channel. Every call has an id, an answer and a
// time limit, so a child that hangs fails the call instead of the run.
import type { ChildProcess } from 'node:child_process'

interface CallMessage {
  kind: 'call'
  id: number
  method: string
  params: unknown
}
interface ReplyMessage {
  kind: 'reply'
  id: number
  ok: boolean
  value?: unknown
  error?: string
}
interface EventMessage {
  kind: 'event'
  name: string
  data: unknown
}
type IpcMessage = CallMessage | ReplyMessage | EventMessage

/** Set by the runner for a target it profiles (--profile): the folder its profiles go to. */
export const PROFILE_DIR_ENV = 'BENCH_PROFILE_DIR'

export type Handler = (params: never) => unknown
export type Handlers = Record<string, Handler>

/** Child side: answers the runner's calls with `handlers`; exits when the runner goes away. */
export function serveCalls(handlers: Handlers): void {
  if (!process.send)
    throw new Error('this process must be forked with an IPC channel (it is started by benchmarks/run.ts)')
  process.on('message', (raw: IpcMessage) => {
    if (raw?.kind !== 'call') return
    const handler = handlers[raw.method]
    const reply = (message: Omit<ReplyMessage, 'kind' | 'id'>) =>
      process.send?.({ kind: 'reply', id: raw.id, ...message })
    if (!handler) {
      reply({ ok: false, error: `unknown method ${raw.method}` })
      return
    }
    Promise.resolve()
      .then(() => handler(raw.params as never))
      .then(
        (value) => reply({ ok: true, value }),
        (error: unknown) =>
          reply({ ok: false, error: error instanceof Error ? (error.stack ?? error.message) : String(error) }),
      )
  })
  // The runner died or closed the channel: nothing is left to measure for.
  process.once('disconnect', () => process.exit(0))
}

/** Child side: tells the runner something happened (ready, progress). */
export function emit(name: string, data: unknown): void {
  process.send?.({ kind: 'event', name, data } satisfies EventMessage)
}

export class Caller {
  private readonly child: ChildProcess
  private readonly label: string
  private nextId = 1
  private readonly pending = new Map<
    number,
    { resolve(value: unknown): void; reject(error: Error): void; timer: NodeJS.Timeout }
  >()
  private readonly listeners = new Set<(name: string, data: unknown) => void>()

  constructor(child: ChildProcess, label: string) {
    this.child = child
    this.label = label
    child.on('message', (raw: IpcMessage) => {
      if (raw?.kind === 'reply') {
        const waiting = this.pending.get(raw.id)
        if (!waiting) return
        this.pending.delete(raw.id)
        clearTimeout(waiting.timer)
        if (raw.ok) waiting.resolve(raw.value)
        else waiting.reject(new Error(`${this.label}: ${raw.error}`))
      } else if (raw?.kind === 'event') {
        for (const listener of this.listeners) listener(raw.name, raw.data)
      }
    })
    child.once('exit', (code, signal) => {
      for (const [id, waiting] of this.pending) {
        clearTimeout(waiting.timer)
        waiting.reject(new Error(`${this.label} exited (${signal ?? code}) during call ${id}`))
      }
      this.pending.clear()
    })
  }

  call<T>(method: string, params: unknown = {}, timeoutMs = 60_000): Promise<T> {
    const id = this.nextId++
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id)
        reject(new Error(`${this.label}: ${method} did not answer within ${timeoutMs} ms`))
      }, timeoutMs)
      this.pending.set(id, { resolve: resolve, reject, timer })
      this.child.send({ kind: 'call', id, method, params } satisfies CallMessage, (error) => {
        if (!error) return
        clearTimeout(timer)
        this.pending.delete(id)
        reject(new Error(`${this.label}: could not send ${method}: ${error.message}`))
      })
    })
  }

  onEvent(listener: (name: string, data: unknown) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }
}
