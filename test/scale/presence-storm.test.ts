// A crowd joining one room through Redis: two servers on one real
// redis-server, a small presence budget, real WebSocket clients. The joins on
// server A go out as presence batches instead of one notice each, and every
// server still knows exactly who is in the room, even when a batch names more
// members than an entry's lists hold. What a storm costs is measured by
// `npm run bench` (the joins scenario); this file checks that presence stays
// true.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Redis } from 'ioredis'
import type { LogEntry, Member, Presence } from '../../server/core/protocol.ts'
import { WELCOME_MEMBERS_MAX } from '../../server/core/names.ts'
import { createClient, type LabClient } from '../support/clients.ts'
import { startServerProcess } from '../support/process.ts'
import { appendUnheard, requireBinary, startRedis, type RunningRedis } from '../support/redis.ts'
import { startServer, type RunningServer } from '../support/server.ts'
import { until } from '../support/wait.ts'

const hasRedis = requireBinary('redis-server', 'redis-server')
const ROOM = 'storm'
/** More than one presence entry's lists can name, so that a batch must be applied from its whole lists. */
const CROWD = 2 * WELCOME_MEMBERS_MAX + 50

let redis: RunningRedis
let admin: Redis
let a: RunningServer
let b: RunningServer
let watcher: LabClient
let crowd: LabClient[] = []

const namesOn = (server: RunningServer) =>
  server.app.hub
    .presence(ROOM)
    .map((m) => m.name)
    .sort()
const inRedis = async () =>
  (await admin.hvals(`lab:{${ROOM}}:presence`)).map((json) => (JSON.parse(json) as Member).name).sort()
const presenceEntries = (client: LabClient) =>
  client.entries.filter((e): e is Presence => e.type === 'presence' && e.room === ROOM)
const told = (client: LabClient) =>
  client.entries.filter((e: LogEntry) => e.room === ROOM && (e.type === 'notice' || e.type === 'presence')).length

describe.skipIf(!hasRedis)('a join storm through the shared log', () => {
  beforeAll(async () => {
    redis = await startRedis()
    admin = new Redis(redis.url)
    admin.on('error', () => {})
    // 100 deliveries a second: after a dozen single notices, the crowd of 250 waits in batches of seconds.
    const settings = { redisUrl: redis.url, presenceRate: 100, maxClientsPerAddress: 0 }
    a = await startServer({ ...settings, instanceId: 'a' })
    b = await startServer({ ...settings, instanceId: 'b' })
    watcher = createClient('websocket', b.url, 'watcher')
    await watcher.join(ROOM)
  })
  afterAll(async () => {
    await Promise.all([watcher, ...crowd].map((c) => c?.close().catch(() => {})))
    admin?.disconnect()
    await a?.close()
    await b?.close()
    await redis?.stop()
  })

  it('tells the room of a crowd joining on another server in presence batches, and every server knows each member', async () => {
    crowd = Array.from({ length: CROWD }, (_, i) => createClient('websocket', a.url, `s${String(i).padStart(3, '0')}`))
    await Promise.all(crowd.map((c) => c.join(ROOM)))
    const everyone = [...crowd.map((c) => c.name), 'watcher'].sort()
    await until(async () => (await inRedis()).length === everyone.length, 'Redis to hold every member', 20_000)
    expect(await inRedis()).toEqual(everyone)
    await until(() => namesOn(b).length === everyone.length, 'server B to count the crowd')
    expect(namesOn(a)).toEqual(everyone)
    expect(namesOn(b)).toEqual(everyone)
    // The watcher was told in batches, one of them larger than its lists: its count is the room's, whole.
    await until(() => presenceEntries(watcher).at(-1)?.memberCount === everyone.length, 'the last batch to count all')
    expect(presenceEntries(watcher).some((e) => e.joins > e.joined.length)).toBe(true)
    expect(told(watcher)).toBeLessThan(CROWD / 4)
  })

  it('takes every leaver out of presence on both servers when half the crowd goes at once', async () => {
    const leaving = crowd.filter((_, i) => i % 2 === 0)
    const staying = crowd.filter((_, i) => i % 2 === 1)
    await Promise.all(leaving.map((c) => c.close()))
    const names = [...staying.map((c) => c.name), 'watcher'].sort()
    await until(() => namesOn(b).length === names.length, 'server B to count the stayers', 20_000)
    await until(async () => (await inRedis()).length === names.length, 'Redis to count the stayers')
    expect(namesOn(a)).toEqual(names)
    expect(namesOn(b)).toEqual(names)
    expect(await inRedis()).toEqual(names)
    await until(() => presenceEntries(watcher).at(-1)?.memberCount === names.length, 'a batch counting the stayers')
  })

  it('reads who is in the room back from Redis when it missed a batch whose lists are capped', async () => {
    // A batch of ghosts that server B misses, as when its subscription was down, and finds while filling the
    // hole the next entry leaves.
    const ghosts = Array.from({ length: WELCOME_MEMBERS_MAX + 20 }, (_, i) => ({
      clientId: `ghost-${i}`,
      name: `ghost-${String(i).padStart(3, '0')}`,
      transport: 'websocket',
      instance: 'gone',
    }))
    const rest = {
      joined: ghosts.slice(0, WELCOME_MEMBERS_MAX),
      left: [],
      joins: ghosts.length,
      leaves: 0,
      memberCount: 0,
      serverAt: Date.now(),
    }
    await appendUnheard(admin, ROOM, 'presence', rest, ghosts)
    const before = namesOn(b)
    const speaker = crowd[1]!
    await speaker.send(ROOM, 'after the ghosts')
    await until(() => namesOn(b).length === before.length + ghosts.length, 'server B to read the ghosts back')
    expect(namesOn(b)).toEqual([...before, ...ghosts.map((g) => g.name)].sort())
    // The count the script wrote is Redis's own, whatever the writer said.
    const batch = await until(
      () => presenceEntries(watcher).find((e) => e.joined[0]?.clientId === ghosts[0]!.clientId),
      'the watcher to get the batch',
    )
    expect(batch.joins).toBe(ghosts.length)
    expect(batch.memberCount).toBe(before.length + ghosts.length)
  })

  it("lets a stopped server's crowd leave in one presence entry, and every server forgets them", async () => {
    const doomed = await startServerProcess({
      REDIS_URL: redis.url,
      INSTANCE_ID: 'doomed',
      NETWORK_PORT: '-1',
      MAX_CLIENTS_PER_ADDRESS: '0',
    })
    const stranded: LabClient[] = []
    try {
      for (let i = 0; i < 20; i++) stranded.push(createClient('websocket', doomed.url, `doomed-${i}`))
      await Promise.all(stranded.map((c) => c.join(ROOM)))
      const before = namesOn(b).filter((name) => !name.startsWith('doomed-'))
      await until(() => namesOn(b).length === before.length + stranded.length, 'server B to count them', 20_000)
      doomed.child.kill('SIGKILL')
      await doomed.exited
      // The servers left notice it within INSTANCE_TTL_MS + REAP_EVERY_MS; one of them tells the room.
      const gone = await until(
        () => presenceEntries(watcher).find((e) => e.leaves === stranded.length),
        'one presence entry for all of them',
        20_000,
      )
      expect(gone.left.map((m) => m.name).sort()).toEqual(stranded.map((c) => c.name).sort())
      expect(gone.left.every((m) => m.instance === 'doomed')).toBe(true)
      expect(gone.memberCount).toBe(before.length)
      await until(
        () => namesOn(a).length === before.length && namesOn(b).length === before.length,
        'both to forget them',
      )
      expect(await inRedis()).toEqual(before)
    } finally {
      doomed.child.kill('SIGKILL')
      await Promise.all(stranded.map((c) => c.close().catch(() => {})))
    }
  }, 60_000)
})
