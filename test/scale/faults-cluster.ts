// A cluster built from its pieces for the fault tests: a redis-server of the
// test's own (which RunningRedis can kill and restart empty on the same port,
// something `npm run cluster`'s Redis does not offer), two instances as their
// own processes (so that SIGKILL is a real crash; spawned as the cluster
// spawns them, each in a group of its own that is stopped even when it never
// started), and nginx with the cluster's own configuration in front.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { spawnChild, waitFor, type Child } from '../../cluster/children.ts'
import { balancerConfig } from '../../cluster/nginx.ts'
import { startNginx, type RunningNginx } from '../support/nginx.ts'
import { startRedis, type RunningRedis } from '../support/redis.ts'

export interface FaultInstance {
  id: string
  url: string
  /** Its process (a group of its own): kill() is SIGKILL, a crash. */
  child: Child
}

export interface FaultCluster {
  /** The balancer: the one URL every client uses. */
  url: string
  redis: RunningRedis
  instances: FaultInstance[]
  /** Stops whatever is still running (a killed instance is already gone). */
  stop(): Promise<void>
}

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const STOP_GRACE_MS = 8000
/** tsx compiles the server at each start, slowly on a busy machine. */
const INSTANCE_START_TIMEOUT_MS = 60_000

export async function startFaultCluster(ids: string[], env: Record<string, string> = {}): Promise<FaultCluster> {
  const redis = await startRedis()
  // Every child is kept from the moment it is spawned, so that one that never started is stopped too.
  const children: Child[] = []
  let nginx: RunningNginx | undefined
  const stop = async () => {
    await Promise.all(children.map((child) => child.stop('SIGTERM', STOP_GRACE_MS)))
    await nginx?.stop()
    await redis.stop()
  }
  try {
    const instances = await Promise.all(
      ids.map(async (id): Promise<FaultInstance> => {
        const child = spawnChild(id, process.execPath, ['--import', 'tsx', 'server/main.ts'], {
          cwd: ROOT,
          env: {
            ...process.env,
            PORT: '0',
            LOG_LEVEL: 'warn',
            REDIS_URL: redis.url,
            INSTANCE_ID: id,
            NETWORK_PORT: '-1',
            // Every request reaches the instances from nginx: the client's own address is in X-Forwarded-For.
            TRUST_PROXY: 'loopback',
            ...env,
          },
        })
        children.push(child)
        const url = await waitFor(
          () => {
            if (child.gone()) throw new Error(`instance ${id} exited at start:\n${child.output()}`)
            return /Transport Lab: (http:\/\/\S+?)\/?\s/.exec(child.output())?.[1]
          },
          `instance ${id} to print its URL`,
          INSTANCE_START_TIMEOUT_MS,
        )
        return { id, url, child }
      }),
    )
    nginx = await startNginx(({ prefix, port }) =>
      balancerConfig({
        instances: instances.map(({ id, url }) => ({ id, host: '127.0.0.1', port: Number(new URL(url).port) })),
        listen: { host: '127.0.0.1', port },
        prefix,
      }),
    )
    return { url: nginx.url, redis, instances, stop }
  } catch (error) {
    await stop()
    throw error
  }
}

/** The instance the balancer sends `?sticky=<value>` to, as its Lab-Instance header says. */
export async function instanceBehind(balancerUrl: string, sticky: string): Promise<string> {
  const res = await fetch(`${balancerUrl}/api/cluster?sticky=${encodeURIComponent(sticky)}`)
  await res.body?.cancel()
  const instance = res.headers.get('lab-instance')
  if (!instance) throw new Error(`no Lab-Instance header from the balancer for sticky=${sticky}`)
  return instance
}

/** The first of `prefix-0`, `prefix-1`, ... that the balancer hashes to `instance`. */
export async function stickyFor(balancerUrl: string, instance: string, prefix: string): Promise<string> {
  for (let i = 0; i < 200; i++) {
    const sticky = `${prefix}-${i}`
    if ((await instanceBehind(balancerUrl, sticky)) === instance) return sticky
  }
  throw new Error(`no sticky value ${prefix}-N reaches instance ${instance}`)
}

/**
 * What a fake `redis-server` (first on PATH, where the cluster looks for it) does with the connections it accepts:
 * `silent` answers none (a Redis that hangs); `answers-once-then-silent` answers the cluster's own PING and then
 * no one (the instances meet a hung Redis); `answers-once-then-closed` answers that PING and closes its port.
 */
export type FakeRedisMode = 'silent' | 'answers-once-then-silent' | 'answers-once-then-closed'

/** A directory holding a fake `redis-server` that listens where the cluster tells it to and behaves as `mode` says. */
export function fakeRedisServer(mode: FakeRedisMode): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'lab-fake-redis-'))
  const script = `#!${process.execPath}
const net = require('node:net')
const arg = (name) => process.argv[process.argv.indexOf(name) + 1]
const mode = ${JSON.stringify(mode)}
let answered = false
const server = net.createServer((socket) => {
  socket.on('error', () => {})
  if (mode === 'silent' || answered) return
  socket.on('data', (data) => {
    if (answered || !String(data).includes('PING')) return
    answered = true
    socket.end('+PONG\\r\\n')
    if (mode === 'answers-once-then-closed') server.close()
  })
})
server.listen(Number(arg('--port')), arg('--bind'))
// Alive with its port closed, as a redis-server that stopped listening: only a signal ends it.
setInterval(() => {}, 1 << 30)
`
  writeFileSync(join(dir, 'redis-server'), script, { mode: 0o755 })
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) }
}
