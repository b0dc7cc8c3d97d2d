// GET /api/join: the URLs a class opens from other machines, for the
// workbench's Invite card, and nothing when no other machine can reach it.
import { networkInterfaces } from 'node:os'
import { describe, expect, it } from 'vitest'
import { startServerProcess } from '../support/process.ts'
import { startServer } from '../support/server.ts'

interface JoinAnswer {
  host: string
  port: number
  urls: string[]
}

const externalIPv4 = Object.values(networkInterfaces())
  .flatMap((list) => list ?? [])
  .filter((i) => !i.internal && i.family === 'IPv4')
  .map((i) => i.address)

describe('GET /api/join', () => {
  it('offers no URL when the server listens on 127.0.0.1 only, and names that address', async () => {
    const server = await startServer()
    try {
      const response = await fetch(`${server.url}/api/join`)
      expect(response.status).toBe(200)
      expect(response.headers.get('cache-control')).toBe('no-store')
      expect(await response.json()).toEqual({ host: '127.0.0.1', port: server.port, urls: [] })
    } finally {
      await server.close()
    }
  })

  it.skipIf(externalIPv4.length === 0)(
    "offers each of the machine's network addresses, never localhost, when the server listens on every interface",
    async () => {
      const server = await startServerProcess({ HOST: '0.0.0.0' }, [], 30_000)
      try {
        const port = Number(new URL(server.url).port)
        const answer = (await (await fetch(`${server.url}/api/join`)).json()) as JoinAnswer
        expect(answer).toEqual({ host: '0.0.0.0', port, urls: externalIPv4.map((a) => `http://${a}:${port}/`) })
        // Every URL offered to the class opens the workbench.
        for (const url of answer.urls) expect((await fetch(url)).status).toBe(200)
      } finally {
        server.child.kill('SIGINT')
        await server.exited
      }
    },
    45_000,
  )
})
