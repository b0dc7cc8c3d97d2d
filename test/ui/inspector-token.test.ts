// The Inspector under a class code, in Chromium: a page whose token came as
// /api/login's HttpOnly cookie sees, for each transport, that the token
// travelled in the Cookie header and whose it is, and never the token.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Browser, Page } from 'playwright-core'
import { TRANSPORTS } from '../../server/core/protocol.ts'
import { TRANSPORT_INFO } from '../../server/core/names.ts'
import { buildUi, uiIsStale } from '../../ui/build.ts'
import { hasChromium, launchChromium } from '../support/browser.ts'
import { startServer, type RunningServer } from '../support/server.ts'

const CLASS_CODE = 'class-code-Mn52vQe'

describe.skipIf(!hasChromium)('the Inspector of a page that logged in', () => {
  let server: RunningServer
  let browser: Browser
  let page: Page
  let token = ''

  beforeAll(async () => {
    if (uiIsStale()) await buildUi()
    server = await startServer({ classCode: CLASS_CODE })
    browser = await launchChromium()
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } })
    // The login the class-code prompt makes: its Set-Cookie lands in the browser's jar, as a page's own fetch would.
    const login = await context.request.post(`${server.url}/api/login`, { data: { code: CLASS_CODE, name: 'ann' } })
    expect(login.status()).toBe(200)
    token = ((await login.json()) as { token: string }).token
    page = await context.newPage()
    // Logged in already: the workbench asks nothing and joins under the token's name.
    await page.goto(server.url)
    await page.locator('lab-transport-panel .state.open').nth(4).waitFor()
    await page.getByRole('tab', { name: 'Inspector' }).click()
  }, 120_000)

  afterAll(async () => {
    await browser?.close()
    await server?.close()
  })

  it.each(TRANSPORTS)(
    'says on %s that the token travelled in the Cookie header, and whose it is',
    async (transport) => {
      const inspector = page.locator('lab-inspector')
      const handshake = inspector.locator('section.handshake')
      await inspector.getByRole('tab', { name: TRANSPORT_INFO[transport].label }).click()
      await handshake.getByRole('button', { name: 'Refresh' }).click()
      const line = handshake.locator('p.token')
      await line.waitFor({ timeout: 5000 })
      expect(await line.textContent()).toMatch(
        /^Token: in the Cookie header, lab_token \(redacted\) — ann, student, expires \d\d:\d\d$/,
      )
      const shown = (await handshake.textContent()) ?? ''
      expect(shown).toMatch(/Cookie: \[redacted\]/i)
      expect(shown).not.toContain(token)
    },
  )
})
