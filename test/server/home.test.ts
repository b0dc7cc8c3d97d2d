// The endpoints page is where a student with only curl starts: every address it links must answer.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startServer, type RunningServer } from '../support/server.ts'

describe('the endpoints page', () => {
  let server: RunningServer
  beforeAll(async () => {
    server = await startServer()
  })
  afterAll(() => server?.close())

  it('links only addresses that answer, the measuring ones included', async () => {
    // Beside a built workbench the list is at /endpoints; without one it is the page at /.
    const listed = await fetch(`${server.url}/endpoints`)
    const page = listed.ok ? await listed.text() : await (await fetch(`${server.url}/`)).text()
    const links = [...page.matchAll(/href="(\/[^"]*)"/g)].map((m) => m[1]!)
    expect(links).toEqual(
      expect.arrayContaining(['/api/wire', '/api/limits', '/api/network', '/api/join', '/api/instructor/rooms']),
    )
    for (const link of links) {
      const res = await fetch(`${server.url}${link}`)
      expect(res.status, link).toBe(200)
    }
  })
})
