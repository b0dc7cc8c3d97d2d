// Every setting in one table: its environment variable, its flag, its default
// and how it is checked. --help prints the same table, so they cannot drift.
import { parseArgs } from 'node:util'
import { TEXT_MAX_BYTES } from './core/protocol.ts'
import { checkTrustProxy } from './client-address.ts'

export interface Config {
  port: number
  host: string
  logLevel: string
  historyLimit: number
  maxRooms: number
  textMaxBytes: number
  bodyLimitBytes: number
  shortPollIntervalMs: number
  longPollTimeoutMs: number
  httpSessionTtlMs: number
  sseHeartbeatMs: number
  sseStreamMaxMs: number
  wsHeartbeatMs: number
  wsCompression: boolean
  sioPingIntervalMs: number
  sioPingTimeoutMs: number
  sendBufferBytes: number
  messageRate: number
  messageBurst: number
  maxClientsPerAddress: number
  maxRoomsPerClient: number
  presenceRate: number
  tickerHz: number
  shutdownGraceMs: number
  networkPort: number
  redisUrl: string
  instanceId: string
  classCode: string
  instructorCode: string
  authSecret: string
  tokenTtlMs: number
  allowedOrigins: string
  trustProxy: string
}

type Kind = 'int' | 'string' | 'bool' | 'level'

interface Setting {
  key: keyof Config
  env: string
  flag: string
  kind: Kind
  default: number | string | boolean
  min?: number
  max?: number
  /** For strings: what is wrong with a value, or undefined when it is fine. */
  check?: (value: string) => string | undefined
  help: string
}

export const SETTINGS: Setting[] = [
  {
    key: 'port',
    env: 'PORT',
    flag: 'port',
    kind: 'int',
    default: 3000,
    min: 0,
    max: 65535,
    help: 'TCP port to listen on (0 picks a free one)',
  },
  {
    key: 'host',
    env: 'HOST',
    flag: 'host',
    kind: 'string',
    default: '127.0.0.1',
    help: 'address to bind; 0.0.0.0 lets a classroom connect',
  },
  {
    key: 'logLevel',
    env: 'LOG_LEVEL',
    flag: 'log-level',
    kind: 'level',
    default: 'info',
    help: 'pino level: fatal, error, warn, info, debug, trace or silent',
  },
  {
    key: 'historyLimit',
    env: 'HISTORY_LIMIT',
    flag: 'history-limit',
    kind: 'int',
    default: 500,
    min: 1,
    max: 100000,
    help: 'messages kept per room for resume (and as many join/leave notices)',
  },
  {
    key: 'maxRooms',
    env: 'MAX_ROOMS',
    flag: 'max-rooms',
    kind: 'int',
    default: 1000,
    min: 1,
    max: 1000000,
    help: 'rooms kept at once (idle ones are dropped first)',
  },
  {
    key: 'textMaxBytes',
    env: 'TEXT_MAX_BYTES',
    flag: 'text-max-bytes',
    kind: 'int',
    default: TEXT_MAX_BYTES,
    min: 1,
    max: 1048576,
    help: 'longest message text, in UTF-8 bytes',
  },
  {
    key: 'bodyLimitBytes',
    env: 'BODY_LIMIT_BYTES',
    flag: 'body-limit-bytes',
    kind: 'int',
    default: 65536,
    min: 1024,
    max: 16777216,
    help: 'largest HTTP body, WebSocket frame or Socket.IO packet',
  },
  {
    key: 'shortPollIntervalMs',
    env: 'SHORT_POLL_INTERVAL_MS',
    flag: 'short-poll-interval-ms',
    kind: 'int',
    default: 1000,
    min: 50,
    max: 600000,
    help: 'poll interval the server suggests to short-polling clients',
  },
  {
    key: 'longPollTimeoutMs',
    env: 'LONG_POLL_TIMEOUT_MS',
    flag: 'long-poll-timeout-ms',
    kind: 'int',
    default: 25000,
    min: 100,
    max: 600000,
    help: 'how long a long poll is held when nothing arrives',
  },
  {
    key: 'httpSessionTtlMs',
    env: 'HTTP_SESSION_TTL_MS',
    flag: 'http-session-ttl-ms',
    kind: 'int',
    default: 30000,
    min: 1000,
    max: 3600000,
    help: 'a polling client that has not polled for this long leaves its rooms',
  },
  {
    key: 'sseHeartbeatMs',
    env: 'SSE_HEARTBEAT_MS',
    flag: 'sse-heartbeat-ms',
    kind: 'int',
    default: 15000,
    min: 100,
    max: 600000,
    help: 'comment line sent on idle SSE streams to keep proxies from closing them',
  },
  {
    key: 'sseStreamMaxMs',
    env: 'SSE_STREAM_MAX_MS',
    flag: 'sse-stream-max-ms',
    kind: 'int',
    default: 30000,
    min: 1000,
    max: 86400000,
    help: 'an SSE stream is ended after this long (±10%); EventSource reconnects at once, a dead reader does not and leaves',
  },
  {
    key: 'wsHeartbeatMs',
    env: 'WS_HEARTBEAT_MS',
    flag: 'ws-heartbeat-ms',
    kind: 'int',
    default: 15000,
    min: 100,
    max: 600000,
    help: 'ping interval; a WebSocket that misses a pong is terminated',
  },
  {
    key: 'wsCompression',
    env: 'WS_COMPRESSION',
    flag: 'ws-compression',
    kind: 'bool',
    default: false,
    help: 'compress /ws frames (permessage-deflate) unless a client asks ?compress=0',
  },
  {
    key: 'sioPingIntervalMs',
    env: 'SIO_PING_INTERVAL_MS',
    flag: 'sio-ping-interval-ms',
    kind: 'int',
    default: 15000,
    min: 100,
    max: 600000,
    help: 'Engine.IO ping interval for Socket.IO clients',
  },
  {
    key: 'sioPingTimeoutMs',
    env: 'SIO_PING_TIMEOUT_MS',
    flag: 'sio-ping-timeout-ms',
    kind: 'int',
    default: 10000,
    min: 100,
    max: 600000,
    help: 'a Socket.IO client that does not answer a ping within this long is disconnected',
  },
  {
    key: 'sendBufferBytes',
    env: 'SEND_BUFFER_BYTES',
    flag: 'send-buffer-bytes',
    kind: 'int',
    default: 1048576,
    min: 16384,
    max: 268435456,
    help: 'unsent bytes a push connection (SSE, WebSocket, Socket.IO) may pile up before it is closed as too slow',
  },
  {
    key: 'messageRate',
    env: 'MESSAGE_RATE',
    flag: 'message-rate',
    kind: 'int',
    default: 10,
    min: 0,
    max: 1000000,
    help: 'messages per second per connection or HTTP session (per address without one); 0 = no limit',
  },
  {
    key: 'messageBurst',
    env: 'MESSAGE_BURST',
    flag: 'message-burst',
    kind: 'int',
    default: 20,
    min: 1,
    max: 1000000,
    help: 'messages a client may send at once before MESSAGE_RATE applies',
  },
  {
    key: 'maxClientsPerAddress',
    env: 'MAX_CLIENTS_PER_ADDRESS',
    flag: 'max-clients-per-address',
    kind: 'int',
    default: 20,
    min: 0,
    max: 1000000,
    help: 'per transport and client address: WebSockets, Socket.IO connections, SSE streams, held long polls, polling sessions; 0 = no limit',
  },
  {
    key: 'maxRoomsPerClient',
    env: 'MAX_ROOMS_PER_CLIENT',
    flag: 'max-rooms-per-client',
    kind: 'int',
    default: 10,
    min: 1,
    max: 100000,
    help: 'rooms one connection or session may be in at once',
  },
  {
    key: 'presenceRate',
    env: 'PRESENCE_RATE',
    flag: 'presence-rate',
    kind: 'int',
    default: 5000,
    min: 0,
    max: 100000000,
    help: 'join/leave deliveries a second per room before notices are batched into presence entries; 0 never',
  },
  {
    key: 'tickerHz',
    env: 'TICKER_HZ',
    flag: 'ticker-hz',
    kind: 'int',
    default: 4,
    min: 0,
    max: 100,
    help: 'simulated price updates per second in the built-in ticker room while it has members; 0 = off',
  },
  {
    key: 'shutdownGraceMs',
    env: 'SHUTDOWN_GRACE_MS',
    flag: 'shutdown-grace-ms',
    kind: 'int',
    default: 2000,
    min: 100,
    max: 60000,
    help: 'longest a graceful shutdown may take before the process exits anyway',
  },
  {
    key: 'networkPort',
    env: 'NETWORK_PORT',
    flag: 'network-port',
    kind: 'int',
    default: 0,
    min: -1,
    max: 65532,
    help: 'first of four ports with a shaped network (LAN, 4G, 3G, GPRS in that order); 0 picks free ones, -1 = none',
  },
  {
    key: 'redisUrl',
    env: 'REDIS_URL',
    flag: 'redis-url',
    kind: 'string',
    default: '',
    check: checkRedisUrl,
    help: 'redis://host:port of the Redis that several servers share (rooms, history, presence); empty = in memory, one server',
  },
  {
    key: 'instanceId',
    env: 'INSTANCE_ID',
    flag: 'instance-id',
    kind: 'string',
    default: '',
    check: (value) => (/^[A-Za-z0-9._:-]{1,40}$/.test(value) ? undefined : 'expected 1-40 letters, digits, . _ : -'),
    help: "this server's name among several (the Lab-Instance header, welcomes); empty = host name and process id",
  },
  {
    key: 'classCode',
    env: 'CLASS_CODE',
    flag: 'class-code',
    kind: 'string',
    default: '',
    help: 'when set, every transport needs a token from POST /api/login {"code", "name"}; empty = anyone may join',
  },
  {
    key: 'instructorCode',
    env: 'INSTRUCTOR_CODE',
    flag: 'instructor-code',
    kind: 'string',
    default: '',
    help: "logs in as the instructor (reset, disconnect, broadcast); empty = the server's own machine is the instructor",
  },
  {
    key: 'authSecret',
    env: 'AUTH_SECRET',
    flag: 'auth-secret',
    kind: 'string',
    default: '',
    check: (value) => (value.length < 16 ? 'expected at least 16 characters' : undefined),
    help: 'HMAC key that signs tokens (16+ characters); empty = a random one at each start, so a restart logs everyone out',
  },
  {
    key: 'tokenTtlMs',
    env: 'TOKEN_TTL_MS',
    flag: 'token-ttl-ms',
    kind: 'int',
    default: 14400000,
    min: 1000,
    max: 2592000000,
    help: 'how long a token from /api/login is valid; live connections end when it expires',
  },
  {
    key: 'allowedOrigins',
    env: 'ALLOWED_ORIGINS',
    flag: 'allowed-origins',
    kind: 'string',
    default: '',
    check: checkOrigins,
    help: "origins whose pages may connect and POST, comma-separated, * = any; empty = this machine's own names and addresses",
  },
  {
    key: 'trustProxy',
    env: 'TRUST_PROXY',
    flag: 'trust-proxy',
    kind: 'string',
    default: '',
    check: checkTrustProxy,
    help: 'proxies whose X-Forwarded-For names the client: addresses or CIDRs, comma-separated, loopback = 127.0.0.0/8 and ::1; empty = the TCP peer is the client',
  },
]

function checkRedisUrl(value: string): string | undefined {
  try {
    const url = new URL(value)
    return url.protocol === 'redis:' || url.protocol === 'rediss:' ? undefined : 'expected redis://host:port'
  } catch {
    return 'expected redis://host:port'
  }
}

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']

export class ConfigError extends Error {
  override name = 'ConfigError'
}

export const defaultConfig: Config = Object.fromEntries(SETTINGS.map((s) => [s.key, s.default])) as unknown as Config

/** Flags win over the environment, which wins over the defaults. */
export function loadConfig(
  argv: string[] = process.argv.slice(2),
  env: NodeJS.ProcessEnv = process.env,
): Config | 'help' {
  let parsed
  try {
    parsed = parseArgs({
      args: argv,
      strict: true,
      options: {
        help: { type: 'boolean', short: 'h' },
        ...Object.fromEntries(SETTINGS.map((s) => [s.flag, { type: 'string' as const }])),
      },
    })
  } catch (error) {
    throw new ConfigError(`${(error as Error).message}\nRun with --help to see every setting.`)
  }
  if (parsed.values.help) return 'help'
  const config: Record<string, unknown> = {}
  for (const setting of SETTINGS) {
    const fromFlag = (parsed.values as Record<string, string | boolean | undefined>)[setting.flag] as string | undefined
    const raw = fromFlag ?? env[setting.env]
    config[setting.key] =
      raw === undefined || raw === ''
        ? setting.default
        : coerce(setting, raw, fromFlag !== undefined ? `--${setting.flag}` : setting.env)
  }
  return config as unknown as Config
}

function coerce(setting: Setting, raw: string, source: string): number | string | boolean {
  switch (setting.kind) {
    case 'int': {
      const value = Number(raw)
      if (!/^-?\d+$/.test(raw.trim()) || value < (setting.min ?? -Infinity) || value > (setting.max ?? Infinity)) {
        throw new ConfigError(
          `${source}=${raw} is invalid: expected an integer from ${setting.min} to ${setting.max} (${setting.help})`,
        )
      }
      return value
    }
    case 'bool': {
      const value = raw.trim().toLowerCase()
      if (['1', 'true', 'yes', 'on'].includes(value)) return true
      if (['0', 'false', 'no', 'off'].includes(value)) return false
      throw new ConfigError(`${source}=${raw} is invalid: expected true or false`)
    }
    case 'level':
      if (!LEVELS.includes(raw))
        throw new ConfigError(`${source}=${raw} is invalid: expected one of ${LEVELS.join(', ')}`)
      return raw
    case 'string': {
      const problem = setting.check?.(raw)
      if (problem) throw new ConfigError(`${source} is invalid: ${problem} (${setting.help})`)
      return raw
    }
  }
}

/** ALLOWED_ORIGINS: `*`, or origins as a browser sends them (scheme://host[:port], no path). */
function checkOrigins(value: string): string | undefined {
  for (const origin of value.split(',').map((o) => o.trim())) {
    if (origin === '*') continue
    let parsed: URL | undefined
    try {
      parsed = new URL(origin)
    } catch {
      parsed = undefined
    }
    if (!parsed || !/^https?:$/.test(parsed.protocol) || parsed.origin !== origin.replace(/\/$/, ''))
      return `${JSON.stringify(origin)} is not an origin: expected e.g. http://192.168.1.20:3000 or *`
  }
  return undefined
}

export function helpText(): string {
  const rows = SETTINGS.map(
    (s) =>
      `  --${s.flag.padEnd(24)} ${s.env.padEnd(24)} ${(s.default === '' ? '(empty)' : String(s.default)).padEnd(10)} ${s.help}`,
  )
  return [
    'Transport Lab: one chat over short polling, long polling, SSE, WebSocket and Socket.IO.',
    '',
    'Usage: npm start -- [flags]      (or set the environment variables)',
    '',
    `  ${'flag'.padEnd(26)} ${'environment'.padEnd(24)} ${'default'.padEnd(10)} meaning`,
    ...rows,
    `  --${'help'.padEnd(24)} ${''.padEnd(24)} ${''.padEnd(10)} print this and exit`,
  ].join('\n')
}
