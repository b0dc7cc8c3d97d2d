// Where and with what a run was measured: CPU, cores, memory, OS, Node and
// the versions of the libraries on both sides, and the settings in force.
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { cpus, platform, release, totalmem } from 'node:os'
import { join } from 'node:path'
import type { Config } from '../server/config.ts'
import { ROOT } from './processes.ts'
import type { Environment } from './schema.ts'

const LIBRARIES = ['fastify', '@fastify/websocket', 'ws', 'socket.io', 'engine.io', 'socket.io-client', 'autocannon', 'tsx', 'prom-client']

function version(name: string): string {
  try {
    return (JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version
  } catch {
    return 'missing'
  }
}

/** ulimit -n as the children will have it (they inherit ours). */
export function fdLimit(): number | null {
  try {
    const out = execFileSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).trim()
    return out === 'unlimited' ? Number.MAX_SAFE_INTEGER : Number(out)
  } catch {
    return null
  }
}

/** Which server code was measured. */
function revision(): string | undefined {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()
    const changed = execFileSync('git', ['status', '--porcelain', '--', 'server'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()
    return changed ? `${head}+changes` : head
  } catch {
    return undefined
  }
}

export function environment(config: Config): Environment {
  const rev = revision()
  const cpu = cpus()
  return {
    cpuModel: cpu[0]?.model.trim() ?? 'unknown',
    cores: cpu.length,
    memoryBytes: totalmem(),
    platform: platform(),
    osRelease: release(),
    node: process.versions.node,
    v8: process.versions.v8,
    fdLimit: fdLimit(),
    libraries: Object.fromEntries(LIBRARIES.map((name) => [name, version(name)])),
    settings: {
      SHORT_POLL_INTERVAL_MS: config.shortPollIntervalMs,
      LONG_POLL_TIMEOUT_MS: config.longPollTimeoutMs,
      HISTORY_LIMIT: config.historyLimit,
      MAX_ROOMS: config.maxRooms,
      BODY_LIMIT_BYTES: config.bodyLimitBytes,
      HTTP_SESSION_TTL_MS: config.httpSessionTtlMs,
      SSE_HEARTBEAT_MS: config.sseHeartbeatMs,
      WS_HEARTBEAT_MS: config.wsHeartbeatMs,
      WS_COMPRESSION: config.wsCompression,
      LOG_LEVEL: 'warn',
      'Socket.IO pingInterval': 25_000,
    },
    socketIoClientTransports: ['websocket'],
    ...(rev ? { revision: rev } : {}),
  }
}
