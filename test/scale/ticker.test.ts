// The ticker room with two servers: one of them ticks for the whole cluster
// (the one whose name comes first among its members' servers), not one per
// server, and the other takes over when that one's members leave.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { TICKER_ROOM } from '../../server/core/ticker.ts'
import { createClient, messagesIn, type LabClient } from '../support/clients.ts'
import { hasRedis, startRedis, type RunningRedis } from '../support/redis.ts'
import { startServer, type RunningServer } from '../support/server.ts'
import { until } from '../support/wait.ts'

const redisHere = hasRedis('the cluster ticker tests')
let redis: RunningRedis
let a: RunningServer
let b: RunningServer
const updatesIn = (client: LabClient) => messagesIn(client, TICKER_ROOM).filter((m) => m.from.transport === 'server')

describe.skipIf(!redisHere)('the ticker room on two servers', () => {
  beforeAll(async () => {
    redis = await startRedis()
    a = await startServer({ redisUrl: redis.url, instanceId: 'a', tickerHz: 20 })
    b = await startServer({ redisUrl: redis.url, instanceId: 'b', tickerHz: 20 })
  })
  afterAll(async () => {
    await a?.close()
    await b?.close()
    await redis?.stop()
  })

  it('ticks from one server only while members are on both, and from the other once they are on it alone', async () => {
    const onA = createClient('websocket', a.url, 'on-a')
    const onB = createClient('websocket', b.url, 'on-b')
    try {
      await onB.join(TICKER_ROOM)
      await onA.join(TICKER_ROOM)
      const from = updatesIn(onB).length
      await until(() => updatesIn(onB).length >= from + 20, 'twenty updates')
      const both = updatesIn(onB).slice(from)
      // Once both are members, every update comes from a: one ticker, so seqs are not doubled up.
      const settled = both.slice(both.findIndex((m) => m.from.instance === 'a'))
      expect(settled.length).toBeGreaterThan(10)
      expect(new Set(settled.map((m) => m.from.instance))).toEqual(new Set(['a']))
      await onA.close()
      const after = updatesIn(onB).length
      await until(
        () =>
          updatesIn(onB)
            .slice(after)
            .some((m) => m.from.instance === 'b'),
        'b to take over',
      )
    } finally {
      await onA.close()
      await onB.close()
    }
  })
})
