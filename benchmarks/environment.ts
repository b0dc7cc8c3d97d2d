// Where and with what a run was measured: CPU, cores, memory, OS, Node and
// the versions of the libraries on both sides, and the settings in force.
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { cpus, platform, release, totalmem } from 'node:os'
import { join } from 'node:path'
import type { Config } from '../server/config.ts'
import { ROOT } from './processes.ts'
import type { Environment } from './schema.ts'

const LIBRARIES = [
  'fastify',
  '@fastify/websocket',
  'ws',
  'socket.io',
  'engine.io',
  'socket.io-client',
  'autocannon',
  'tsx',
  'prom-client',
]

function version(name: string): string {
  try {
    return (JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string })
      .version
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
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], {
      cwd: ROOT,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim()
    const changed = execFileSync('git', ['status', '--porcelain', '--', 'server'], {
      cwd: ROOT,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim()
    return changed ? `${head}+changes` : head
  } catch {
    return undefined
  }
}

/**
 * All the bench's load comes from 127.0.0.1, so the per-address limits would
 * measure the limits instead of the transports: Transport Lab gets them out of
 * reach, unless the user set them. The rate check still runs on every message
 * (a bucket with a million tokens), so its cost stays in every figure.
 */
export const OUT_OF_REACH: Record<string, string> = {
  MESSAGE_RATE: '1000000',
  MESSAGE_BURST: '1000000',
  MAX_CLIENTS_PER_ADDRESS: '0',
}

/** The OUT_OF_REACH settings that `env` leaves unset: what the bench adds to Transport Lab's environment. */
export function labEnvironment(env: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(OUT_OF_REACH).filter(([name]) => env[name] === undefined || env[name] === ''),
  )
}

/** Settings Transport Lab and the baselines share, as environment variables with Transport Lab's values, so that both sides run alike. */
export function sharedEnvironment(config: Config): Record<string, string> {
  return {
    HISTORY_LIMIT: String(config.historyLimit),
    LONG_POLL_TIMEOUT_MS: String(config.longPollTimeoutMs),
    BODY_LIMIT_BYTES: String(config.bodyLimitBytes),
    SSE_HEARTBEAT_MS: String(config.sseHeartbeatMs),
    WS_HEARTBEAT_MS: String(config.wsHeartbeatMs),
    SIO_PING_INTERVAL_MS: String(config.sioPingIntervalMs),
    SIO_PING_TIMEOUT_MS: String(config.sioPingTimeoutMs),
  }
}

export function environment(config: Config, labEnv: Record<string, string> = {}): Environment {
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
      SSE_STREAM_MAX_MS: config.sseStreamMaxMs,
      WS_HEARTBEAT_MS: config.wsHeartbeatMs,
      WS_COMPRESSION: config.wsCompression,
      SIO_PING_INTERVAL_MS: config.sioPingIntervalMs,
      SIO_PING_TIMEOUT_MS: config.sioPingTimeoutMs,
      SEND_BUFFER_BYTES: config.sendBufferBytes,
      MESSAGE_RATE: config.messageRate,
      MESSAGE_BURST: config.messageBurst,
      MAX_CLIENTS_PER_ADDRESS: config.maxClientsPerAddress,
      MAX_ROOMS_PER_CLIENT: config.maxRoomsPerClient,
      LOG_LEVEL: 'warn',
    },
    ...(Object.keys(labEnv).length > 0 ? { labEnv } : {}),
    socketIoClientTransports: ['websocket'],
    ...(rev ? { revision: rev } : {}),
  }
}
