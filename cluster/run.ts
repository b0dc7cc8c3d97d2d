// `npm run cluster`: redis-server, N instances and nginx in front, one URL to
// open, every process's lines prefixed by its name, and everything stopped on
// Ctrl-C or SIGTERM (exit 0). A missing package or an instance that cannot
// start is one clear message and exit 1; a bad setting exit 2, as the server does.
import { parseArgs } from 'node:util'
import { MAX_INSTANCES, MissingBinaryError, startCluster, type Cluster } from './start.ts'

const HELP = `npm run cluster [-- options]: Transport Lab on several instances sharing one Redis, behind nginx.

  --instances N   CLUSTER_INSTANCES   2          instances (1 to ${MAX_INSTANCES}), named a, b, c, ...
  --port N        PORT                3000       the balancer's port: the one URL to open (0 picks a free one)
  --host ADDR     HOST                127.0.0.1  the balancer's address; 0.0.0.0 lets a classroom connect
  --help                                         print this and exit

Every other setting (CLASS_CODE, LOG_LEVEL, ...) is passed on to every instance; see npm start -- --help.
Needs Debian's redis-server and nginx: sudo apt-get install redis-server nginx`

class UsageError extends Error {}

function integer(raw: string, name: string, min: number, max: number): number {
  const value = Number(raw)
  if (!/^\d+$/.test(raw.trim()) || value < min || value > max) {
    throw new UsageError(`${name}=${raw} is invalid: expected an integer from ${min} to ${max}`)
  }
  return value
}

function readOptions(): { instances: number; port: number; host: string } | 'help' {
  const { values } = parseArgs({
    options: {
      instances: { type: 'string' },
      port: { type: 'string' },
      host: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  })
  if (values.help) return 'help'
  const instances = values.instances ?? process.env.CLUSTER_INSTANCES ?? '2'
  const port = values.port ?? process.env.PORT ?? '3000'
  return {
    instances: integer(instances, values.instances ? '--instances' : 'CLUSTER_INSTANCES', 1, MAX_INSTANCES),
    port: integer(port, values.port ? '--port' : 'PORT', 0, 65535),
    host: values.host ?? (process.env.HOST || '127.0.0.1'),
  }
}

function describe(cluster: Cluster): string {
  const rows = [
    ['balancer', `nginx on ${cluster.balancer.host}:${cluster.balancer.port}`, cluster.balancer.pid],
    ...cluster.instances.map((i) => [`instance ${i.id}`, i.url, i.pid] as const),
    ['redis', cluster.redis.url, cluster.redis.pid],
  ] as const
  return [
    '',
    `  Transport Lab cluster: ${cluster.url}`,
    ...cluster.networkUrls.map((url) => `  On your network: ${url}`),
    '',
    '  Open that one URL. Behind it:',
    ...rows.map(([name, where, pid]) => `    ${name.padEnd(12)} ${where.padEnd(32)} pid ${pid}`),
    `  ?sticky=<any text> picks an instance by hash, ?node=${cluster.instances[0]!.id} pins one; Ctrl-C stops everything.`,
    '',
    '',
  ].join('\n')
}

async function main(): Promise<void> {
  let options
  try {
    options = readOptions()
  } catch (error) {
    process.stderr.write(`cluster: ${(error as Error).message}\nRun with --help to see every setting.\n`)
    process.exit(2)
  }
  if (options === 'help') {
    process.stdout.write(`${HELP}\n`)
    return
  }

  // A closed terminal or pipe must not end the runner before it has stopped its processes.
  process.stdout.on('error', () => {})
  process.stderr.on('error', () => {})
  const aborted = new AbortController()
  const log = (source: string, line: string) => process.stdout.write(`[${source}] ${line}\n`)
  const starting = startCluster({ ...options, log, signal: aborted.signal })
  let stopping: Promise<void> | undefined
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return
    process.stdout.write(`cluster: ${signal}, stopping every instance, the balancer and Redis\n`)
    aborted.abort()
    // Aborted while starting, startCluster stops what it started before it rejects.
    stopping = starting.then(
      (cluster) => cluster.stop(),
      () => {},
    )
    void stopping.then(() => {
      process.stdout.write('cluster: stopped\n')
      process.exit(0)
    })
  }
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => stop(signal))

  let cluster: Cluster
  try {
    cluster = await starting
  } catch (error) {
    // Stopped by a signal while starting: stop() says so and exits 0.
    if (aborted.signal.aborted) return
    const message = error instanceof Error ? error.message : String(error)
    process.stderr.write(
      error instanceof MissingBinaryError ? `cluster: ${message}\n` : `cluster: could not start: ${message}\n`,
    )
    process.exit(1)
  }
  process.stdout.write(describe(cluster))
  const reason = await cluster.broken
  if (stopping) return
  process.stderr.write(`cluster: ${reason}; stopping everything\n`)
  await cluster.stop()
  process.exit(1)
}

main().catch((error: unknown) => {
  process.stderr.write(`cluster: ${error instanceof Error ? error.stack : String(error)}\n`)
  process.exit(1)
})
