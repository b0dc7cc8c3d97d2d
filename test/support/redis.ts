// A redis-server of the test's own on a free port of 127.0.0.1, nothing kept
// on disk: restart() is a Redis that lost everything, on the same port.
import { REDIS_APT_PACKAGE, startRedisServer, type RedisServer } from '../../cluster/redis.ts'
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
