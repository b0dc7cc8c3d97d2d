// The short-poll interval a panel sets applies to the wait under way, not
// only to the next one: from 60 s to 100 ms, the next poll goes out at once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ShortPollingClient } from '../../ui/src/clients/polling.ts'
import { startServer, type RunningServer } from '../support/server.ts'
import { until } from '../support/wait.ts'

let server: RunningServer

beforeAll(async () => {
  server = await startServer()
})
afterAll(() => server.close())

describe('a short-polling client', () => {
  it('polls at once when its interval is shortened during a long wait, and keeps the new pace', async () => {
    const client = new ShortPollingClient({
      baseUrl: server.url,
      name: 'ann',
      room: 'interval',
      pollIntervalMs: 60_000,
    })
    client.start()
    try {
      // The join and the first poll answered (two frames down): the client now waits a minute for the next.
      await until(() => client.state === 'open' && client.stats.framesDown >= 2, 'the answer to the first poll')
      const before = client.stats.requests
      client.pollIntervalMs = 100
      client.gapChanged()
      // With the old wait kept, these polls would come a minute from now, long after this gives up.
      await until(() => client.stats.requests >= before + 3, 'three polls at the new interval', 10_000)
      expect(client.stats.requests).toBeGreaterThanOrEqual(before + 3)
    } finally {
      await client.stop()
    }
  })
})
