// The workbench's Lessons tab and its routes in Chromium, over lessons written
// for the test into a temporary folder (the real lessons/ is never touched).
// The page is served from 127.0.0.1 while the lessons link to localhost:3000,
// as a classroom reaching the lab at http://<ip>:3000 would see them.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { TRANSPORTS, type Member } from '../../server/core/protocol.ts'
import { buildUi, uiIsStale } from '../../ui/build.ts'
import { hasChromium, launchChromium } from '../support/browser.ts'
import { startServer, type RunningServer } from '../support/server.ts'

const artifacts = fileURLToPath(new URL('../../test-artifacts/', import.meta.url))

const COMMAND = `curl 'http://localhost:3000/poll?room=lobby'`
const LONG_LINE = `const url = 'http://localhost:3000/poll?room=lobby&since=0&epoch=${'0123456789abcdef'.repeat(8)}'`

const FIRST = `# 01 · First steps

**Goal**: open the lab's views from a lesson.

## Steps

### 1. Ask for the newest entries

Why: a short poll answers at once.

\`\`\`sh
${COMMAND}
\`\`\`

What happened: one request, one answer. Now open the
[Inspector on the WebSocket](http://localhost:3000/#/inspector?transport=websocket),
[the live prices](http://localhost:3000/#/race?room=ticker) or
[the race with compression](/#/race?deflate=on).

\`\`\`js norun
${LONG_LINE}
\`\`\`

## Read the code

- [the short-polling transport](../server/transports/short-polling.ts)
`

const HOSTILE = `# 02 · Hostile markup

<script>window.ranScript = true</script>

<img src="/no-such-image.png" onerror="window.ranOnerror = true" alt="broken on purpose">

[a javascript: link](javascript:window.ranLink=true)

<a href="#/race" onclick="window.ranOnclick = true">an onclick</a>

Text after the markup.
`

describe.skipIf(!hasChromium)('the Lessons tab in Chromium', () => {
  let root: string
  let server: RunningServer
  let browser: Browser
  let context: BrowserContext
  let page: Page

  /** Opens the workbench at a route, giving the name when the page asks (the context's first page; later ones remember it). */
  async function open(target: Page, hash = ''): Promise<void> {
    await target.goto(`${server.url}/${hash}`)
    if (await target.evaluate(() => localStorage.getItem('transport-lab:name'))) return
    await target.getByLabel('Name').fill('Student')
    await target.getByRole('button', { name: 'Join the lab' }).click()
  }

  const lesson = (target: Page = page) => target.locator('lab-lesson')
  const hash = () => page.evaluate(() => location.hash)

  beforeAll(async () => {
    if (uiIsStale()) await buildUi()
    mkdirSync(artifacts, { recursive: true })
    root = mkdtempSync(join(tmpdir(), 'lab-ui-lessons-'))
    writeFileSync(join(root, '01-first-steps.md'), FIRST)
    writeFileSync(join(root, '02-hostile.md'), HOSTILE)
    server = await startServer({}, { lessonsDir: root })
    browser = await launchChromium()
    context = await browser.newContext({ viewport: { width: 1280, height: 800 } })
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url })
    page = await context.newPage()
    await open(page)
  }, 120_000)

  afterAll(async () => {
    await browser?.close()
    await server?.close()
    if (root) rmSync(root, { recursive: true, force: true })
  })

  it('lists the lessons and renders the one picked', async () => {
    await page.getByRole('tab', { name: 'Lessons' }).click()
    expect(await hash()).toBe('#/lessons')
    const list = page.locator('lab-lessons nav[aria-label="Lessons"] li')
    await expect
      .poll(async () => (await list.allTextContents()).map((t) => t.replace(/\s+/g, ' ').trim()))
      .toEqual(['01 First steps', '02 Hostile markup'])
    await list.getByText('First steps').click()
    await lesson().getByRole('heading', { level: 1, name: '01 · First steps' }).waitFor()
    await lesson().getByRole('heading', { level: 3, name: '1. Ask for the newest entries' }).waitFor()
    expect(await hash()).toBe('#/lessons/01-first-steps')
    // A link to a source file names the file instead of pointing at a page the server does not have.
    await lesson().locator('.source-ref', { hasText: 'server/transports/short-polling.ts' }).waitFor()
    expect(await lesson().locator('a[href*="short-polling.ts"]').count()).toBe(0)
    await page.screenshot({ path: `${artifacts}lessons-projector.png` })
  })

  it("shows a lesson's markup without running any of it", async () => {
    await page.evaluate(() => {
      location.hash = '#/lessons/02-hostile'
    })
    await lesson().getByText('Text after the markup.').waitFor()
    const img = lesson().locator('img')
    await expect.poll(() => img.evaluate((el: HTMLImageElement) => el.complete)).toBe(true)
    // Clicking what is left of the links must not run anything either.
    await lesson().getByText('a javascript: link').click()
    await lesson().getByText('an onclick').click()
    await page.getByRole('tab', { name: 'Race', selected: true }).waitFor()
    const ran = await page.evaluate(() => {
      const w = window as unknown as Record<string, unknown>
      return ['ranScript', 'ranOnerror', 'ranLink', 'ranOnclick'].filter((flag) => w[flag] !== undefined)
    })
    expect(ran).toEqual([])
    expect(await img.getAttribute('onerror')).toBeNull()
    expect(await lesson().locator('script').count()).toBe(0)
    expect(await lesson().locator('[onclick]').count()).toBe(0)
  })

  it('copies a command to the clipboard with its button, pointed at the lab the page came from', async () => {
    await page.evaluate(() => {
      location.hash = '#/lessons/01-first-steps'
    })
    // This page is not at localhost:3000 (a classroom address, here a test port): the command says where it is.
    const here = COMMAND.replace('localhost:3000', new URL(server.url).host)
    await lesson().getByText(`export LAB_URL=${server.url}`).waitFor()
    const block = lesson().locator('.code-block', { hasText: here })
    await block.getByRole('button', { name: 'Copy' }).click()
    await block.getByRole('button', { name: 'Copied' }).waitFor()
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(here)
  })

  it('selects the command instead where the page has no clipboard API (plain http on a classroom address)', async () => {
    const insecure = await context.newPage()
    try {
      // What a page at http://<ip>:3000 gets: no navigator.clipboard at all.
      await insecure.addInitScript(() =>
        Object.defineProperty(Navigator.prototype, 'clipboard', { get: () => undefined }),
      )
      await open(insecure, '#/lessons/01-first-steps')
      const here = COMMAND.replace('localhost:3000', new URL(server.url).host)
      const block = lesson(insecure).locator('.code-block', { hasText: here })
      await block.getByRole('button', { name: 'Copy' }).click()
      await block.getByRole('button', { name: /^(Copied|Selected: copy it)$/ }).waitFor()
      expect(await insecure.evaluate(() => window.getSelection()?.toString().trim())).toBe(here)
    } finally {
      await insecure.close()
    }
  }, 60_000)

  it("opens the Inspector on the WebSocket from a lesson's link, in place, and Back returns to the lesson", async () => {
    // Start the Inspector elsewhere, so the link is what brings it to the WebSocket.
    await page.evaluate(() => {
      location.hash = '#/inspector?transport=sse'
    })
    await page.locator('lab-inspector').getByRole('tab', { name: 'Server-Sent Events', selected: true }).waitFor()
    await page.getByRole('tab', { name: 'Lessons' }).click()
    await lesson().getByRole('link', { name: 'Inspector on the WebSocket' }).click()

    await page.getByRole('tab', { name: 'Inspector', selected: true }).waitFor()
    const inspector = page.locator('lab-inspector')
    await inspector.getByRole('tab', { name: 'WebSocket', exact: true, selected: true }).waitFor()
    await inspector.getByText('101 Switching Protocols').first().waitFor()
    expect(await hash()).toBe('#/inspector?transport=websocket')
    expect(new URL(page.url()).origin).toBe(server.url)
    expect(context.pages()).toHaveLength(1)

    await page.goBack()
    await page.getByRole('tab', { name: 'Lessons', selected: true }).waitFor()
    await lesson().getByRole('heading', { level: 1, name: '01 · First steps' }).waitFor()
  })

  it('moves every panel into the ticker room from a #/race?room=ticker link', async () => {
    await page.getByRole('tab', { name: 'Lessons' }).click()
    await lesson().getByRole('link', { name: 'the live prices' }).click()
    await page.getByRole('tab', { name: 'Race', selected: true }).waitFor()
    expect(await hash()).toBe('#/race?room=ticker')
    await expect.poll(() => page.locator('#room').inputValue()).toBe('ticker')
    const studentTransports = async () => {
      const members = (await (await fetch(`${server.url}/api/rooms/ticker/presence`)).json()) as Member[]
      return members
        .filter((m) => m.name === 'Student')
        .map((m) => m.transport)
        .sort()
    }
    await expect.poll(studentTransports, { timeout: 10_000 }).toEqual([...TRANSPORTS].sort())
    for (const t of TRANSPORTS)
      await expect.poll(() => page.locator(`lab-transport-panel[transport="${t}"] .state`).textContent()).toBe('open')
    await page.locator('lab-presence').getByText('ticker').waitFor()
    // The ticker's updates are timed from the server's stamp, as everyone else's messages are.
    for (const t of TRANSPORTS) {
      await expect
        .poll(
          () =>
            page
              .locator(`lab-transport-panel[transport="${t}"] .latency`)
              .filter({ hasText: /^≈ \d+\.\d ms from server$/ })
              .count(),
          { timeout: 10_000 },
        )
        .toBeGreaterThan(0)
    }
  })

  it('turns on WebSocket compression from #/race?deflate=on, and a reload keeps the view and its settings', async () => {
    await page.getByRole('tab', { name: 'Lessons' }).click()
    await lesson().getByRole('link', { name: 'the race with compression' }).click()
    const deflate = page
      .locator('lab-transport-panel[transport="websocket"]')
      .getByRole('checkbox', { name: 'deflate' })
    await expect.poll(() => deflate.isChecked()).toBe(true)
    expect(await hash()).toBe('#/race?room=ticker&deflate=on')
    // The raw WebSocket reconnected asking for compression (?compress=1): the server's record of its last handshake says so.
    const lastUpgrade = async () => {
      const handshakes = (await (await fetch(`${server.url}/api/wire/handshakes`)).json()) as Record<
        string,
        { request: { startLine: string } }
      >
      return handshakes.websocket?.request.startLine ?? ''
    }
    await expect.poll(lastUpgrade, { timeout: 10_000 }).toContain('compress=1')

    // The page remembers its name: a reload joins at once.
    await page.reload()
    await page.getByRole('tab', { name: 'Race', selected: true }).waitFor()
    await expect.poll(() => page.locator('#room').inputValue()).toBe('ticker')
    await expect.poll(() => deflate.isChecked()).toBe(true)

    // The panel's own box changes the same setting, and the address follows.
    await deflate.uncheck()
    await expect.poll(hash).toBe('#/race?room=ticker')
    await expect.poll(lastUpgrade, { timeout: 10_000 }).toContain('compress=0')
  }, 60_000)

  it('fits a phone: the page is as wide as the screen and a long code line scrolls inside its block', async () => {
    const phone = await context.newPage()
    await phone.setViewportSize({ width: 375, height: 740 })
    try {
      await open(phone, '#/lessons/01-first-steps')
      const block = lesson(phone).locator('pre', { hasText: 'const url' })
      await block.waitFor()
      expect(await phone.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375)
      expect(await block.evaluate((el) => el.scrollWidth > el.clientWidth)).toBe(true)
      await phone.getByRole('tab', { name: 'Lessons', selected: true }).waitFor()
      await phone.screenshot({ path: `${artifacts}lessons-phone.png` })
    } finally {
      await phone.close()
    }
  }, 60_000)
})
