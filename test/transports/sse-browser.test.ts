// Chromium's own EventSource against the server: the renewal that reaps dead
// readers is invisible to a live one, and the browser's automatic reconnect
// after a restart is told the truth (its Last-Event-ID names the old epoch).
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Browser, Page } from 'playwright-core'
import type { Welcome } from '../../server/core/protocol.ts'
import { hasChromium, launchChromium } from '../support/browser.ts'
import { startServer, type RunningServer } from '../support/server.ts'

interface Seen {
  welcomes: Welcome[]
  texts: string[]
  byes: string[]
  ids: string[]
}

describe.skipIf(!hasChromium)('a plain EventSource in Chromium', () => {
  let browser: Browser
  const servers: RunningServer[] = []
  beforeAll(async () => {
    browser = await launchChromium()
  })
  afterAll(async () => {
    await browser?.close()
    await Promise.all(servers.map((s) => s.close().catch(() => {})))
  })

  async function server(overrides: Parameters<typeof startServer>[0] = {}): Promise<RunningServer> {
    const s = await startServer({ sseStreamMaxMs: 1000, ...overrides })
    servers.push(s)
    return s
  }

  /** A page on the server's origin with an EventSource and nothing else, recording what it sees in window.seen. */
  async function openReader(url: string, room: string): Promise<Page> {
    const page = await browser.newPage()
    await page.goto(`${url}/endpoints`)
    await page.evaluate((room) => {
      const seen = { welcomes: [] as unknown[], texts: [] as string[], byes: [] as string[], ids: [] as string[] }
      ;(window as unknown as { seen: typeof seen }).seen = seen
      const source = new EventSource(`/sse?room=${room}&name=browser`)
      source.addEventListener('welcome', (e) =>
        seen.welcomes.push(JSON.parse(e.data as string) as (typeof seen.welcomes)[number]),
      )
      source.addEventListener('bye', (e) => seen.byes.push((JSON.parse(e.data as string) as { code: string }).code))
      source.onmessage = (e) => {
        seen.texts.push((JSON.parse(e.data as string) as { text: string }).text)
        seen.ids.push(e.lastEventId)
      }
    }, room)
    return page
  }

  const seen = (page: Page) => page.evaluate(() => (window as unknown as { seen: Seen }).seen)
  /** Waits in the page until its record has at least `count` of `what`. */
  const atLeast = (page: Page, what: keyof Seen, count: number, timeout = 10_000) =>
    page.waitForFunction(
      ([what, count]) =>
        (window as unknown as { seen: Record<string, unknown[]> }).seen[what as string]!.length >= count,
      [what, count] as const,
      { timeout, polling: 20 },
    )

  const publish = (s: RunningServer, room: string, text: string) =>
    s.app.hub.publish({ clientId: 'test', name: 'test', transport: 'test' }, room, { text })

  it('is renewed every SSE_STREAM_MAX_MS, stays the same member and misses nothing', async () => {
    const s = await server()
    const page = await openReader(s.url, 'renewed')
    await atLeast(page, 'welcomes', 1)
    // Talk in lockstep with the page across at least two renewals.
    let sent = 0
    while ((await seen(page)).byes.length < 2) {
      await publish(s, 'renewed', `m${++sent}`)
      await atLeast(page, 'texts', sent)
    }
    // Back after the second renewal, and still hearing everything.
    await atLeast(page, 'welcomes', 3)
    await publish(s, 'renewed', `m${++sent}`)
    await atLeast(page, 'texts', sent)
    const got = await seen(page)
    expect(got.byes.every((code) => code === 'LAB_RENEW')).toBe(true)
    expect(got.texts).toEqual(Array.from({ length: sent }, (_, i) => `m${i + 1}`))
    expect(new Set(got.welcomes.map((w) => w.clientId)).size).toBe(1)
    expect(got.welcomes.every((w) => w.recovered)).toBe(true)
    expect(s.app.hub.presence('renewed').map((m) => m.name)).toEqual(['browser'])
    await page.close()
  })

  it('after a restart, reconnects by itself and is told recovered: false', async () => {
    const first = await server({ sseStreamMaxMs: 600_000 })
    const page = await openReader(first.url, 'restarted')
    await atLeast(page, 'welcomes', 1)
    for (let i = 1; i <= 30; i++) await publish(first, 'restarted', `old ${i}`)
    await atLeast(page, 'texts', 30)
    const epoch = (await seen(page)).welcomes[0]!.epoch
    // seq 1 is the page's own join.
    expect((await seen(page)).ids.at(-1)).toBe(`${epoch}-31`)
    await first.close()
    const second = await server({ port: first.port, sseStreamMaxMs: 600_000 })
    for (let i = 1; i <= 40; i++) await publish(second, 'restarted', `new ${i}`)
    await atLeast(page, 'welcomes', 2, 15_000)
    const after = (await seen(page)).welcomes[1]!
    expect(after.recovered).toBe(false)
    expect(after.epoch).not.toBe(epoch)
    await page.close()
  })
})
