// The workbench in Chromium while its server goes away and comes back on the
// same port, as an instructor's restart does: one banner says the server
// cannot be reached and the figures are stale, then every panel reconnects and
// rejoins by itself, with no Leave and Join from the user.
import { mkdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Browser, Page } from 'playwright-core'
import { TRANSPORTS } from '../../server/core/protocol.ts'
import { buildUi, uiIsStale } from '../../ui/build.ts'
import { hasChromium, launchChromium, openWorkbench } from '../support/browser.ts'
import { startServer, type RunningServer } from '../support/server.ts'

const artifacts = fileURLToPath(new URL('../../test-artifacts/', import.meta.url))

/** What the test reads of the page's clients, in the page: not public, so typed here only as far as it is read. */
interface PageClients {
  lab: {
    clients: Record<
      string,
      { stats: { reconnects: number }; socket?: { io: { engine?: { transport?: { name: string } } } } }
    >
  }
}

describe.skipIf(!hasChromium)('the workbench across a server restart', () => {
  let server: RunningServer
  let browser: Browser
  let page: Page

  beforeAll(async () => {
    if (uiIsStale()) await buildUi()
    mkdirSync(artifacts, { recursive: true })
    server = await startServer()
    browser = await launchChromium()
    page = await openWorkbench(browser, server.url)
  }, 120_000)

  afterAll(async () => {
    await browser?.close()
    await server?.close()
  })

  const panel = (transport: string) => page.locator(`lab-transport-panel[transport="${transport}"]`)
  const states = () => Promise.all(TRANSPORTS.map((t) => panel(t).locator('.state').textContent()))
  // Read in the page, from the clients its Lab holds.
  const socketIoTransport = () =>
    page.evaluate(
      () =>
        (document.querySelector('lab-app') as unknown as PageClients).lab.clients['socket.io']!.socket?.io.engine
          ?.transport?.name,
    )
  const webSocketReconnects = () =>
    page.evaluate(
      () => (document.querySelector('lab-app') as unknown as PageClients).lab.clients.websocket!.stats.reconnects,
    )

  it('every panel recovers by itself after a server restart, and one banner says so while it cannot be reached', async () => {
    const banner = page.getByRole('alert')
    await expect.poll(states, { timeout: 20_000 }).toEqual(TRANSPORTS.map(() => 'open'))
    // Socket.IO hears a closing server's goodbye ("io server disconnect", after which socket.io-client does
    // not reconnect by itself) only once on its WebSocket: wait for the upgrade, so that the restart is that case.
    await expect.poll(socketIoTransport, { timeout: 10_000 }).toBe('websocket')

    const { port, url } = server
    await server.close()
    await banner.waitFor({ timeout: 10_000 })
    expect(await banner.textContent()).toContain(`The server at ${url} cannot be reached; retrying…`)
    expect(await banner.count()).toBe(1)
    await expect.poll(() => page.locator('lab-transport-panel[stale]').count()).toBe(5)
    const presence = page.locator('lab-presence')
    await expect.poll(() => presence.getAttribute('stale')).toBe('')
    expect(await presence.locator('.stale-note').textContent()).toMatch(/^as of /)
    for (const t of TRANSPORTS) {
      await expect.poll(() => panel(t).locator('.state').textContent(), { message: t }).not.toBe('open')
      expect(await panel(t).locator('.stale-note').textContent(), t).toMatch(/stale: server figures from /)
    }
    await page.getByRole('tab', { name: 'Charts' }).click()
    const chartsNote = page.locator('lab-charts .stale-note')
    await chartsNote.waitFor({ timeout: 5_000 })
    expect(await chartsNote.textContent()).toMatch(/^\s*Stale: the server cannot be reached/)
    await page.getByRole('tab', { name: 'Race' }).click()
    await page.screenshot({ path: `${artifacts}workbench-server-unreachable.png` })
    // Down for several seconds, not a blink: the WebSocket's own backoff has failed three times (0.5 + 1 + 2 s).
    const failed = await webSocketReconnects()
    await expect.poll(webSocketReconnects, { timeout: 15_000 }).toBeGreaterThanOrEqual(failed + 3)

    server = await startServer({ port })
    await expect.poll(states, { timeout: 20_000 }).toEqual(TRANSPORTS.map(() => 'open'))
    await expect.poll(() => banner.count(), { timeout: 5_000 }).toBe(0)
    await expect.poll(() => page.locator('lab-transport-panel[stale]').count()).toBe(0)
    await expect.poll(() => presence.getAttribute('stale')).toBeNull()
    // The new server remembers nothing: each panel rejoined as new and said what it could not get back.
    for (const t of TRANSPORTS) expect(await panel(t).locator('.messages li.lost').count(), t).toBeGreaterThan(0)

    const text = 'back after the restart'
    await page.getByLabel('Message', { exact: true }).fill(text)
    await page.locator('lab-composer select').selectOption('all')
    await page.getByLabel('Message', { exact: true }).press('Enter')
    // The five copies of one message sent over all five share a row, with a latency each.
    for (const t of TRANSPORTS)
      await expect
        .poll(
          () =>
            panel(t).locator('.messages li', { hasText: text }).locator('.copy .latency', { hasText: / ms$/ }).count(),
          {
            message: t,
            timeout: 10_000,
          },
        )
        .toBe(5)
    await page.screenshot({ path: `${artifacts}workbench-server-back.png` })
  }, 90_000)
})
