// A redis-server of the test's own on a free port of 127.0.0.1, nothing kept
// on disk: restart() is a Redis that lost everything, on the same port.
import { readFileSync } from 'node:fs'
import type { Redis } from 'ioredis'
import { REDIS_APT_PACKAGE, startRedisServer, type RedisServer } from '../../cluster/redis.ts'
import type { Member } from '../../server/core/protocol.ts'
import { requireBinary } from './binaries.ts'

export { requireBinary }

export const hasRedis = (needs?: string): boolean => requireBinary('redis-server', REDIS_APT_PACKAGE, needs)

export interface RunningRedis {
  url: string
  port: number
  pid(): number
  /** SIGTERM; the test's afterAll calls it (it does nothing once stopped). */
  stop(): Promise<void>
  /** SIGKILL: Redis crashes. */
  kill(): Promise<void>
  /** Stopped if running, then started again on the same port, empty (`--save "" --appendonly no`). */
  restart(): Promise<void>
}

/** Ready when it answers PING. */
export async function startRedis(): Promise<RunningRedis> {
  const redis: RedisServer = await startRedisServer()
  return {
    url: redis.url,
    port: redis.port,
    pid: () => redis.child().pid,
    stop: () => redis.stop(),
    kill: () => redis.kill(),
    restart: () => redis.restart(),
  }
}

const APPEND = readFileSync(new URL('../../server/scale/append.lua', import.meta.url), 'utf8')

/**
 * An entry written into a room's log the way append.lua writes one (with the presence changes of `joined`),
 * but published where no server listens: the servers find it only while filling the hole it leaves, as when
 * their subscription was down.
 */
export async function appendUnheard(
  admin: Redis,
  room: string,
  type: 'message' | 'presence',
  rest: Record<string, unknown>,
  joined: Member[] = [],
): Promise<void> {
  await admin.eval(
    APPEND,
    4,
    ...['meta', 'messages', 'notices', 'presence'].map((k) => `lab:{${room}}:${k}`),
    type,
    `{"type":"${type}","room":"${room}"`,
    `,${JSON.stringify(rest).slice(1)}`,
    '',
    'unused',
    1000,
    'nobody-listens',
    60_000,
    '',
    ...joined.flatMap((member) => [member.clientId, JSON.stringify(member)]),
  )
}
