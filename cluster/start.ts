// startCluster(): redis-server, N Transport Lab instances sharing it, and nginx
// in front of them, each started and waited for with a deadline, and stopped
// together. `npm run cluster` (run.ts), the tests and the benchmark call it.
import { randomBytes } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { servedUrls } from '../server/addresses.ts'
import { buildUi, uiIsStale } from '../ui/build.ts'
import { accepts, NGINX_APT_PACKAGE, startNginx, type Nginx } from './balancer.ts'
import { findBinary, spawnChild, waitFor, type Child } from './children.ts'
import { balancerConfig } from './nginx.ts'
import { REDIS_APT_PACKAGE, startRedisServer, type RedisServer } from './redis.ts'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
export const MAX_INSTANCES = 26
const INSTANCE_START_TIMEOUT_MS = 60_000
/** The instance's own SHUTDOWN_GRACE_MS is 2 s by default; past this its group is killed. */
const INSTANCE_STOP_GRACE_MS = 8000

export interface ClusterOptions {
  /** How many instances (default 2), named a, b, c, ... */
  instances?: number
  /** The balancer's port: the one URL to open (0 or absent: a free one). */
  port?: number
  /** The balancer's address (default 127.0.0.1; 0.0.0.0 lets a class in). The instances listen on 127.0.0.1. */
  host?: string
  /** The instances' settings (default: this process's environment); PORT, HOST, REDIS_URL, INSTANCE_ID, AUTH_SECRET (when empty), NETWORK_PORT and TRUST_PROXY are the cluster's. */
  env?: NodeJS.ProcessEnv
  /** Each line a process of the cluster writes, and what the cluster itself has to say (`source` "cluster"). */
  log?: (source: string, line: string) => void
  /** Build the workbench first when it is stale, as `npm start` does (default true). */
  buildUi?: boolean
  /** Aborting it while the cluster starts stops what has started, and startCluster rejects (Ctrl-C during the start). */
  signal?: AbortSignal
}

export interface ClusterInstance {
  id: string
  url: string
  port: number
  pid: number
  child: Child
}

export interface Cluster {
  /** The one URL to open: the balancer. */
  url: string
  /** Bound to every interface: the balancer's address on each network, for the class (as the server's banner lists). */
  networkUrls: string[]
  balancer: { host: string; port: number; pid: number }
  redis: { url: string; pid: number }
  instances: ClusterInstance[]
  /** Resolves, with the reason, when the balancer exits on its own: the cluster cannot serve anyone then. */
  broken: Promise<string>
  /** Stops the instances (gracefully: their clients are told), then the balancer, then Redis; every group killed. */
  stop(): Promise<void>
}

/** A binary the cluster needs is not installed; the message names the package. */
export class MissingBinaryError extends Error {
  override name = 'MissingBinaryError'
}

/** An instance's banner lines: the cluster prints its own, with the balancer's URL to open instead. */
const BANNER = /^\s*(Transport Lab: |On your network: |Open: anyone|Class code required|Instructor actions|$)/

export function instanceId(index: number): string {
  return String.fromCharCode('a'.charCodeAt(0) + index)
}

export async function startCluster(options: ClusterOptions = {}): Promise<Cluster> {
  const count = options.instances ?? 2
  if (!Number.isInteger(count) || count < 1 || count > MAX_INSTANCES) {
    throw new Error(`instances must be an integer from 1 to ${MAX_INSTANCES}, not ${count}`)
  }
  const log = options.log ?? (() => {})
  const host = options.host ?? '127.0.0.1'
  const env = options.env ?? process.env
  const missing = [
    ['redis-server', REDIS_APT_PACKAGE],
    ['nginx', NGINX_APT_PACKAGE],
  ].filter(([binary]) => !findBinary(binary!))
  if (missing.length > 0) {
    throw new MissingBinaryError(
      `${missing.map(([binary]) => binary).join(' and ')} not found: the cluster needs Debian's ` +
        `${missing.map(([, pkg]) => pkg).join(' and ')} (sudo apt-get install ${missing.map(([, pkg]) => pkg).join(' ')})`,
    )
  }
  // Before anything starts: a taken port is the commonest way to fail.
  if (options.port && (await accepts(host, options.port))) {
    throw new Error(`${host}:${options.port} is already in use (set PORT to another port)`)
  }
  if (options.buildUi ?? true) {
    if (uiIsStale()) {
      log('cluster', 'Building the workbench UI (ui/dist)...')
      await buildUi()
    }
  }

  let redis: RedisServer | undefined
  const instances: ClusterInstance[] = []
  const starting: Child[] = []
  let nginx: Nginx | undefined
  let stopping = false

  const stop = async () => {
    stopping = true
    await Promise.all(starting.map((child) => child.stop('SIGTERM', INSTANCE_STOP_GRACE_MS)))
    await nginx?.stop()
    await redis?.stop()
  }

  const stillWanted = () => {
    if (options.signal?.aborted) throw new Error('the cluster was stopped while it started')
  }
  const onAbort = () => void stop()
  options.signal?.addEventListener('abort', onAbort, { once: true })

  try {
    redis = await startRedisServer({ onLine: (line) => log('redis', line) })
    stillWanted()
    log('cluster', `redis-server on ${redis.url} (pid ${redis.child().pid})`)
    // One key for every instance: a token from one instance's /api/login is good on the others.
    const authSecret = env.AUTH_SECRET || randomBytes(24).toString('base64url')
    const ids = Array.from({ length: count }, (_, index) => instanceId(index))
    // The first instance that fails ends the start at once; stop() then ends the others.
    const started = await Promise.all(
      ids.map((id) =>
        startInstance(id, {
          env: {
            ...env,
            PORT: '0',
            HOST: '127.0.0.1',
            REDIS_URL: redis!.url,
            INSTANCE_ID: id,
            AUTH_SECRET: authSecret,
            // A shaped-network port belongs to one instance: a page moved there would leave the balancer.
            NETWORK_PORT: '-1',
            // Every request comes from nginx on 127.0.0.1: its X-Forwarded-For names the client, for the
            // per-address limits and the instructor rule alike (README, "Behind a proxy").
            TRUST_PROXY: env.TRUST_PROXY ? `loopback,${env.TRUST_PROXY}` : 'loopback',
          },
          log,
          onSpawn: (child) => starting.push(child),
        }),
      ),
    )
    instances.push(...started)
    stillWanted()
    for (const instance of instances) {
      void instance.child.exited.then(({ code, signal }) => {
        if (!stopping) {
          log(
            'cluster',
            `instance ${instance.id} (pid ${instance.pid}) exited (${signal ?? `code ${code}`}): the balancer sends its clients to the others`,
          )
        }
      })
    }
    void redis.child().exited.then(({ code, signal }) => {
      if (!stopping) log('cluster', `redis-server exited (${signal ?? `code ${code}`})`)
    })

    nginx = await startNginx({
      host,
      port: options.port ?? 0,
      config: ({ prefix, port }) =>
        balancerConfig({
          instances: instances.map(({ id, port }) => ({ id, host: '127.0.0.1', port })),
          listen: { host, port },
          prefix,
        }),
      onLine: (line) => log('nginx', line),
    })
    stillWanted()
  } catch (error) {
    await stop()
    throw error
  } finally {
    options.signal?.removeEventListener('abort', onAbort)
  }

  const balancer = nginx
  const broken = balancer.child.exited.then(({ code, signal }) =>
    stopping ? 'stopped' : `the balancer (nginx) exited (${signal ?? `code ${code}`})`,
  )
  const [url, ...networkUrls] = servedUrls(balancer.host, balancer.port)
  return {
    url: url!,
    networkUrls,
    balancer: { host: balancer.host, port: balancer.port, pid: balancer.child.pid },
    redis: { url: redis.url, pid: redis.child().pid },
    instances,
    broken,
    stop,
  }
}

async function startInstance(
  id: string,
  options: {
    env: NodeJS.ProcessEnv
    log: (source: string, line: string) => void
    onSpawn: (child: Child) => void
  },
): Promise<ClusterInstance> {
  let url: string | undefined
  const child = spawnChild(id, process.execPath, ['--import', 'tsx', 'server/main.ts'], {
    cwd: ROOT,
    env: options.env,
    onLine: (line) => {
      const banner = /Transport Lab: (http:\/\/\S+)/.exec(line)
      if (banner && !url) url = banner[1]
      if (!BANNER.test(line)) options.log(id, line)
    },
  })
  options.onSpawn(child)
  await waitFor(
    () => {
      if (url) return true
      if (child.gone()) {
        throw new Error(`instance ${id} exited at start (${describeExit(child)}); its output:\n${child.output()}`)
      }
      return false
    },
    `instance ${id} to print its URL`,
    INSTANCE_START_TIMEOUT_MS,
  ).catch((error: unknown) => {
    throw error instanceof Error && error.message.startsWith('timed out')
      ? new Error(`${error.message}; its output:\n${child.output()}`)
      : error
  })
  const port = Number(new URL(url!).port)
  return { id, url: url!, port, pid: child.pid, child }
}

function describeExit(child: Child): string {
  const { exitCode, signalCode } = child.process
  return signalCode ?? `code ${exitCode}`
}
