// Seven tabs of the workbench in one browser, sharing its ~6 HTTP/1.1
// connections to the server: the first two keep long polling and SSE open,
// the others leave those two off and say so, and every panel that says
// "open" really receives.
import { mkdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { TRANSPORTS, type TransportName } from '../../server/core/protocol.ts'
import { buildUi, uiIsStale } from '../../ui/build.ts'
import { hasChromium, launchChromium } from '../support/browser.ts'
import { createClient } from '../support/clients.ts'
import { startServer, type RunningServer } from '../support/server.ts'

const artifacts = fileURLToPath(new URL('../../test-artifacts/', import.meta.url))
const TABS = 7
const HELD: TransportName[] = ['long-polling', 'sse']

describe.skipIf(!hasChromium)('seven workbench tabs in one browser', () => {
  let server: RunningServer
  let browser: Browser
  let context: BrowserContext
  const pages: Page[] = []

  const state = (page: Page, t: TransportName) =>
    page.locator(`lab-transport-panel[transport="${t}"] .state`).textContent()
  const states = (page: Page) => Promise.all(TRANSPORTS.map((t) => state(page, t)))
  const fullStates = TRANSPORTS.map(() => 'open')
  const offStates = TRANSPORTS.map((t) => (HELD.includes(t) ? 'off' : 'open'))

  /** Every panel that says "open", in every tab, gets the message; a panel that is off never says "open". */
  async function everyOpenPanelReceives(text: string): Promise<number> {
    const outsider = createClient('short-polling', server.url, 'outsider')
    try {
      await outsider.send('lobby', text)
      let panels = 0
      for (const [i, page] of pages.entries()) {
        for (const t of TRANSPORTS) {
          if ((await state(page, t)) !== 'open') continue
          panels++
          await expect
            .poll(
              () => page.locator(`lab-transport-panel[transport="${t}"] .messages li .text`, { hasText: text }).count(),
              {
                message: `tab ${i + 1}, ${t}`,
                timeout: 15_000,
              },
            )
            .toBe(1)
        }
      }
      return panels
    } finally {
      await outsider.close()
    }
  }

  beforeAll(async () => {
    if (uiIsStale()) await buildUi()
    mkdirSync(artifacts, { recursive: true })
    server = await startServer()
    browser = await launchChromium()
    context = await browser.newContext({ viewport: { width: 1280, height: 800 } })
  }, 120_000)

  afterAll(async () => {
    await browser?.close()
    await server?.close()
  })

  it('opens long polling and SSE in the first two tabs only, and the others say why those two are off', async () => {
    for (let i = 0; i < TABS; i++) {
      const page = await context.newPage()
      pages.push(page)
      // Tabs of one browser share the remembered name: each tab here is another person, so it asks.
      await page.addInitScript(() => localStorage.removeItem('transport-lab:name'))
      await page.goto(server.url)
      await page.getByLabel('Name').fill(`Tab ${i + 1}`)
      await page.getByRole('button', { name: 'Join the lab' }).click()
      await expect
        .poll(() => states(page), { message: `tab ${i + 1}`, timeout: 20_000 })
        .toEqual(i < 2 ? fullStates : offStates)
    }
    for (const page of pages.slice(2))
      for (const t of HELD)
        expect(
          await page.locator(`lab-transport-panel[transport="${t}"] lab-tab-notice [role="note"]`).textContent(),
        ).toMatch(/Off in this tab\.\s+A browser opens only about 6 connections to one server/)
    await pages[TABS - 1]!.screenshot({ path: `${artifacts}tabs-seventh.png` })
  }, 180_000)

  it('delivers to every panel that says open, in every tab, and the server counts each of them present', async () => {
    expect(await everyOpenPanelReceives('to every tab')).toBe(2 * 5 + (TABS - 2) * 3)
    // No polling session expired for want of a connection: every open panel is a member.
    const members = async () =>
      ((await (await fetch(`${server.url}/api/rooms/lobby/presence`)).json()) as unknown[]).length
    await expect.poll(members, { timeout: 10_000 }).toBe(2 * 5 + (TABS - 2) * 3)
    const count = pages[TABS - 1]!.locator('lab-presence .count')
    await expect.poll(() => count.textContent(), { timeout: 15_000 }).toMatch(new RegExp(`: ${TABS} people$`))
    expect(await count.getAttribute('title')).toMatch(/^25 connections/)
  }, 120_000)

  it('moves long polling and SSE to a tab that takes over, from the newest tab that had them', async () => {
    const last = pages[TABS - 1]!
    await last.locator('lab-transport-panel[transport="sse"]').getByRole('button', { name: 'Take over' }).click()
    await expect.poll(() => states(last), { timeout: 20_000 }).toEqual(fullStates)
    await expect.poll(() => states(pages[1]!), { timeout: 20_000 }).toEqual(offStates)
    expect(await states(pages[0]!)).toEqual(fullStates)
    expect(await everyOpenPanelReceives('after the take-over')).toBe(2 * 5 + (TABS - 2) * 3)
  }, 120_000)

  it('gives the held connections to the next tab when a tab that holds them closes', async () => {
    await pages[0]!.close()
    pages.shift()
    // The tab opened earliest among those waiting: the old second tab, now first in the list.
    await expect.poll(() => states(pages[0]!), { timeout: 20_000 }).toEqual(fullStates)
    for (const page of pages.slice(1, -1)) expect(await states(page)).toEqual(offStates)
    expect(await everyOpenPanelReceives('after a tab closed')).toBe(2 * 5 + (TABS - 3) * 3)
  }, 120_000)
})
