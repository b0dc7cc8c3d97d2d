// Faults end to end, with real processes: redis-server, two instances and
// nginx in front (faults-cluster.ts), and the workbench's own clients of all
// five transports going through the balancer, reconnecting and resuming by
// themselves (faults-clients.ts). shared-log.test.ts proves the same
// guarantees at the level of one server without a balancer; here they must
// hold for a user whose instance dies or whose Redis restarts.
import { createServer, type Server, type Socket } from 'node:net'
import { readdirSync, readFileSync } from 'node:fs'
import { delimiter } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { TRANSPORTS, type ChatMessage } from '../../server/core/protocol.ts'
import { spawnChild, type Child, type Exit } from '../../cluster/children.ts'
import { hasNginx } from '../support/nginx.ts'
import { runServerCommand } from '../support/process.ts'
import { hasRedis } from '../support/redis.ts'
import { until } from '../support/wait.ts'
import { fakeRedisServer, startFaultCluster, stickyFor, type FaultCluster } from './faults-cluster.ts'
import { shownTexts, stickyClient, type Watched } from './faults-clients.ts'

const hasBinaries = hasRedis('the fault tests') && hasNginx('the fault tests')

const watched: Watched[] = []
function client(...args: Parameters<typeof stickyClient>): Watched {
  const made = stickyClient(...args)
  watched.push(made)
  made.client.start()
  return made
}
const opened = (...ws: Watched[]) =>
  until(() => ws.every((w) => w.client.state === 'open'), `${ws.map((w) => w.transport).join(', ')} to be open`, 15_000)

/** Each message's seq strictly after the one before: no repeat, nothing out of order. */
const inSeqOrder = (messages: ChatMessage[]) => messages.every((m, i) => i === 0 || m.seq > messages[i - 1]!.seq)
const shownMessages = (w: Watched) => w.shown.filter((e): e is ChatMessage => e.type === 'message')

afterEach(async () => {
  await Promise.all(watched.splice(0).map((w) => w.client.stop().catch(() => {})))
})

/**
 * Instances a and b on one Redis behind nginx for the describe block that calls it, with no per-connection rate
 * limit (the senders' steady pace is the test's, not a class's). Started in beforeAll: call it inside the tests.
 */
function twoInstances(): () => FaultCluster {
  let started: FaultCluster | undefined
  beforeAll(async () => {
    started = await startFaultCluster(['a', 'b'], { MESSAGE_RATE: '0' })
  }, 60_000)
  afterAll(async () => {
    await started?.stop()
  })
  return () => {
    if (!started) throw new Error('the cluster has not started')
    return started
  }
}

describe.skipIf(!hasBinaries)('an instance killed with SIGKILL while a sender is active', () => {
  const cluster = twoInstances()

  it('moves its clients of every transport to the other instance, each seeing every message once, in seq order', async () => {
    const room = 'failover'
    const total = 80
    const paceMs = 25
    const [victim, survivor] = cluster().instances as [FaultCluster['instances'][0], FaultCluster['instances'][0]]

    const readers = await Promise.all(
      TRANSPORTS.map(async (transport) =>
        client(transport, {
          baseUrl: cluster().url,
          name: `reader-${transport}`,
          room,
          sticky: await stickyFor(cluster().url, victim.id, `reader-${transport}`),
        }),
      ),
    )
    const sender = client('websocket', {
      baseUrl: cluster().url,
      name: 'sender',
      room,
      sticky: await stickyFor(cluster().url, survivor.id, 'sender'),
    })
    await opened(...readers, sender)
    for (const reader of readers) expect(reader.client.welcome?.instance, reader.transport).toBe(victim.id)
    expect(sender.client.welcome?.instance).toBe(survivor.id)

    const texts = Array.from({ length: total }, (_, i) => `m${i}`)
    const outcomes: Awaited<ReturnType<typeof sender.client.send>>[] = []
    const sending = (async () => {
      for (const text of texts) {
        outcomes.push(await sender.client.send(text))
        // A person typing, not a flood: the kill lands between two sends.
        await new Promise((resolve) => setTimeout(resolve, paceMs))
      }
    })()

    await until(() => readers.every((r) => shownTexts(r).includes('m15')), 'every reader to have m15', 10_000)
    victim.child.kill()
    await victim.child.exited
    const killedAfter = outcomes.length

    await sending
    expect(outcomes.length - killedAfter, 'messages sent after the kill').toBeGreaterThan(20)
    expect(outcomes.filter((o) => o.status !== 'sent')).toEqual([])

    for (const reader of readers) {
      await until(
        () => shownTexts(reader).includes(texts.at(-1)!),
        `${reader.transport} to show the last message after moving`,
        20_000,
      )
      const shown = shownMessages(reader)
      expect(
        shown.map((m) => m.text),
        `${reader.transport}: 0 lost, 0 duplicated, 0 reordered`,
      ).toEqual(texts)
      expect(inSeqOrder(shown), `${reader.transport} in seq order`).toBe(true)
      // The client drops a repeat by its cursor: what the server sent, before that, must not repeat either.
      const wireSeqs = reader.wire.map((m) => m.seq)
      expect(new Set(wireSeqs).size, `${reader.transport}: no message sent twice`).toBe(wireSeqs.length)
      expect(inSeqOrder(reader.wire), `${reader.transport}: the wire in seq order`).toBe(true)
      expect(reader.client.welcome, `${reader.transport}'s welcome after the move`).toMatchObject({
        instance: survivor.id,
        recovered: true,
      })
      expect(reader.historyLost, `${reader.transport} told of no loss`).toBe(0)
      // Every resume from a cursor, the move's included, said so: none of them lost anything.
      expect(
        reader.resumes.slice(1).map(({ welcome }) => welcome.recovered),
        reader.transport,
      ).not.toContain(false)
    }
  }, 90_000)
})

describe.skipIf(!hasBinaries)('Redis killed and restarted empty under a running cluster', () => {
  const cluster = twoInstances()

  it('refuses every send while Redis is down, keeps none of them, and tells every client the history was lost once it is back', async () => {
    const room = 'redis-restart'
    // Clients of every transport, spread over both instances.
    const clients = await Promise.all(
      TRANSPORTS.map(async (transport, i) =>
        client(transport, {
          baseUrl: cluster().url,
          name: `user-${transport}`,
          room,
          sticky: await stickyFor(cluster().url, cluster().instances[i % 2]!.id, `user-${transport}`),
        }),
      ),
    )
    await opened(...clients)
    expect(new Set(clients.map((c) => c.client.welcome?.instance))).toEqual(new Set(['a', 'b']))
    const before = await clients[0]!.client.send('before the outage')
    expect(before).toMatchObject({ status: 'sent' })
    for (const c of clients)
      await until(() => shownTexts(c).includes('before the outage'), `${c.transport} to have the first message`)
    const oldEpoch = clients[0]!.client.cursor!.epoch

    await cluster().redis.kill()
    try {
      // Every transport's send, on both instances: refused with the error's code, none acknowledged.
      for (const c of clients) {
        const outcome = await c.client.send(`during the outage over ${c.transport}`)
        expect(outcome, c.transport).toMatchObject({ status: 'refused', code: 'LAB_ERR_UNAVAILABLE' })
        if (['short-polling', 'long-polling', 'sse'].includes(c.transport))
          expect(outcome, c.transport).toMatchObject({ httpStatus: 503 })
      }
    } finally {
      await cluster().redis.restart()
    }

    // The instances find Redis again by themselves: a send over either one is taken.
    for (const instance of cluster().instances) {
      await until(
        async () => {
          const res = await fetch(`${cluster().url}/poll?node=${instance.id}`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ type: 'send', room, text: `after the outage via ${instance.id}`, name: 'curl' }),
          })
          await res.body?.cancel()
          return res.status === 200
        },
        `instance ${instance.id} to take a send again`,
        20_000,
      )
    }

    for (const c of clients) {
      await until(
        () => shownTexts(c).includes('after the outage via b') && c.client.state === 'open',
        `${c.transport} to be back with the new history`,
        20_000,
      )
      expect(c.historyLost, `${c.transport} told the history was lost`).toBeGreaterThan(0)
      expect(c.client.cursor?.epoch, c.transport).not.toBe(oldEpoch)
    }
    for (const c of clients) {
      // Never recovered: true across epochs, which would be a gap said to be none.
      const dishonest = c.resumes.filter(
        ({ from, welcome }) => welcome.recovered && from && from.epoch !== welcome.epoch,
      )
      expect(dishonest, c.transport).toEqual([])
    }

    // Chat works again across the instances: a message from each instance reaches every client.
    const onA = clients.find((c) => c.client.welcome?.instance === 'a')!
    const onB = clients.find((c) => c.client.welcome?.instance === 'b')!
    expect(await onA.client.send('from a, after')).toMatchObject({ status: 'sent' })
    expect(await onB.client.send('from b, after')).toMatchObject({ status: 'sent' })
    for (const c of clients) {
      await until(
        () => ['from a, after', 'from b, after'].every((t) => shownTexts(c).includes(t)),
        `${c.transport} to have both messages after the outage`,
        10_000,
      )
      const shown = shownMessages(c).filter((m) => m.epoch !== oldEpoch)
      expect(inSeqOrder(shown), c.transport).toBe(true)
      // Refused then kept would be worse than lost: nothing sent during the outage ever reached anyone.
      const kept = c.wire.filter((m) => m.text.startsWith('during the outage')).map((m) => m.text)
      expect(kept, c.transport).toEqual([])
    }

    // The push clients were ended when the new epoch began, and resumed from the old one: their welcome said so.
    for (const c of clients.filter((c) => ['sse', 'websocket', 'socket.io'].includes(c.transport))) {
      const resumed = c.resumes.find(({ from, welcome }) => from?.epoch === oldEpoch && welcome.epoch !== oldEpoch)
      expect(resumed?.welcome, `${c.transport}'s welcome after the outage`).toMatchObject({ recovered: false })
    }
  }, 90_000)
})

// Needs no redis-server: the Redis here is a bare TCP server that never replies.
describe('a Redis that accepts connections but never answers', () => {
  let silent: Server
  const sockets = new Set<Socket>()
  beforeAll(async () => {
    silent = createServer((socket) => {
      sockets.add(socket)
      socket.on('close', () => sockets.delete(socket))
    })
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
  })
  afterAll(async () => {
    for (const socket of sockets) socket.destroy()
    await new Promise((resolve) => silent.close(resolve))
  })

  it('stops an instance with a clear message and status 1 within a bound, never a hang', async () => {
    const port = (silent.address() as { port: number }).port
    const started = Date.now()
    const { code, output } = await runServerCommand([], {
      PORT: '0',
      NETWORK_PORT: '-1',
      REDIS_URL: `redis://127.0.0.1:${port}`,
    })
    expect(code).toBe(1)
    expect(output).toMatch(new RegExp(`cannot reach Redis at redis://127\\.0\\.0\\.1:${port}`))
    // Its own deadline is 6 s of retries; the rest is a busy machine starting Node and tsx.
    expect(Date.now() - started).toBeLessThan(30_000)
  }, 45_000)
})

describe.skipIf(!hasBinaries)('npm run cluster, when its Redis does not answer', () => {
  /** cluster/run.ts as its own process, as cluster.test.ts runs it, with `dir` first on PATH. */
  function runCluster(dir: string): Child {
    return spawnChild('cluster', process.execPath, ['--import', 'tsx', 'cluster/run.ts', '--port', '0'], {
      cwd: fileURLToPath(new URL('../..', import.meta.url)),
      env: { ...process.env, LOG_LEVEL: 'warn', PATH: `${dir}${delimiter}${process.env.PATH ?? ''}` },
    })
  }

  it.each([
    {
      mode: 'silent' as const,
      says: /could not start: timed out after \d+ ms waiting for redis-server on 127\.0\.0\.1:\d+ to answer PING/,
    },
    {
      mode: 'answers-once-then-silent' as const,
      says: /could not start: instance [ab] exited at start \(code 1\)[\s\S]*cannot reach Redis at redis:\/\/127\.0\.0\.1:\d+/,
    },
    {
      mode: 'answers-once-then-closed' as const,
      says: /could not start: instance [ab] exited at start \(code 1\)[\s\S]*cannot reach Redis at redis:\/\/127\.0\.0\.1:\d+ \(connect ECONNREFUSED/,
    },
  ])(
    'exits 1 with a clear error when redis-server is $mode, and leaves nothing running',
    async ({ mode, says }) => {
      const fake = fakeRedisServer(mode)
      const runner = runCluster(fake.dir)
      let exit: Exit | undefined
      void runner.exited.then((e) => (exit = e))
      try {
        expect(await until(() => exit, 'npm run cluster to exit', 100_000)).toEqual({ code: 1, signal: null })
        expect(runner.output()).toMatch(says)
        expect(processesOf(fake.dir), 'the fake redis-server still running').toEqual([])
      } finally {
        await runner.stop('SIGINT', 15_000)
        // Whatever the runner failed to stop is the test's to stop.
        for (const pid of processesOf(fake.dir)) process.kill(pid, 'SIGKILL')
        fake.remove()
      }
    },
    120_000,
  )
})

/** The processes whose command line names something in `dir` (Linux's /proc). */
function processesOf(dir: string): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(dir)
      } catch {
        return false
      }
    })
    .map(Number)
}
