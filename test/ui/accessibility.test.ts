// The workbench against WCAG 2.2 AA in Chromium: where focus goes, what the
// controls are called, how focus shows, and axe-core's audit of every tab at
// every screen size the workbench is used at (test/support/axe.ts).
import { fileURLToPath } from 'node:url'
import { describe, expect, it, onTestFinished } from 'vitest'
import type { Browser, Page } from 'playwright-core'
import { TRANSPORTS } from '../../server/core/protocol.ts'
import { TRANSPORT_INFO } from '../../server/core/names.ts'
import { seriousViolations } from '../support/axe.ts'
import { hasChromium, openWorkbench, useWorkbench } from '../support/browser.ts'
import { openEveryDetails, openTab, SCREENS, TAB_NAMES, type ScreenName } from '../support/layout.ts'
import type { RunningServer } from '../support/server.ts'

const artifacts = fileURLToPath(new URL('../../test-artifacts/', import.meta.url))

describe.skipIf(!hasChromium)('the workbench for keyboards, screen readers and axe-core', () => {
  let server: RunningServer
  let browser: Browser
  let page: Page

  useWorkbench({}, (opened) => ({ server, browser, page } = opened))

  /** The focused element, followed down through shadow roots: tag#id.class */
  const focused = (p: Page) =>
    p.evaluate(() => {
      let el = document.activeElement
      while (el?.shadowRoot?.activeElement) el = el.shadowRoot.activeElement
      return el ? `${el.tagName.toLowerCase()}#${el.id}` : 'nothing'
    })

  it('puts focus in the message box after Join the lab, so typing goes straight into a message', async () => {
    expect(await focused(page)).toBe('input#text')
    await page.keyboard.type('typed at once')
    expect(await page.getByLabel('Message', { exact: true }).inputValue()).toBe('typed at once')
    await page.getByLabel('Message', { exact: true }).fill('')
  })

  it('puts focus on the open tab after Join when a link opened another view than the race', async () => {
    const other = await openWorkbench(browser, `${server.url}/#/charts`)
    onTestFinished(() => other.close())
    await expect.poll(() => focused(other)).toBe('button#tab-charts')
  }, 60_000)

  it.each(TRANSPORTS)("names the %s panel's Drop and Leave buttons after it", async (t) => {
    const label = TRANSPORT_INFO[t].label
    for (const name of [`Drop ${label}`, `Leave ${label}`])
      expect(await page.getByRole('button', { name, exact: true }).count(), name).toBe(1)
  })

  it('draws a thick two-tone focus ring on a panel control reached with the keyboard', async () => {
    const drop = page.getByRole('button', { name: 'Drop WebSocket', exact: true })
    // Focus the control before it, then Tab: focus moved by the keyboard, as :focus-visible asks.
    await page.locator('lab-transport-panel[transport="websocket"]').getByRole('checkbox', { name: 'deflate' }).focus()
    await page.keyboard.press('Tab')
    expect(await drop.evaluate((el) => el.matches(':focus-visible'))).toBe(true)
    const ring = await drop.evaluate((el) => {
      const style = getComputedStyle(el)
      return { style: style.outlineStyle, width: parseFloat(style.outlineWidth), shadow: style.boxShadow }
    })
    expect(ring.style).toBe('solid')
    expect(ring.width).toBeGreaterThanOrEqual(3)
    expect(ring.shadow).toContain('rgb(27, 31, 36)')
    await page.screenshot({ path: `${artifacts}accessibility-focus-ring.png` })
  })

  const audits = [
    ...Object.keys(SCREENS).map((screen) => ({ screen: screen as ScreenName, presenter: false })),
    { screen: 'large projector' as const, presenter: true },
  ]

  it.each(audits)(
    'has no serious or critical axe-core violation on any tab: $screen (presenter mode: $presenter)',
    async ({ screen, presenter }) => {
      const p = await openWorkbench(
        browser,
        `${server.url}/${presenter ? '#/race?presenter=on' : ''}`,
        'Auditor',
        SCREENS[screen],
      )
      onTestFinished(() => p.close())
      await p.locator('lab-transport-panel .state.open').nth(4).waitFor({ state: 'attached' })
      for (const tab of TAB_NAMES) {
        await openTab(p, tab)
        await openEveryDetails(p)
        expect(await seriousViolations(p), `${screen}, ${tab}`).toEqual([])
      }
    },
    120_000,
  )
})
