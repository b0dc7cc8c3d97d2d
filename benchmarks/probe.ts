// Loaded into every benchmark target (the Transport Lab server through
// `node --expose-gc --import tsx --import ./benchmarks/probe.ts server/main.ts`,
// the baselines by import): answers the runner over IPC with the process's
// own CPU time and memory, after a full GC when asked. The server itself is
// not changed: this hook only reads what any Node process can read about itself.
import type { WireMeter } from '../server/wire/meter.ts'
import { serveCalls } from './ipc.ts'

export interface ProbeReading {
  /** process.cpuUsage(), µs */
  cpuUserUs: number
  cpuSystemUs: number
  rssBytes: number
  heapUsedBytes: number
  heapTotalBytes: number
  externalBytes: number
  arrayBuffersBytes: number
  /** whether a full GC ran before the memory was read (needs --expose-gc) */
  collected: boolean
  /** process.hrtime in ms, to pair readings */
  at: number
}

let meter: WireMeter | undefined

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
    collected,
    at: performance.now(),
  }
}

if (process.send) {
  serveCalls({
    probe: (params: { gc?: boolean }) => read(params?.gc === true),
    wire: () => meter?.snapshot() ?? null,
    handshakes: () => meter?.handshakes() ?? null,
  })
}
