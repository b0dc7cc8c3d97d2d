// Several servers, one class: a token revoked on one server (a logout) ends
// its connections on every server, and no server takes it again, not even
// one started afterwards.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { hasRedis, startRedis, type RunningRedis } from '../support/redis.ts'
import { startServer, type RunningServer } from '../support/server.ts'
import { bearer, holdWith, loggedIn, type Held } from '../support/token-clients.ts'
import { until } from '../support/wait.ts'

const CODE = 'c0de-for-a-cluster'
const settings = { classCode: CODE, authSecret: 'one-secret-for-all-servers', maxClientsPerAddress: 0 }
const redisHere = hasRedis('the shared revocation tests')
let redis: RunningRedis
let a: RunningServer
let b: RunningServer
const held: Held[] = []

describe.skipIf(!redisHere)('a revoked token, across servers', () => {
  beforeAll(async () => {
    redis = await startRedis()
    a = await startServer({ ...settings, redisUrl: redis.url, instanceId: 'a' })
    b = await startServer({ ...settings, redisUrl: redis.url, instanceId: 'b' })
  })
  afterAll(async () => {
    for (const client of held) client.close()
    await a?.close()
    await b?.close()
    await redis?.stop()
  })

  it('a logout on server A ends the WebSocket that token holds on server B', async () => {
    const ann = await loggedIn(a.url, CODE, 'ann')
    const onB = await holdWith('websocket', { url: b.url, room: 'class', token: ann.token })
    held.push(onB)
    const res = await fetch(`${a.url}/api/logout`, { method: 'POST', headers: bearer(ann.token) })
    expect(res.status).toBe(200)
    const ending = await until(() => onB.ended(), 'the WebSocket on B to end')
    expect(ending).toMatchObject({ kind: 'websocket', code: 1008 })
    expect(onB.errors.map((e) => e.code)).toContain('LAB_ERR_AUTH')
    // And B refuses the token from now on.
    const again = await fetch(`${b.url}/poll?room=class`, { headers: bearer(ann.token) })
    expect(again.status).toBe(401)
  })

  it('a server started after the logout refuses the token too', async () => {
    const bob = await loggedIn(a.url, CODE, 'bob')
    await fetch(`${a.url}/api/logout`, { method: 'POST', headers: bearer(bob.token) })
    const late = await startServer({ ...settings, redisUrl: redis.url, instanceId: 'late' })
    try {
      await until(
        async () => (await fetch(`${late.url}/poll?room=class`, { headers: bearer(bob.token) })).status === 401,
        'the late server to refuse the revoked token',
      )
    } finally {
      await late.close()
    }
  })
})
