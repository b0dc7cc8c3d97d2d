// GET /api/cluster on a server that runs alone: it says so.
import { afterAll, beforeAll, expect, it } from 'vitest'
import { startServer, type RunningServer } from '../support/server.ts'

let server: RunningServer
beforeAll(async () => {
  server = await startServer()
})
afterAll(() => server.close())

it('answers that a server without REDIS_URL runs alone, and sends no Lab-Instance header', async () => {
  const res = await fetch(`${server.url}/api/cluster`)
  expect(await res.json()).toEqual({ instance: null, redis: null, instances: [] })
  expect(res.headers.get('lab-instance')).toBeNull()
})
