// `npm run cluster` as a class runs it: cluster/run.ts as its own process,
// with its redis-server, two instances and nginx, spoken to through the one
// URL it prints, then Ctrl-C.
import { execSync } from 'node:child_process'
import { request, type IncomingMessage } from 'node:http'
import { createServer, type AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import WebSocket from 'ws'
import { io } from 'socket.io-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { findBinary, freePort, spawnChild, type Child, type Exit } from '../../cluster/children.ts'
import { balancerConfig } from '../../cluster/nginx.ts'
import { instanceId } from '../../cluster/start.ts'
import { hasNginx } from '../support/nginx.ts'
import { hasRedis } from '../support/redis.ts'
import { until } from '../support/wait.ts'

const root = fileURLToPath(new URL('../..', import.meta.url))
const needs = 'the cluster tests'
const available = hasRedis(needs) && hasNginx(needs)

interface RunningCluster {
  runner: Child
  url: string
  /** Instance id -> its own URL and pid, as printed. */
  instances: Map<string, { url: string; pid: number }>
  balancerPid: number
  redisPid: number
  /** Every process it printed, then the runner: SIGKILL to each group (what afterAll does whatever happened). */
  killAll(): void
}

function runCluster(args: string[], env: NodeJS.ProcessEnv = {}): Child {
  return spawnChild('cluster', process.execPath, ['--import', 'tsx', 'cluster/run.ts', ...args], {
    cwd: root,
    env: { ...process.env, LOG_LEVEL: 'warn', ...env },
  })
}

async function startCluster(): Promise<RunningCluster> {
  const port = await freePort()
  const runner = runCluster(['--instances', '2', '--port', String(port)])
  const pids: number[] = []
  const killAll = () => {
    for (const pid of [...pids, runner.pid]) {
      try {
        process.kill(-pid, 'SIGKILL')
      } catch {
        // Gone already.
      }
    }
  }
  try {
    const printed = await until(
      () => {
        if (runner.gone()) throw new Error(`npm run cluster exited:\n${runner.output()}`)
        return /Ctrl-C stops everything/.test(runner.output()) && runner.output()
      },
      'the cluster to print its URL',
      120_000,
    )
    const instances = new Map<string, { url: string; pid: number }>()
    for (const [, id, url, pid] of printed.matchAll(/instance (\w+)\s+(http:\/\/\S+)\s+pid (\d+)/g)) {
      instances.set(id!, { url: url!, pid: Number(pid) })
    }
    const balancerPid = Number(/balancer .* pid (\d+)/.exec(printed)![1])
    const redisPid = Number(/redis\s+redis:\/\/\S+\s+pid (\d+)/.exec(printed)![1])
    pids.push(balancerPid, redisPid, ...[...instances.values()].map((i) => i.pid))
    const url = /Transport Lab cluster: (http:\/\/\S+)/.exec(printed)![1]!
    return { runner, url, instances, balancerPid, redisPid, killAll }
  } catch (error) {
    killAll()
    throw error
  }
}

/** How the runner exited, waited for with a deadline. */
async function exitOf(runner: Child, timeoutMs = 30_000): Promise<Exit> {
  let exit: Exit | undefined
  void runner.exited.then((e) => (exit = e))
  return until(() => exit, 'npm run cluster to exit', timeoutMs)
}

/** Ctrl-C, so that a runner still running stops what it started; SIGKILL if it does not within 15 s. */
async function interrupt(runner: Child): Promise<void> {
  await runner.stop('SIGINT', 15_000)
}

/** What is left in a process group, as ps shows it (state Z: a zombie nobody has reaped). */
function group(pgid: number): string {
  return execSync('ps -eo pid,pgid,stat,args')
    .toString()
    .split('\n')
    .filter((line) => line.trim().split(/\s+/)[1] === String(pgid))
    .join('\n')
}

function alive(pid: number): boolean {
  try {
    process.kill(-pid, 0)
    return true
  } catch {
    return false
  }
}

describe.skipIf(!available)('npm run cluster', () => {
  let cluster: RunningCluster
  beforeAll(async () => {
    cluster = await startCluster()
  }, 150_000)
  afterAll(() => cluster?.killAll())

  /** The instance that answered a request through the balancer: its Lab-Instance header. */
  async function answeredBy(query: string): Promise<string> {
    const response = await fetch(new URL(`/api/join?${query}`, cluster.url))
    if (!response.ok) throw new Error(`/api/join?${query} answered ${response.status}: ${await response.text()}`)
    const instance = response.headers.get('lab-instance')
    if (!instance) throw new Error(`/api/join?${query} answered without Lab-Instance`)
    return instance
  }

  it('prints one URL, which serves the workbench, and the two instances behind it', async () => {
    expect([...cluster.instances.keys()]).toEqual(['a', 'b'])
    const response = await fetch(cluster.url)
    expect(response.status).toBe(200)
    expect(await response.text()).toContain('<title>Transport Lab')
  })

  it('spreads different sticky values over both instances and keeps each value on one', async () => {
    const values = Array.from({ length: 16 }, (_, i) => `panel-${i}`)
    const first = new Map<string, string>()
    for (const sticky of values) first.set(sticky, await answeredBy(`sticky=${sticky}`))
    expect(new Set(first.values())).toEqual(new Set(['a', 'b']))
    for (const sticky of values) expect(await answeredBy(`sticky=${sticky}`), sticky).toBe(first.get(sticky))
  })

  it('sends a request with ?node=b to b, and ?node=a to a, whatever its sticky value', async () => {
    for (const sticky of ['x', 'y', 'z']) {
      expect(await answeredBy(`node=b&sticky=${sticky}`)).toBe('b')
      expect(await answeredBy(`node=a&sticky=${sticky}`)).toBe('a')
    }
  })

  interface Received {
    type: string
    text?: string
    seq?: number
    instance?: string
    connectionId?: string
  }

  /** A WebSocket through the balancer, its 101 and everything it receives. */
  function openSocket(query: string) {
    const socket = new WebSocket(`${cluster.url.replace('http', 'ws')}ws?${query}`)
    const received: Received[] = []
    socket.on('message', (data) => received.push(JSON.parse((data as Buffer).toString()) as Received))
    const upgraded = new Promise<IncomingMessage>((resolve, reject) => {
      socket.once('upgrade', resolve)
      socket.once('error', reject)
    })
    const welcome = () => until(() => received.find((m) => m.type === 'welcome'), `the welcome (${query})`)
    return { socket, received, upgraded, welcome }
  }

  it('upgrades a WebSocket (101) and carries a chat message both ways', async () => {
    const { socket, received, upgraded, welcome } = openSocket('room=lobby&name=ws-through&sticky=w1')
    try {
      const answer = await upgraded
      expect(answer.statusCode).toBe(101)
      const instance = answer.headers['lab-instance']
      expect(['a', 'b']).toContain(instance)
      expect((await welcome()).instance).toBe(instance)
      socket.send(JSON.stringify({ type: 'send', room: 'lobby', text: 'across nginx' }))
      await until(() => received.some((m) => m.type === 'message' && m.text === 'across nginx'), 'the echo')
    } finally {
      socket.close()
    }
  })

  it("passes the client's Host, X-Forwarded-For and X-Forwarded-Proto on (the instance's record of the upgrade)", async () => {
    const { socket, welcome } = openSocket('room=lobby&name=forwarded&node=b')
    try {
      const { connectionId } = await welcome()
      const response = await fetch(new URL(`/api/wire/handshakes/${connectionId}?node=b`, cluster.url))
      const { websocket } = (await response.json()) as { websocket: { request: { headers: [string, string][] } } }
      const headers = Object.fromEntries(websocket.request.headers.map(([name, value]) => [name.toLowerCase(), value]))
      expect(headers).toMatchObject({
        host: new URL(cluster.url).host,
        'x-forwarded-for': '127.0.0.1',
        'x-forwarded-proto': 'http',
        upgrade: 'websocket',
      })
    } finally {
      socket.close()
    }
  })

  it("knows each client by the balancer's X-Forwarded-For: a request forwarded for another machine is not the instructor's", async () => {
    // Without INSTRUCTOR_CODE the server's own machine is the instructor; nginx appends its client (127.0.0.1 here).
    const reset = (headers: Record<string, string>) =>
      fetch(new URL('/api/wire/reset?node=a', cluster.url), { method: 'POST', headers })
    expect((await reset({ 'x-forwarded-for': '203.0.113.9' })).status).toBe(403)
    expect((await reset({})).status).toBe(200)
  })

  it('is one chat: a message sent to instance a reaches a WebSocket on instance b, at the same seq', async () => {
    const onA = openSocket('room=crossing&name=on-a&node=a')
    const onB = openSocket('room=crossing&name=on-b&node=b')
    try {
      expect((await onA.welcome()).instance).toBe('a')
      expect((await onB.welcome()).instance).toBe('b')
      onA.socket.send(JSON.stringify({ type: 'send', room: 'crossing', text: 'from a to b' }))
      const sent = await until(() => onA.received.find((m) => m.text === 'from a to b'), 'the echo on a')
      const crossed = await until(() => onB.received.find((m) => m.text === 'from a to b'), 'the message on b')
      expect(crossed.seq).toBe(sent.seq)
    } finally {
      onA.socket.close()
      onB.socket.close()
    }
  })

  it('keeps each Socket.IO polling session on one instance by its sticky value, on both instances', async () => {
    // Long polling only: every request of the session must reach the instance that holds it. Which instance a
    // sticky value lands on follows the instances' ports (nginx's consistent hash): sessions are opened until
    // both instances hold some (six at least), as a class's would be.
    const sockets: Array<ReturnType<typeof io>> = []
    const instances = new Set<string | undefined>()
    try {
      for (let i = 0; i < 6 || (instances.size < 2 && i < 24); i++) {
        const sticky = `sio-${i}`
        const socket = io(cluster.url, {
          forceNew: true,
          reconnection: false,
          transports: ['polling'],
          query: { sticky },
          auth: { protocol: 'lab', name: sticky, room: 'polling' },
        })
        sockets.push(socket)
        const welcome = await new Promise<{ instance?: string }>((resolve, reject) => {
          socket.once('welcome', resolve)
          socket.once('connect_error', reject)
        })
        instances.add(welcome.instance)
      }
      expect(instances).toEqual(new Set(['a', 'b']))
      // Several round trips per session (sends, acks, deliveries), each a request of its own.
      for (const [i, socket] of sockets.entries()) {
        const texts: string[] = []
        socket.on('message', (entry: { text: string }) => texts.push(entry.text))
        for (let n = 0; n < 3; n++)
          await socket.timeout(5000).emitWithAck('send', { room: 'polling', text: `${i}-${n}` })
        await until(() => texts.includes(`${i}-2`), `socket ${i}'s own third message`)
        expect(socket.connected).toBe(true)
      }
    } finally {
      for (const socket of sockets) socket.close()
    }
  })

  it("streams an SSE stream's first event as the instance writes it (nothing buffered)", async () => {
    let body = ''
    const stream = request(new URL('/sse?room=lobby&name=sse-through&sticky=s1', cluster.url), (response) => {
      expect(response.headers['content-type']).toMatch(/^text\/event-stream/)
      response.on('data', (chunk: Buffer) => (body += chunk.toString()))
    })
    stream.end()
    try {
      await until(() => body.includes('event: welcome'), 'the welcome event through the balancer', 5000)
    } finally {
      stream.destroy()
    }
  })

  it('sends what was pinned or hashed to instance a to b once a is killed (SIGKILL)', async () => {
    const onA = [] as string[]
    for (let i = 0; i < 64 && onA.length < 3; i++) if ((await answeredBy(`sticky=k${i}`)) === 'a') onA.push(`k${i}`)
    expect(onA, 'sticky values hashed to a').toHaveLength(3)
    const a = cluster.instances.get('a')!
    process.kill(a.pid, 'SIGKILL')
    await until(() => !alive(a.pid), 'instance a to be gone')
    for (const sticky of onA) expect(await answeredBy(`sticky=${sticky}`)).toBe('b')
    expect(await answeredBy('node=a')).toBe('b')
    expect(await answeredBy('node=b')).toBe('b')
  })

  it('stops every process on Ctrl-C (SIGINT) and exits 0', async () => {
    process.kill(cluster.runner.pid, 'SIGINT')
    expect(await exitOf(cluster.runner, 20_000)).toEqual({ code: 0, signal: null })
    const pids = [cluster.balancerPid, cluster.redisPid, ...[...cluster.instances.values()].map((i) => i.pid)]
    // The runner has waited for each of its children; anything they left in their groups got a SIGKILL, and the
    // system reaps it a moment later.
    await until(() => pids.every((pid) => !alive(pid)), 'every process group to be empty', 5000).catch(() => {})
    for (const pid of pids) expect(alive(pid), `pid ${pid}'s group still holds:\n${group(pid)}`).toBe(false)
  }, 30_000)
})

describe('npm run cluster, when it cannot start', () => {
  it('stops what has started on Ctrl-C while it starts, and exits 0', async () => {
    const runner = runCluster(['--port', '0'])
    const redisPid = () => Number(/redis-server on \S+ \(pid (\d+)\)/.exec(runner.output())?.[1] ?? 0)
    try {
      await until(() => redisPid() > 0 || runner.gone(), 'redis-server to be up', 30_000)
      // Its children by now: redis-server and the instances on their way up.
      const children = execSync(`ps -o pid= --ppid ${runner.pid}`).toString().trim().split(/\s+/).map(Number)
      expect(children).toContain(redisPid())
      process.kill(runner.pid, 'SIGINT')
      expect(await exitOf(runner)).toEqual({ code: 0, signal: null })
      expect(runner.output()).not.toMatch(/Transport Lab cluster:/)
      await until(() => children.every((pid) => !alive(pid)), 'its children to be gone', 5000).catch(() => {})
      for (const pid of children) expect(alive(pid), `pid ${pid}'s group still holds:\n${group(pid)}`).toBe(false)
    } finally {
      await interrupt(runner)
      if (redisPid() > 0 && alive(redisPid())) process.kill(-redisPid(), 'SIGKILL')
    }
  }, 60_000)

  it('names the package of a missing redis-server and exits 1', async () => {
    const runner = runCluster(['--port', '0'], { PATH: '/nonexistent' })
    try {
      expect(await exitOf(runner)).toEqual({ code: 1, signal: null })
      expect(runner.output()).toMatch(/redis-server not found.*apt-get install redis-server/)
    } finally {
      await interrupt(runner)
    }
  }, 60_000)

  it('says that a taken port is in use before it starts anything, exit 1', async () => {
    const taken = createServer()
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve))
    const { port } = taken.address() as AddressInfo
    const runner = runCluster(['--port', String(port)])
    try {
      expect(await exitOf(runner)).toEqual({ code: 1, signal: null })
      expect(runner.output()).toMatch(`127.0.0.1:${port} is already in use (set PORT to another port)`)
      expect(runner.output()).not.toMatch(/redis-server on/)
    } finally {
      await interrupt(runner)
      taken.close()
    }
  }, 60_000)

  it.skipIf(!available)(
    "shows an instance's output when it cannot start, stops redis-server and exits 1",
    async () => {
      const runner = runCluster(['--port', '0'], { LONG_POLL_TIMEOUT_MS: 'soon' })
      const redisPid = () => Number(/redis-server on \S+ \(pid (\d+)\)/.exec(runner.output())?.[1] ?? 0)
      try {
        expect(await exitOf(runner)).toEqual({ code: 1, signal: null })
        expect(runner.output()).toMatch(/could not start: instance [ab] exited at start/)
        expect(runner.output()).toMatch(/LONG_POLL_TIMEOUT_MS=soon is invalid/)
        expect(redisPid()).toBeGreaterThan(0)
        expect(alive(redisPid()), 'redis-server').toBe(false)
      } finally {
        await interrupt(runner)
        if (redisPid() > 0 && alive(redisPid())) process.kill(-redisPid(), 'SIGKILL')
      }
    },
    60_000,
  )
})

describe.skipIf(!hasNginx(needs))("the balancer's configuration", () => {
  it.each([1, 3, 26])('is one nginx accepts (nginx -t) for %i instance(s), on IPv4, IPv6 and both', async (count) => {
    const prefix = mkdtempSync(join(tmpdir(), 'lab-nginx-test-'))
    try {
      const instances = Array.from({ length: count }, (_, i) => ({
        id: instanceId(i),
        host: '127.0.0.1',
        port: 41000 + i,
      }))
      for (const host of ['127.0.0.1', '::1', '::']) {
        const conf = join(prefix, 'nginx.conf')
        writeFileSync(conf, balancerConfig({ instances, listen: { host, port: await freePort() }, prefix }))
        const check = spawnChild('nginx -t', findBinary('nginx')!, ['-t', '-p', prefix, '-c', conf, '-e', 'stderr'])
        expect(await exitOf(check), check.output()).toEqual({ code: 0, signal: null })
      }
    } finally {
      rmSync(prefix, { recursive: true, force: true })
    }
  })
})
