// Scenario 7, dead peers: how long the server keeps a client that stopped
// answering, per transport, side by side on one fresh Transport Lab process.
// Each peer joins a room of its own and stops (see clients/dead.ts: a
// WebSocket that never answers pings, Socket.IO by hand that never answers
// Engine.IO's, an SSE reader that stops reading and never reopens its renewed
// stream, polling sessions that stop polling). The load process, on the clock
// that noted when each stopped, reads the presence of each room and the
// server's open connections per transport every POLL_MS, until every peer
// is gone from both or the cap. Each delay is set beside the window the
// settings allow (deadPeerWindow in metrics.ts).
//
// With the server's own settings this takes up to a minute (a long-polling
// session's lease is HTTP_SESSION_TTL_MS + LONG_POLL_TIMEOUT_MS); a quick run
// uses SHORTENED settings on its own server, and the results say so.
import type { TransportName } from '../../server/core/protocol.ts'
import { SSE_REJOIN_GRACE_MS } from '../../server/transports/sse.ts'
import { loadConfig, type Config } from '../../server/config.ts'
import type { Context } from '../context.ts'
import type { DeadPeerSeen } from '../clients/dead.ts'
import { deadPeerWindow, withinWindow, type ReapSettings } from '../metrics.ts'
import type { DeadPeerRow } from '../schema.ts'
import { subjectLabel } from '../subjects.ts'

/** The quick run's settings: every mechanism still runs, in seconds instead of a minute. */
export const SHORTENED: Record<string, string> = {
  WS_HEARTBEAT_MS: '1000',
  SIO_PING_INTERVAL_MS: '1000',
  SIO_PING_TIMEOUT_MS: '1000',
  SSE_STREAM_MAX_MS: '1000',
  HTTP_SESSION_TTL_MS: '1000',
  LONG_POLL_TIMEOUT_MS: '1000',
}
/** How often the hub drops members whose lease ran out (Hub's sweep timer). */
const LEASE_SWEEP_MS = 1000
const DEAD_TRANSPORTS: TransportName[] = ['websocket', 'socket.io', 'sse', 'short-polling', 'long-polling']

const HOW: Record<TransportName, string> = {
  websocket: 'a WebSocket that never answers pings (ws autoPong: false)',
  'socket.io': 'Engine.IO by hand over a WebSocket ("40{auth}"), never answering the "2" pings',
  sse: 'an SSE reader that stops reading after its welcome and never reopens the renewed stream',
  'short-polling': 'a session that stops polling after its last answer (its keep-alive connection left open)',
  'long-polling': 'a session that stops polling with a poll held (its keep-alive connection left open)',
}

export function reapSettings(config: Config): ReapSettings {
  return {
    wsHeartbeatMs: config.wsHeartbeatMs,
    sioPingIntervalMs: config.sioPingIntervalMs,
    sioPingTimeoutMs: config.sioPingTimeoutMs,
    sseStreamMaxMs: config.sseStreamMaxMs,
    sseRejoinGraceMs: SSE_REJOIN_GRACE_MS,
    httpSessionTtlMs: config.httpSessionTtlMs,
    longPollTimeoutMs: config.longPollTimeoutMs,
    leaseSweepMs: LEASE_SWEEP_MS,
  }
}

/** The settings of this scenario's server on top of the run's: shortened in a quick run. */
export function deadPeersEnv(options: Pick<Context['options'], 'deadPeersShortened'>): Record<string, string> {
  return options.deadPeersShortened ? SHORTENED : {}
}

export async function runDeadPeers(ctx: Context) {
  const { options } = ctx
  const transports = DEAD_TRANSPORTS.filter((t) => options.transports.includes(t))
  const shortened = options.deadPeersShortened === true
  const env = deadPeersEnv(options)
  // The settings this server runs with: the run's, with the shortened ones on top.
  const config = loadConfig([], { ...process.env, ...ctx.envFor('lab'), ...env })
  if (config === 'help') throw new Error('unexpected --help in the environment')
  const reap = reapSettings(config)
  const windows = Object.fromEntries(transports.map((t) => [t, deadPeerWindow(t, reap)]))
  const pollMs = shortened ? 100 : 250
  // Past the last window, time for the keep-alive connections the server lets idle (Node's keepAliveTimeout, 5 s) to close.
  const capMs = Math.max(...Object.values(windows).map((w) => w.maxMs)) + 10_000
  const bar = ctx.progress.scenario('dead-peers', 1)
  const target = await ctx.labWith(env, 'dead-peers')
  let seen: DeadPeerSeen[]
  try {
    const load = ctx.load.caller
    await load.call('dead.open', { url: target.url, transports, roomPrefix: ctx.tag('d') }, 60_000)
    try {
      seen = await load.call<DeadPeerSeen[]>('dead.watch', { url: target.url, pollMs, capMs }, capMs + 30_000)
    } finally {
      await load.call('dead.close')
    }
  } finally {
    await target.stop()
  }
  bar.tick(`${transports.length} transports side by side`)
  bar.done()
  const rows = seen.map((s): DeadPeerRow => {
    const window = windows[s.transport]!
    const notes: string[] = []
    if (s.goneFromPresenceMs === null) notes.push(`still in the room after ${Math.round(capMs / 1000)} s`)
    else if (!withinWindow(s.goneFromPresenceMs, window, pollMs + 250))
      notes.push('outside the window the settings allow')
    if (s.connectionClosedMs === null) notes.push(`its connection was still open after ${Math.round(capMs / 1000)} s`)
    if (s.connectionsAtStop <= s.connectionsBefore)
      notes.push('the server counted no open connection for it after it stopped')
    return {
      subject: `lab/${s.transport}`,
      target: 'lab',
      transport: s.transport,
      label: subjectLabel({ target: 'lab', transport: s.transport }),
      how: HOW[s.transport],
      settings: window.settings,
      expectedMinMs: window.minMs,
      expectedMaxMs: window.maxMs,
      goneFromPresenceMs: s.goneFromPresenceMs,
      connectionClosedMs: s.connectionClosedMs,
      ...(notes.length ? { note: notes.join('; ') } : {}),
    }
  })
  if (shortened)
    ctx.note(
      `dead-peers ran with shortened settings (${Object.entries(SHORTENED)
        .map(([k, v]) => `${k}=${v}`)
        .join(', ')}) on a server of its own, to fit a quick run; a default run measures the server's own settings.`,
    )
  return { shortened, pollMs, capMs, rows }
}
