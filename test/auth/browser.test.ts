// The two channels only a browser shows honestly. The cookie: a page that
// logged in joins every transport with no token its script can see, which is
// how EventSource and a browser's WebSocket (no headers of their own) carry
// one. The Origin: a page on another site, whose requests Chromium itself
// labels, joins nothing, while the same page on an allowed origin can.
import { createServer, type Server } from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Browser, Page } from 'playwright-core'
import type { LogEntry } from '../../server/core/protocol.ts'
import { hasChromium, launchChromium } from '../support/browser.ts'
import { startServer, type RunningServer } from '../support/server.ts'

const TRANSPORTS = ['short-polling', 'long-polling', 'sse', 'websocket', 'socket.io'] as const
type Joins = Record<(typeof TRANSPORTS)[number], { joined: boolean; name?: string; detail?: string }>

/** Runs in the page: one join per transport to `lab`, as a page's own script would, and what each got. */
async function joinEveryTransport({ lab, room }: { lab: string; room: string }): Promise<Joins> {
  const result = {} as Joins
  result.websocket = await new Promise((resolve) => {
    const ws = new WebSocket(`${lab.replace('http', 'ws')}/ws?room=${room}`)
    ws.onmessage = (event) => {
      const message = JSON.parse(event.data as string) as { type: string; name: string }
      if (message.type !== 'welcome') return
      resolve({ joined: true, name: message.name })
      ws.close()
    }
    ws.onclose = (event) => resolve({ joined: false, detail: `closed ${event.code}` })
  })
  result.sse = await new Promise((resolve) => {
    const source = new EventSource(`${lab}/sse?room=${room}`, { withCredentials: true })
    source.addEventListener('welcome', (event) => {
      resolve({ joined: true, name: (JSON.parse(event.data as string) as { name: string }).name })
      source.close()
    })
    source.onerror = () => {
      if (source.readyState === EventSource.CLOSED) resolve({ joined: false, detail: 'stream failed' })
    }
  })
  for (const [transport, path] of [
    ['short-polling', '/poll'],
    ['long-polling', '/long-poll'],
  ] as const) {
    try {
      const res = await fetch(`${lab}${path}`, {
        method: 'POST',
        credentials: 'include',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ type: 'join', room }),
      })
      const body = (await res.json()) as { name?: string; code?: string }
      result[transport] = res.ok
        ? { joined: true, name: body.name }
        : { joined: false, detail: `${res.status} ${body.code}` }
    } catch (error) {
      result[transport] = { joined: false, detail: String(error) }
    }
  }
  const { io } = window as unknown as { io: typeof import('socket.io-client').io }
  result['socket.io'] = await new Promise((resolve) => {
    const socket = io(lab, { auth: { protocol: 'lab', room }, reconnection: false, withCredentials: true })
    socket.on('welcome', (welcome: { name: string }) => {
      resolve({ joined: true, name: welcome.name })
      socket.disconnect()
    })
    socket.on('connect_error', (error: Error & { data?: unknown }) =>
      resolve({ joined: false, detail: `${error.message} ${JSON.stringify(error.data ?? null)}` }),
    )
  })
  return result
}

describe.skipIf(!hasChromium)('Chromium', () => {
  let browser: Browser
  beforeAll(async () => {
    // A name for another site that still reaches this machine: Chromium labels its requests with it.
    browser = await launchChromium(['--host-resolver-rules=MAP evil.example 127.0.0.1'])
  })
  afterAll(async () => {
    await browser?.close()
  })

  describe('the HttpOnly cookie from /api/login', () => {
    let lab: RunningServer
    let page: Page
    beforeAll(async () => {
      lab = await startServer({ classCode: 'c0de', authSecret: 'the browser secret, 16+', maxClientsPerAddress: 100 })
      page = await browser.newPage()
      await page.goto(`${lab.url}/endpoints`)
      await page.addScriptTag({ url: '/socket.io/socket.io.js' })
    })
    afterAll(async () => {
      await page?.close()
      await lab?.close()
    })

    it('without it, a page joins no transport', async () => {
      const joins = await page.evaluate(joinEveryTransport, { lab: lab.url, room: 'before' })
      for (const transport of TRANSPORTS) expect(joins[transport], transport).toMatchObject({ joined: false })
      expect(joins['short-polling'].detail).toBe('401 LAB_ERR_AUTH')
      expect(joins['socket.io'].detail).toContain('LAB_ERR_AUTH')
    })

    it("after a login, the page joins all five under the token's name, and its script never sees the token", async () => {
      const login = await page.evaluate(async () => {
        const res = await fetch('/api/login', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ code: 'c0de', name: 'ann' }),
        })
        return { status: res.status, cookies: document.cookie }
      })
      expect(login).toEqual({ status: 200, cookies: '' })
      const joins = await page.evaluate(joinEveryTransport, { lab: lab.url, room: 'after' })
      for (const transport of TRANSPORTS) expect(joins[transport], transport).toEqual({ joined: true, name: 'ann' })
    })
  })

  describe('a page on another origin (default ALLOWED_ORIGINS, no class code: only the origin decides)', () => {
    let lab: RunningServer
    let site: Server
    let sitePort: number
    const joined: LogEntry[] = []
    beforeAll(async () => {
      lab = await startServer({ maxClientsPerAddress: 100 })
      lab.app.hub.onAppend((entry) => {
        if (entry.type === 'notice' && entry.event === 'join') joined.push(entry)
      })
      // Someone else's site: a page that loads the lab's own Socket.IO client, as a hijacking page would.
      site = createServer((_req, res) => {
        res.setHeader('content-type', 'text/html')
        res.end(`<!doctype html><title>a site</title><script src="${lab.url}/socket.io/socket.io.js"></script>`)
      })
      await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve))
      sitePort = (site.address() as { port: number }).port
    })
    afterAll(async () => {
      await new Promise((resolve) => site?.close(resolve))
      await lab?.close()
    })

    it('on evil.example, none of its five joins reaches a room', async () => {
      const page = await browser.newPage()
      await page.goto(`http://evil.example:${sitePort}/`)
      const joins = await page.evaluate(joinEveryTransport, { lab: lab.url, room: 'evil' })
      await page.close()
      for (const transport of TRANSPORTS) expect(joins[transport], transport).toMatchObject({ joined: false })
      expect(joins.websocket.detail).toBe('closed 1006')
      expect(joined.filter((entry) => entry.room === 'evil')).toEqual([])
    })

    it("the same page on localhost (this machine's own name) opens a WebSocket and joins", async () => {
      const page = await browser.newPage()
      await page.goto(`http://localhost:${sitePort}/`)
      const joins = await page.evaluate(joinEveryTransport, { lab: lab.url, room: 'local' })
      await page.close()
      // WebSockets are not bound by CORS: the origin check is all that stands between a page and the lab.
      expect(joins.websocket).toMatchObject({ joined: true })
      expect(joined.filter((entry) => entry.room === 'local').length).toBeGreaterThan(0)
    })
  })
})
