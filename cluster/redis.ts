// A redis-server of the cluster's own (Debian's package): bound to one address
// on a free port, nothing written to disk, so that a restart is a Redis that
// has lost everything (what the hub's epochs exist for).
import { mkdtempSync, rmSync } from 'node:fs'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { findBinary, freePort, spawnChild, waitFor, type Child } from './children.ts'

export const REDIS_APT_PACKAGE = 'redis-server'
const READY_TIMEOUT_MS = 10_000

export interface RedisServer {
  url: string
  port: number
  host: string
  /** The running redis-server (a new one after restart()). */
  child(): Child
  /** SIGTERM, then SIGKILL after a grace period. */
  stop(): Promise<void>
  /** SIGKILL: a crash. */
  kill(): Promise<void>
  /** Stopped if it is running, then started again on the same port, empty. */
  restart(): Promise<void>
}

export interface RedisOptions {
  host?: string
  /** Each line redis-server writes. */
  onLine?: (line: string) => void
  binary?: string
}

/** Answers whether a Redis at host:port says PONG to a PING, within `timeoutMs`. */
export async function redisAnswersPing(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port })
    let reply = ''
    const done = (answer: boolean) => {
      clearTimeout(timer)
      socket.destroy()
      resolve(answer)
    }
    const timer = setTimeout(() => done(false), timeoutMs)
    socket.once('error', () => done(false))
    socket.once('connect', () => socket.write('PING\r\n'))
    socket.on('data', (chunk) => {
      reply += chunk.toString()
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'))
    })
  })
}

export async function startRedisServer(options: RedisOptions = {}): Promise<RedisServer> {
  const binary = options.binary ?? findBinary('redis-server')
  if (!binary) throw new Error(`redis-server not found (apt-get install ${REDIS_APT_PACKAGE})`)
  const host = options.host ?? '127.0.0.1'
  const dir = mkdtempSync(join(tmpdir(), 'lab-redis-'))

  const launch = async (port: number): Promise<Child> => {
    const child = spawnChild(
      'redis',
      binary,
      [
        '--port', String(port),
        '--bind', host,
        '--save', '',
        '--appendonly', 'no',
        '--dir', dir,
        '--daemonize', 'no',
        '--loglevel', 'warning',
        // A test kills it and starts it again on the same port at once.
        '--protected-mode', 'no',
      ], // prettier-ignore
      { onLine: options.onLine },
    )
    try {
      await waitFor(
        async () => {
          if (child.gone()) throw new Error(`redis-server exited at start:\n${child.output()}`)
          return redisAnswersPing(host, port, 500)
        },
        `redis-server on ${host}:${port} to answer PING`,
        READY_TIMEOUT_MS,
      )
    } catch (error) {
      await child.stop('SIGKILL')
      throw error
    }
    return child
  }

  // The free port can be taken between asking and binding: a second try then.
  let port = await freePort(host)
  let child: Child
  try {
    child = await launch(port)
  } catch {
    port = await freePort(host)
    child = await launch(port).catch((error: unknown) => {
      rmSync(dir, { recursive: true, force: true })
      throw error
    })
  }

  const urlHost = host.includes(':') ? `[${host}]` : host
  return {
    url: `redis://${urlHost}:${port}`,
    port,
    host,
    child: () => child,
    async stop() {
      await child.stop('SIGTERM', 3000)
      rmSync(dir, { recursive: true, force: true })
    },
    async kill() {
      child.kill()
      await child.exited
    },
    async restart() {
      await child.stop('SIGTERM', 3000)
      // The port was ours a moment ago; the kernel lets a listener have it again at once (SO_REUSEADDR).
      child = await waitFor(
        () => launch(port).catch(() => undefined),
        `redis-server to start again on port ${port}`,
        READY_TIMEOUT_MS,
        100,
      )
    },
  }
}
