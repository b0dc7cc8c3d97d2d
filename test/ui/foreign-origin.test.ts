// A page on another site, in Chromium, tries the lab's five transports: a
// POST to /poll, an EventSource on /sse, a WebSocket on /ws and Socket.IO
// (its long polling and its WebSocket). The browser names the page in the
// Origin header and a page cannot forge it, so the server refuses each with
// 403 LAB_ERR_ORIGIN, read here on the server's side of the socket, and no
// member joins. Listed in ALLOWED_ORIGINS, the same page gets through. And the
// login cookie stays home: the other site's WebSocket upgrade carries none,
// even from the browser that logged in. (That holds in this Chromium even for
// a SameSite=None cookie, tried once: its third-party cookie rules withhold it
// too. SameSite=Strict is what keeps it home in a browser that allows them.)
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import type { Duplex } from 'node:stream'
import { createRequire } from 'node:module'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Browser, Page } from 'playwright-core'
import { buildUi, uiIsStale } from '../../ui/build.ts'
import { hasChromium, launchChromium } from '../support/browser.ts'
import { startServer, type RunningServer } from '../support/server.ts'
import { until } from '../support/wait.ts'

const EVIL_HOST = 'evil.example'
const ROOM = 'heist'
// The package's browser build: its exports name no subpath for it, so it is found beside the package's entry.
const socketIoClient = readFileSync(
  join(dirname(createRequire(import.meta.url).resolve('socket.io-client')), '../../dist/socket.io.min.js'),
  'utf8',
)

/** What the server answered one request or upgrade: as it wrote it, before it reached the socket. */
interface Answer {
  upgrade: boolean
  method: string
  path: string
  origin: string | undefined
  cookie: string | undefined
  status: number
  /** The error code of a JSON error body, if the answer had one. */
  code: string | undefined
}

/** Records the lab server's answers: the first listener on its requests and upgrades, wrapping what writes them. */
function recordAnswers(server: Server): Answer[] {
  const answers: Answer[] = []
  const base = (req: IncomingMessage, upgrade: boolean) => ({
    upgrade,
    method: req.method ?? '',
    path: req.url ?? '',
    origin: req.headers.origin,
    cookie: req.headers.cookie,
  })
  server.prependListener('request', (req: IncomingMessage, res: ServerResponse) => {
    // Listed at its head, so that a stream (SSE) is seen long before it ends; its end adds the body's code.
    let answer: Answer | undefined
    const answered = (status: number) => {
      if (!answer) answers.push((answer = { ...base(req, false), status, code: undefined }))
      return answer
    }
    const writeHead = res.writeHead.bind(res) as (...args: unknown[]) => ServerResponse
    res.writeHead = (status: number, ...rest: unknown[]) => {
      answered(status)
      return writeHead(status, ...rest)
    }
    const end = res.end.bind(res) as (...args: unknown[]) => ServerResponse
    res.end = ((chunk?: unknown, ...rest: unknown[]) => {
      answered(res.statusCode).code ??= codeIn(chunk)
      return end(chunk, ...rest)
    }) as typeof res.end
  })
  server.prependListener('upgrade', (req: IncomingMessage, socket: Duplex) => {
    let seen = false
    const head = (data: unknown) => {
      if (seen || data === undefined) return
      seen = true
      const text = textOf(data)
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0)
      answers.push({ ...base(req, true), status, code: codeIn(text.split('\r\n\r\n')[1]) })
    }
    const write = socket.write.bind(socket) as (...args: unknown[]) => boolean
    socket.write = ((data: unknown, ...rest: unknown[]) => {
      head(data)
      return write(data, ...rest)
    }) as typeof socket.write
    const end = socket.end.bind(socket) as (...args: unknown[]) => Duplex
    socket.end = ((data?: unknown, ...rest: unknown[]) => {
      if (typeof data !== 'function') head(data)
      return end(data, ...rest)
    }) as typeof socket.end
  })
  return answers
}

/** What was written, as text: a string or a Buffer (anything else, a callback, is nothing). */
function textOf(data: unknown): string {
  if (typeof data === 'string') return data
  return Buffer.isBuffer(data) ? data.toString('latin1') : ''
}

function codeIn(body: unknown): string | undefined {
  try {
    const parsed = JSON.parse(textOf(body)) as { code?: unknown }
    return typeof parsed.code === 'string' ? parsed.code : undefined
  } catch {
    return undefined
  }
}

/**
 * The other site's page: it tries each transport of the lab named in its
 * query (`only=ws`: the WebSocket alone) and writes what it saw in `window.tried`.
 */
const EVIL_PAGE = `<!doctype html><title>Not the lab</title>
<script src="/socket.io.min.js"></script>
<script>
  const params = new URLSearchParams(location.search)
  const lab = params.get('lab')
  const only = params.get('only')
  const room = ${JSON.stringify(ROOM)}
  window.tried = {}
  const note = (what, outcome) => { window.tried[what] = outcome }
  if (!only) {
    fetch(lab + '/poll', { method: 'POST', mode: 'no-cors', headers: { 'content-type': 'text/plain' },
      body: JSON.stringify({ type: 'join', room, name: 'mallory' }) })
      .then(() => note('poll', 'answered'), (e) => note('poll', String(e)))
    const source = new EventSource(lab + '/sse?room=' + room + '&name=mallory')
    source.addEventListener('welcome', () => note('sse', 'welcome'))
    source.onerror = () => { note('sse', 'error'); source.close() }
    for (const transports of [['polling'], ['websocket']]) {
      const socket = io(lab, { transports, reconnection: false, auth: { protocol: 'lab', name: 'mallory', room } })
      socket.on('welcome', () => note('socket.io ' + transports[0], 'welcome'))
      socket.on('connect_error', (e) => note('socket.io ' + transports[0], String(e.message)))
    }
  }
  const ws = new WebSocket(lab.replace(/^http/, 'ws') + '/ws?room=' + room + '&name=mallory')
  ws.onmessage = (e) => { if (JSON.parse(e.data).type === 'welcome') note('ws', 'welcome') }
  ws.onclose = (e) => note('ws', 'close ' + e.code)
</script>`

function startEvilSite(): Promise<{ server: Server; origin: string }> {
  const server = createServer((req, res) => {
    if (req.url === '/socket.io.min.js') {
      res.writeHead(200, { 'content-type': 'text/javascript' }).end(socketIoClient)
      return
    }
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(EVIL_PAGE)
  })
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      resolve({ server, origin: `http://${EVIL_HOST}:${port}` })
    }),
  )
}

describe.skipIf(!hasChromium)('a page on another site', () => {
  let evil: { server: Server; origin: string }
  let browser: Browser

  beforeAll(async () => {
    if (uiIsStale()) await buildUi()
    evil = await startEvilSite()
    // The other site gets a name of its own, served from this machine: a cross-site page as the browser sees one.
    browser = await launchChromium([`--host-resolver-rules=MAP ${EVIL_HOST} 127.0.0.1`])
  }, 120_000)

  afterAll(async () => {
    await browser?.close()
    await new Promise((resolve) => evil?.server.close(resolve))
  })

  /** The lab's answers to the other site's page, by transport. */
  function fromEvil(answers: Answer[]) {
    const from = answers.filter((a) => a.origin === evil.origin)
    return {
      poll: from.find((a) => a.method === 'POST' && a.path.startsWith('/poll')),
      sse: from.find((a) => a.path.startsWith('/sse')),
      ws: from.find((a) => a.upgrade && a.path.startsWith('/ws')),
      'socket.io polling': from.find((a) => !a.upgrade && a.path.startsWith('/socket.io/')),
      'socket.io websocket': from.find((a) => a.upgrade && a.path.startsWith('/socket.io/')),
    }
  }

  /** Waits until the server has answered every transport the other page tried, and returns those answers. */
  function answeredEverywhere(answers: Answer[]) {
    return until(
      () => {
        const byTransport = fromEvil(answers)
        return Object.values(byTransport).every(Boolean) && byTransport
      },
      'an answer to every transport the page tried',
      15_000,
    )
  }

  async function visit(lab: RunningServer, query = ''): Promise<Page> {
    const page = await browser.newPage()
    await page.goto(`${evil.origin}/?lab=${encodeURIComponent(lab.url)}${query}`)
    return page
  }

  it('is refused on all five transports with 403 LAB_ERR_ORIGIN, and no member joins', async () => {
    const lab = await startServer()
    try {
      const answers = recordAnswers(lab.app.server)
      const page = await visit(lab)
      const seen = await answeredEverywhere(answers)
      for (const [transport, answer] of Object.entries(seen))
        expect({ transport, status: answer!.status, code: answer!.code }).toEqual({
          transport,
          status: 403,
          code: 'LAB_ERR_ORIGIN',
        })
      expect(answers.filter((a) => a.origin === evil.origin && a.status !== 403)).toEqual([])
      expect(lab.app.hub.members(ROOM)).toEqual([])
      await page.close()
    } finally {
      await lab.close()
    }
  }, 60_000)

  it('gets through where ALLOWED_ORIGINS lists it: the WebSocket and Socket.IO join, nothing is refused for its origin', async () => {
    const lab = await startServer({ allowedOrigins: evil.origin })
    try {
      const answers = recordAnswers(lab.app.server)
      const page = await visit(lab)
      await until(
        () => {
          const transports = new Set(lab.app.hub.members(ROOM).map((m) => m.transport))
          return transports.has('websocket') && transports.has('socket.io')
        },
        'the WebSocket and Socket.IO members of the other page',
        15_000,
      )
      const seen = await answeredEverywhere(answers)
      // Past the origin check, each meets the lab's other rules: a JSON POST needs CORS this lab does not offer.
      expect(seen.poll!.status).toBe(415)
      expect(seen.sse!.status).toBe(200)
      expect(seen.ws!.status).toBe(101)
      expect(seen['socket.io polling']!.status).toBe(200)
      expect(seen['socket.io websocket']!.status).toBe(101)
      expect(answers.filter((a) => a.code === 'LAB_ERR_ORIGIN')).toEqual([])
      await page.close()
    } finally {
      await lab.close()
    }
  }, 60_000)

  it("does not carry the lab's SameSite=Strict cookie: its WebSocket upgrade has none, and is refused 401", async () => {
    // Every origin allowed (the lab's own too, at a port not known yet): only the token decides here.
    const lab = await startServer({ classCode: 'otters-42', allowedOrigins: '*' })
    try {
      const answers = recordAnswers(lab.app.server)
      // One browser context: it logs in on the lab, then visits the other site.
      const context = await browser.newContext()
      const labPage = await context.newPage()
      await labPage.goto(lab.url)
      const login = await labPage.evaluate(() =>
        fetch('/api/login', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ code: 'otters-42', name: 'dee' }),
        }).then((res) => res.status),
      )
      expect(login).toBe(200)
      // The lab's own page opens a WebSocket on the cookie: it is sent, and the lab takes it.
      await labPage.evaluate(() => {
        const ws = new WebSocket(`ws://${location.host}/ws?room=heist&name=dee`)
        ws.onmessage = () => ws.close()
      })
      const own = await until(
        () => answers.find((a) => a.upgrade && a.origin === lab.url),
        "the lab page's upgrade",
        10_000,
      )
      expect(own.cookie).toMatch(/lab_token=/)
      expect(own.status).toBe(101)

      const page = await context.newPage()
      await page.goto(`${evil.origin}/?lab=${encodeURIComponent(lab.url)}&only=ws`)
      const theirs = await until(() => fromEvil(answers).ws, "the other site's upgrade", 10_000)
      expect(theirs.cookie ?? '').not.toMatch(/lab_token=/)
      expect({ status: theirs.status, code: theirs.code }).toEqual({ status: 401, code: 'LAB_ERR_AUTH' })
      expect(lab.app.hub.members(ROOM).map((m) => m.name)).not.toContain('mallory')
      await context.close()
    } finally {
      await lab.close()
    }
  }, 60_000)
})
