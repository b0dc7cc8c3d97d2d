// The workbench in Chromium at the sizes it is used at: a student's phone
// (390×844), a laptop (1366×768), the classroom projectors (1280×800 and
// 1920×1080), and presenter mode for the back row. Screenshots of each go to
// test-artifacts/.
import { mkdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest'
import type { Browser, Locator, Page } from 'playwright-core'
import { TRANSPORTS } from '../../server/core/protocol.ts'
import { TRANSPORT_INFO } from '../../server/core/names.ts'
import { buildUi, uiIsStale } from '../../ui/build.ts'
import { hasChromium, launchChromium, openWorkbench } from '../support/browser.ts'
import {
  elementsPastTheEdges,
  openEveryDetails,
  openTab,
  SCREENS,
  TAB_NAMES,
  type ScreenName,
} from '../support/layout.ts'
import { startServer, type RunningServer } from '../support/server.ts'

const artifacts = fileURLToPath(new URL('../../test-artifacts/', import.meta.url))

describe.skipIf(!hasChromium)('the workbench at each screen size', () => {
  let server: RunningServer
  let browser: Browser

  beforeAll(async () => {
    if (uiIsStale()) await buildUi()
    mkdirSync(artifacts, { recursive: true })
    server = await startServer()
    browser = await launchChromium()
  }, 120_000)

  afterAll(async () => {
    await browser?.close()
    await server?.close()
  })

  async function open(screen: ScreenName, hash = ''): Promise<Page> {
    const page = await openWorkbench(browser, `${server.url}/${hash}`, 'Viewer', SCREENS[screen])
    onTestFinished(() => page.close())
    await page.locator('lab-transport-panel .state.open').nth(4).waitFor({ state: 'attached' })
    return page
  }

  const panel = (page: Page, transport: string) => page.locator(`lab-transport-panel[transport="${transport}"]`)
  const visiblePanels = async (page: Page) => {
    const shown = await Promise.all(TRANSPORTS.map((t) => panel(page, t).isVisible()))
    return TRANSPORTS.filter((_, i) => shown[i])
  }
  const box = async (locator: Locator) => (await locator.boundingBox())!

  /** Nothing on any tab reaches past the sides of the screen, and the page itself never scrolls sideways. */
  async function expectEveryTabFits(page: Page, screen: ScreenName): Promise<void> {
    for (const tab of TAB_NAMES) {
      await openTab(page, tab)
      await openEveryDetails(page)
      const { scrollWidth, innerWidth } = await page.evaluate(() => ({
        scrollWidth: document.scrollingElement!.scrollWidth,
        innerWidth: window.innerWidth,
      }))
      expect(scrollWidth, `${screen}, ${tab}: the page's width`).toBeLessThanOrEqual(innerWidth)
      expect(await elementsPastTheEdges(page), `${screen}, ${tab}`).toEqual([])
      await page.screenshot({ path: `${artifacts}viewport-${screen.replace(' ', '-')}-${tab.toLowerCase()}.png` })
    }
    await openTab(page, 'Race')
  }

  it('fits a phone: nothing on any tab is wider than the screen, and every tab is in the header, whole', async () => {
    const page = await open('phone')
    await expectEveryTabFits(page, 'phone')
    const header = await box(page.locator('lab-app header').first())
    for (const tab of TAB_NAMES) {
      const b = await box(page.getByRole('tab', { name: tab }))
      expect(b.x, tab).toBeGreaterThanOrEqual(header.x)
      expect(b.x + b.width, tab).toBeLessThanOrEqual(header.x + header.width)
      expect(b.y, tab).toBeGreaterThanOrEqual(header.y)
      expect(b.y + b.height, tab).toBeLessThanOrEqual(header.y + header.height)
    }
  }, 90_000)

  it('shows one transport at a time on a phone, full width, and the switcher picks which', async () => {
    const page = await open('phone')
    const width = SCREENS.phone.viewport.width
    expect(await visiblePanels(page)).toEqual(['short-polling'])
    const switcher = page.getByRole('group', { name: 'Transport shown' })
    for (const t of ['websocket', 'sse', 'socket.io'] as const) {
      const button = switcher.getByRole('button', { name: t === 'sse' ? 'SSE' : TRANSPORT_INFO[t].label })
      await button.click()
      expect(await button.getAttribute('aria-pressed'), t).toBe('true')
      expect(await visiblePanels(page), t).toEqual([t])
      expect((await box(panel(page, t))).width, t).toBeGreaterThan(width * 0.9)
      // Its controls are whole and in reach, not cut off at the panel's edge.
      for (const name of ['Drop', 'Leave']) {
        const b = await box(panel(page, t).getByRole('button', { name }))
        expect(b.x + b.width, `${t} ${name}`).toBeLessThanOrEqual(width)
      }
    }
    await page.screenshot({ path: `${artifacts}viewport-phone-switcher.png` })
    // A message sent from the phone arrives in the panel it shows.
    await page.getByLabel('Message', { exact: true }).fill('from a phone')
    await page.getByLabel('Message', { exact: true }).press('Enter')
    await panel(page, 'socket.io').locator('.messages li', { hasText: 'from a phone' }).first().waitFor()
  })

  it('fits the name dialog on a phone, its box and button inside the screen', async () => {
    const page = await browser.newPage(SCREENS.phone)
    onTestFinished(() => page.close())
    await page.goto(server.url)
    const dialog = page.getByRole('dialog')
    await dialog.waitFor()
    const { width, height } = SCREENS.phone.viewport
    for (const [what, locator] of [
      ['the dialog', dialog],
      ['the name box', dialog.getByLabel('Name')],
      ['the button', dialog.getByRole('button')],
    ] as const) {
      const b = await box(locator)
      expect(b.x, what).toBeGreaterThanOrEqual(0)
      expect(b.y, what).toBeGreaterThanOrEqual(0)
      expect(b.x + b.width, what).toBeLessThanOrEqual(width)
      expect(b.y + b.height, what).toBeLessThanOrEqual(height)
    }
    expect(await elementsPastTheEdges(page)).toEqual([])
    await page.screenshot({ path: `${artifacts}viewport-phone-name-dialog.png` })
  }, 60_000)

  it.each(['laptop', 'projector', 'large projector'] as const)(
    'shows the five transports side by side on a %s, the legend in view and nothing past the edges',
    async (screen) => {
      const page = await open(screen)
      expect(await visiblePanels(page)).toEqual([...TRANSPORTS])
      const tops = await Promise.all(TRANSPORTS.map(async (t) => Math.round((await box(panel(page, t))).y)))
      expect(new Set(tops).size, 'one row').toBe(1)
      const legend = page.locator('lab-counter-legend')
      await legend.getByText('What the figures mean').waitFor()
      const b = await box(legend)
      expect(b.y + b.height, 'the legend above the bottom of the screen').toBeLessThanOrEqual(
        SCREENS[screen].viewport.height,
      )
      expect(await legend.locator('dt', { hasText: 'Overhead/msg' }).isVisible()).toBe(true)
      await expectEveryTabFits(page, screen)
    },
    90_000,
  )

  it('presenter mode on a large projector: large counters, their meanings on the page, fewer numbers; kept across reloads', async () => {
    const page = await open('large projector')
    const websocket = panel(page, 'websocket')
    const counterPx = async () =>
      parseFloat(
        await websocket
          .locator('table.counters td')
          .first()
          .evaluate((td) => getComputedStyle(td).fontSize),
      )
    const ordinary = await counterPx()
    expect(await websocket.getByRole('rowheader', { name: 'My bytes' }).isVisible()).toBe(true)

    const toggle = page.getByRole('button', { name: 'Presenter mode' })
    await toggle.click()
    expect(await toggle.getAttribute('aria-pressed')).toBe('true')
    await expect.poll(counterPx).toBeGreaterThanOrEqual(24)
    expect(ordinary).toBeLessThan(16)
    // The secondary figures are gone; the main ones stay.
    expect(await websocket.getByRole('rowheader', { name: 'My bytes' }).isVisible()).toBe(false)
    expect(await websocket.getByText('Quiet seconds').isVisible()).toBe(false)
    expect(await websocket.getByRole('rowheader', { name: 'Overhead' }).isVisible()).toBe(true)
    expect(await websocket.getByText('Overhead/msg').isVisible()).toBe(true)
    // Each figure still shown has its meaning in view, in large type; those hidden are not explained.
    const legend = page.locator('lab-counter-legend')
    for (const term of ['Overhead', 'Payload', 'Overhead/msg', 'Idle per min', 'Conns · held', 'Latency']) {
      const definition = legend.locator('div', { has: page.locator('dt', { hasText: term }) }).locator('dd')
      expect(await definition.first().isVisible(), term).toBe(true)
      const px = parseFloat(await definition.first().evaluate((dd) => getComputedStyle(dd).fontSize))
      expect(px, term).toBeGreaterThanOrEqual(20)
    }
    expect(await legend.locator('dt', { hasText: 'My bytes' }).count()).toBe(0)
    expect(page.url()).toContain('presenter=on')
    expect(await elementsPastTheEdges(page)).toEqual([])
    await page.screenshot({ path: `${artifacts}viewport-large-projector-presenter.png` })

    // A reload of the bare address (no route flag) still finds it on; the name is remembered too, so nothing is asked.
    await page.goto(server.url)
    await expect.poll(counterPx).toBeGreaterThanOrEqual(24)
    await page.getByRole('button', { name: 'Presenter mode' }).click()
    await expect.poll(counterPx).toBeLessThan(16)
    expect(page.url()).not.toContain('presenter')
  }, 90_000)

  it('opens in presenter mode from a link (#/race?presenter=on) on a browser that never used it', async () => {
    const page = await open('projector', '#/race?presenter=on')
    expect(await page.getByRole('button', { name: 'Presenter mode' }).getAttribute('aria-pressed')).toBe('true')
    expect(await panel(page, 'sse').getByRole('rowheader', { name: 'My bytes' }).isVisible()).toBe(false)
    expect(await elementsPastTheEdges(page)).toEqual([])
    await page.screenshot({ path: `${artifacts}viewport-projector-presenter.png` })
  }, 60_000)
})
