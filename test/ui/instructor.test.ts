// The Instructor tab in Chromium: the instructor's page lists another page's
// five connections with their bytes and handshakes, and Disconnect sends one
// away: gone from the list, and that page's panel says why and stays out
// until its Join. From another machine the tab says the tools are not there.
import { mkdirSync } from 'node:fs'
import { networkInterfaces } from 'node:os'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Browser, Page } from 'playwright-core'
import { TRANSPORT_INFO, TRANSPORTS } from '../../server/core/names.ts'
import { buildApp } from '../../server/app.ts'
import { defaultConfig } from '../../server/config.ts'
import { buildUi, uiIsStale } from '../../ui/build.ts'
import { hasChromium, launchChromium, openWorkbench } from '../support/browser.ts'
import { startServer, type RunningServer } from '../support/server.ts'

const artifacts = fileURLToPath(new URL('../../test-artifacts/', import.meta.url))
const outside = Object.values(networkInterfaces())
  .flat()
  .find((address) => address?.family === 'IPv4' && !address.internal)?.address

describe.skipIf(!hasChromium)('the Instructor tab', () => {
  let server: RunningServer
  let browser: Browser
  let teacher: Page
  let student: Page

  beforeAll(async () => {
    if (uiIsStale()) await buildUi()
    mkdirSync(artifacts, { recursive: true })
    server = await startServer()
    browser = await launchChromium()
    teacher = await openWorkbench(browser, server.url, 'Teacher')
    student = await openWorkbench(browser, server.url, 'ann')
  }, 120_000)

  afterAll(async () => {
    await browser?.close()
    await server?.close()
  })

  const panel = (transport: string) => student.locator(`lab-transport-panel[transport="${transport}"]`)
  const state = (transport: string) => panel(transport).locator('.state').textContent()
  const instructor = () => teacher.locator('lab-instructor')

  it("lists the other page's five connections with their bytes, and shows a handshake", async () => {
    for (const t of TRANSPORTS) await expect.poll(() => state(t), { timeout: 20_000, message: t }).toBe('open')
    await teacher.getByRole('tab', { name: 'Instructor' }).click()
    for (const t of TRANSPORTS) {
      const button = instructor().getByRole('button', { name: `Disconnect ann's ${TRANSPORT_INFO[t].label}` })
      await button.waitFor({ timeout: 10_000 })
      // The inner locator is read inside each row: the button alone, not the path to it.
      const row = instructor()
        .getByRole('row')
        .filter({ has: teacher.getByRole('button', { name: `Disconnect ann's ${TRANSPORT_INFO[t].label}` }) })
      // Name, transport, connection, since, bytes in, bytes out: each connection's own bytes, read from the server.
      await expect.poll(() => row.locator('td').nth(4).textContent(), { message: t }).toMatch(/^\d+(\.\d)? (B|KiB)$/)
      expect(await row.locator('td').nth(2).textContent()).toMatch(/^c\d+$/)
    }
    await instructor().getByRole('button', { name: "Show ann's WebSocket handshake" }).click()
    const handshake = instructor().getByRole('region', { name: "ann's WebSocket handshake" })
    await handshake.waitFor()
    expect(await handshake.locator('pre').first().textContent()).toMatch(/^GET \/ws\?.*name=ann/)
    expect(await handshake.locator('pre').nth(1).textContent()).toMatch(/^HTTP\/1\.1 101 Switching Protocols/)
    await teacher.screenshot({ path: `${artifacts}instructor-tab.png` })
  }, 60_000)

  it.each(TRANSPORTS)(
    'Disconnect ends the %s connection: gone from the list, and its panel says why until Join',
    async (t) => {
      const label = TRANSPORT_INFO[t].label
      const button = instructor().getByRole('button', { name: `Disconnect ann's ${label}` })
      await button.click()
      await instructor().getByText(`ann's ${label} was disconnected.`).waitFor()
      await button.waitFor({ state: 'detached', timeout: 10_000 })

      await expect.poll(() => state(t), { timeout: 10_000 }).toBe('closed')
      const why = panel(t).getByRole('status').filter({ hasText: 'The instructor disconnected this client.' })
      await why.waitFor()
      if (t === 'websocket') await student.screenshot({ path: `${artifacts}instructor-disconnected-panel.png` })
      // The other panels were not touched; this one comes back only when asked.
      for (const other of TRANSPORTS.filter((other) => other !== t)) expect(await state(other), other).toBe('open')

      await panel(t).getByRole('button', { name: 'Join' }).click()
      await expect.poll(() => state(t), { timeout: 10_000 }).toBe('open')
      expect(await why.count()).toBe(0)
      await button.waitFor({ timeout: 10_000 })
    },
    60_000,
  )

  it.skipIf(!outside)(
    "says on another machine that the tools are for the server's own machine",
    async () => {
      // The same workbench served on the network address: the page is not on the server's own machine.
      const app = await buildApp({ ...defaultConfig, port: 0, host: '0.0.0.0', logLevel: 'silent' })
      await app.listen({ port: 0, host: '0.0.0.0' })
      try {
        const { port } = app.server.address() as { port: number }
        const page = await openWorkbench(browser, `http://${outside}:${port}`, 'bob')
        await page.getByRole('tab', { name: 'Instructor' }).click()
        const said = page.locator('lab-instructor').getByRole('status')
        await said.waitFor({ timeout: 10_000 })
        expect((await said.textContent())?.replace(/\s+/g, ' ')).toContain(
          "These instructor tools work only on the server's own machine, since it was started without an INSTRUCTOR_CODE.",
        )
        expect(
          await page
            .locator('lab-instructor')
            .getByRole('button', { name: /^Disconnect/ })
            .count(),
        ).toBe(0)
        await page.close()
      } finally {
        await app.close()
      }
    },
    60_000,
  )
})
