// What the benchmarks measure: targets (processes that serve a chat) and
// subjects (one transport of one target). Transport Lab offers all five
// transports; each baseline offers the one or three it is compared with.
import { TRANSPORT_INFO, TRANSPORTS, type TransportName } from '../server/core/names.ts'

export const TARGETS = {
  lab: { label: 'Transport Lab', transports: TRANSPORTS },
  'bare-ws': { label: 'bare ws', transports: ['websocket'] },
  'bare-socket.io': { label: 'bare Socket.IO', transports: ['socket.io'] },
  'bare-fastify': { label: 'bare Fastify', transports: ['short-polling', 'long-polling', 'sse'] },
} as const satisfies Record<string, { label: string; transports: readonly TransportName[] }>

export type TargetName = keyof typeof TARGETS

/** Which baseline each of Transport Lab's transports is compared with. */
export const BASELINE_OF: Record<TransportName, Exclude<TargetName, 'lab'>> = {
  'short-polling': 'bare-fastify',
  'long-polling': 'bare-fastify',
  sse: 'bare-fastify',
  websocket: 'bare-ws',
  'socket.io': 'bare-socket.io',
}

export interface Subject {
  /** e.g. "lab/websocket", "bare-ws/websocket" */
  id: string
  target: TargetName
  transport: TransportName
}

export function subject(target: TargetName, transport: TransportName): Subject {
  return { id: `${target}/${transport}`, target, transport }
}

/**
 * Transport Lab's subjects for the chosen transports, each followed at once by
 * its baseline, so that the two are measured minutes apart at most, not the
 * whole run apart (the machine's noise drifts).
 */
export function subjectsFor(transports: readonly TransportName[], withBaselines = true): Subject[] {
  return transports.flatMap((t) =>
    withBaselines ? [subject('lab', t), subject(BASELINE_OF[t], t)] : [subject('lab', t)],
  )
}

export function subjectLabel(s: Pick<Subject, 'target' | 'transport'>): string {
  return s.target === 'lab'
    ? TRANSPORT_INFO[s.transport].short
    : `${TARGETS[s.target].label} (${TRANSPORT_INFO[s.transport].short})`
}

/** For chart axes: "bare ws", "bare SSE", "bare long poll". */
export function shortLabel(s: Pick<Subject, 'target' | 'transport'>): string {
  if (s.target === 'lab') return TRANSPORT_INFO[s.transport].short
  return s.target === 'bare-fastify'
    ? `bare ${TRANSPORT_INFO[s.transport].short.replace('polling', 'poll')}`
    : TARGETS[s.target].label
}

/** What a load client needs to talk to one subject. */
export interface Endpoint {
  target: TargetName
  transport: TransportName
  url: string
  /** The short-polling interval clients use (Transport Lab suggests it in its welcome). */
  pollIntervalMs: number
}

export const isLab = (e: { target: TargetName }): boolean => e.target === 'lab'
