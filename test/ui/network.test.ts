// The workbench behind a shaped network, in Chromium: the Network select
// reloads the page through the chosen port, every panel says so, and the
// latencies carry the delay.
import { mkdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Browser, Page } from 'playwright-core'
import { TRANSPORTS } from '../../server/core/names.ts'
import { NETWORK_PROFILES } from '../../server/network/profiles.ts'
import { buildUi, uiIsStale } from '../../ui/build.ts'
import { hasChromium, launchChromium, openWorkbench } from '../support/browser.ts'
import { startServer, type RunningServer } from '../support/server.ts'

const artifacts = fileURLToPath(new URL('../../test-artifacts/', import.meta.url))
const threeG = NETWORK_PROFILES.find((p) => p.id === '3g')!

describe.skipIf(!hasChromium)('the workbench behind a shaped network', () => {
  let server: RunningServer
  let browser: Browser
  let page: Page

  beforeAll(async () => {
    if (uiIsStale()) await buildUi()
    mkdirSync(artifacts, { recursive: true })
    server = await startServer()
    browser = await launchChromium()
    page = await openWorkbench(browser, `${server.url}/#/race?room=far-away`)
    await page.locator('lab-transport-panel .state.open').nth(4).waitFor()
  }, 120_000)

  afterAll(async () => {
    await browser?.close()
    await server?.close()
  })

  const panel = (transport: string) => page.locator(`lab-transport-panel[transport="${transport}"]`)
  const network = () => page.getByRole('combobox', { name: 'Network' })

  async function joinAgain(): Promise<void> {
    // The name is kept per origin: a new port asks again, a port seen before joins under the name it kept.
    const name = page.getByLabel('Name')
    const open = page.locator('lab-transport-panel .state.open').nth(4)
    await expect.poll(async () => (await name.isVisible()) || (await open.isVisible()), { timeout: 15_000 }).toBe(true)
    if (await name.isVisible()) {
      await name.fill('Instructor')
      await page.getByRole('button', { name: 'Join the lab' }).click()
    }
    await open.waitFor()
  }

  it('starts direct, with no panel saying it is shaped', async () => {
    await expect.poll(() => network().inputValue()).toBe('')
    expect(await page.locator('lab-network-badge span').count()).toBe(0)
  })

  it('reloads through the chosen network, keeping the route, and every panel says it is shaped', async () => {
    await network().selectOption({ label: '3G 150 ms' })
    await page.waitForURL((url) => url.port !== String(server.port))
    expect(new URL(page.url()).hash).toBe('#/race?room=far-away')
    await joinAgain()
    await expect.poll(() => network().inputValue()).toBe('3g')
    for (const t of TRANSPORTS)
      await expect
        .poll(() => panel(t).locator('lab-network-badge span').textContent())
        .toContain(`shaped: ${threeG.label}`)
  })

  it('gives each panel its own message no sooner than one round trip of the network', async () => {
    for (const via of TRANSPORTS) {
      const text = `across 3G over ${via}`
      await page.getByLabel('Message', { exact: true }).fill(text)
      await page.locator('lab-composer select').selectOption(via)
      await page.getByLabel('Message', { exact: true }).press('Enter')
      const latency = panel(via).locator('.messages li', { hasText: text }).locator('.latency')
      await expect.poll(() => latency.textContent(), { timeout: 15_000 }).toMatch(/^\d+\.\d ms$/)
      // Up to the server and back down, each way half the round trip: a floor from the profile, not a timing.
      expect(parseFloat((await latency.textContent())!), via).toBeGreaterThanOrEqual(threeG.rttMs)
    }
    await page.screenshot({ path: `${artifacts}workbench-network-3g.png` })
  })

  it("reads the meter and the clock straight from the server's port, not through the shaped one", async () => {
    const reads: URL[] = []
    const onResponse = (response: { url(): string; ok(): boolean }) => {
      const url = new URL(response.url())
      if (response.ok() && /^\/api\/(wire|time)$/.test(url.pathname)) reads.push(url)
    }
    page.on('response', onResponse)
    try {
      // From the start: the clock is read several times right after the page joins, then seldom.
      await page.reload()
      await joinAgain()
      // Until the page has heard where the server's own port is, a first read may still go through the shaped one.
      const direct = (path: string) => reads.some((url) => url.pathname === path && url.port === String(server.port))
      await expect.poll(() => direct('/api/wire')).toBe(true)
      await expect.poll(() => direct('/api/time'), { timeout: 15_000 }).toBe(true)
      expect(await page.getByRole('alert').count()).toBe(0)
    } finally {
      page.off('response', onResponse)
    }
  })

  it('keeps the network across a reload, and goes back to direct when asked', async () => {
    await page.reload()
    await joinAgain()
    await expect.poll(() => network().inputValue()).toBe('3g')
    await network().selectOption('')
    await page.waitForURL((url) => url.port === String(server.port))
    await joinAgain()
    expect(await page.locator('lab-network-badge span').count()).toBe(0)
  })
})
