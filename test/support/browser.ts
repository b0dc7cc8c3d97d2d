// Debian's Chromium driven by playwright-core (nothing is downloaded). Locally
// a missing Chromium skips browser tests with a message; in CI it is an error.
import { existsSync, mkdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { chromium, type Browser, type BrowserContextOptions, type Page } from 'playwright-core'
import { afterAll, beforeAll } from 'vitest'
import type { Config } from '../../server/config.ts'
import { buildUi, uiIsStale } from '../../ui/build.ts'
import { startServer, type RunningServer } from './server.ts'

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
export const hasChromium = existsSync(CHROMIUM_PATH)
export const inCI = process.env.CI === 'true'

if (!hasChromium) {
  const message = `Chromium not found at ${CHROMIUM_PATH}: browser tests ${inCI ? 'are required in CI' : 'are skipped'} (apt-get install chromium)`
  if (inCI) throw new Error(message)
  console.warn(message)
}

/** `extraArgs`: more Chromium switches (a test's `--host-resolver-rules`, to give a second site a name). */
export async function launchChromium(extraArgs: string[] = []): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-quic',
      '--no-first-run',
      ...extraArgs,
    ],
  })
}

/** A page of the workbench at `url` as a projector shows it (1280×800, or `screen`), past the name prompt as `name`. */
export async function openWorkbench(
  browser: Browser,
  url: string,
  name = 'Instructor',
  screen: BrowserContextOptions = { viewport: { width: 1280, height: 800 } },
): Promise<Page> {
  const page = await browser.newPage(screen)
  await page.goto(url)
  await page.getByLabel('Name').fill(name)
  await page.getByRole('button', { name: 'Join the lab' }).click()
  return page
}

/** What useWorkbench() opens for a test file. */
export interface OpenWorkbench {
  server: RunningServer
  browser: Browser
  page: Page
}

/**
 * The set-up most workbench tests share, registered as the describe block's
 * hooks: the UI built when stale, test-artifacts/ made, a server (with
 * `overrides`), Chromium, and one page past the name prompt with all five
 * panels open, handed to `ready`; all closed after the block.
 */
export function useWorkbench(overrides: Partial<Config>, ready: (opened: OpenWorkbench) => void): void {
  let opened: Partial<OpenWorkbench> = {}
  beforeAll(async () => {
    if (uiIsStale()) await buildUi()
    mkdirSync(fileURLToPath(new URL('../../test-artifacts/', import.meta.url)), { recursive: true })
    const server = (opened.server = await startServer(overrides))
    const browser = (opened.browser = await launchChromium())
    const page = await openWorkbench(browser, server.url)
    await page.locator('lab-transport-panel .state.open').nth(4).waitFor()
    ready({ server, browser, page })
  }, 120_000)
  afterAll(async () => {
    await opened.browser?.close()
    await opened.server?.close()
    opened = {}
  })
}
