// The classroom in Chromium: the instructor's Invite card (the URL students
// open, and its QR code, at the projector's, a laptop's and a phone's size),
// and the name prompt, which says what the lab is and is asked only once.
import { mkdirSync } from 'node:fs'
import { networkInterfaces } from 'node:os'
import { fileURLToPath } from 'node:url'
import jsqr from 'jsqr'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Browser, Page } from 'playwright-core'
import { TRANSPORTS } from '../../server/core/protocol.ts'
import type { LogEntry } from '../../server/core/protocol.ts'
import { buildUi, uiIsStale } from '../../ui/build.ts'
import { hasChromium, launchChromium } from '../support/browser.ts'
import { startServerProcess, type ServerProcess } from '../support/process.ts'
import { startServer, type RunningServer } from '../support/server.ts'
import { until } from '../support/wait.ts'

// jsqr's types declare an ES default export, but the file is a UMD bundle whose module.exports is the function itself.
const jsQR = jsqr as unknown as typeof jsqr.default

const artifacts = fileURLToPath(new URL('../../test-artifacts/', import.meta.url))

const VIEWPORTS = [
  ['projector', { width: 1280, height: 800 }],
  ['projector-hd', { width: 1920, height: 1080 }],
  ['laptop', { width: 1366, height: 768 }],
  ['phone', { width: 390, height: 844 }],
] as const

const externalIPv4 = Object.values(networkInterfaces())
  .flatMap((list) => list ?? [])
  .filter((i) => !i.internal && i.family === 'IPv4')
  .map((i) => i.address)

let browser: Browser

beforeAll(async () => {
  if (!hasChromium) return
  if (uiIsStale()) await buildUi()
  mkdirSync(artifacts, { recursive: true })
  browser = await launchChromium()
}, 120_000)

afterAll(async () => {
  await browser?.close()
})

/** A fresh browser profile (empty storage) at `url`, the size of `viewport`. */
async function openPage(url: string, viewport: { width: number; height: number } = VIEWPORTS[0][1]): Promise<Page> {
  const context = await browser.newContext({ viewport })
  const page = await context.newPage()
  await page.goto(url)
  return page
}

async function join(page: Page, name: string): Promise<void> {
  await page.getByLabel('Name').fill(name)
  await page.getByRole('button', { name: 'Join the lab' }).click()
}

/** The text of the QR code in a PNG screenshot, decoded by jsQR from the pixels Chromium draws it to. */
async function decodeQr(page: Page, png: Buffer): Promise<string | undefined> {
  const image = await page.evaluate(async (base64) => {
    const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0))
    const bitmap = await createImageBitmap(new Blob([bytes], { type: 'image/png' }))
    const canvas = new OffscreenCanvas(bitmap.width, bitmap.height)
    const context = canvas.getContext('2d')!
    context.drawImage(bitmap, 0, 0)
    const pixels = context.getImageData(0, 0, bitmap.width, bitmap.height).data
    let binary = ''
    for (let i = 0; i < pixels.length; i += 0x8000)
      binary += String.fromCharCode(...pixels.subarray(i, Math.min(i + 0x8000, pixels.length)))
    return { width: bitmap.width, height: bitmap.height, rgba: btoa(binary) }
  }, png.toString('base64'))
  const rgba = new Uint8ClampedArray(Buffer.from(image.rgba, 'base64'))
  return jsQR(rgba, image.width, image.height)?.data
}

describe.skipIf(!hasChromium || externalIPv4.length === 0)('the Invite card of a server on every interface', () => {
  let server: ServerProcess
  let joinUrl: string

  beforeAll(async () => {
    server = await startServerProcess({ HOST: '0.0.0.0' }, [], 30_000)
    joinUrl = `http://${externalIPv4[0]}:${new URL(server.url).port}/`
  }, 45_000)

  afterAll(async () => {
    server?.child.kill('SIGINT')
    await server?.exited
  })

  it.each(VIEWPORTS)(
    'at %s size shows the network URL in full, with a QR code that decodes to it',
    async (label, viewport) => {
      // The instructor's page, opened on the server's own machine at localhost.
      const page = await openPage(server.url, viewport)
      try {
        await join(page, 'Instructor')
        await page.getByRole('button', { name: 'Invite' }).click()
        const card = page.getByRole('dialog', { name: 'Join this lab' })
        await expect.poll(() => card.locator('.url').textContent(), { timeout: 10_000 }).toBe(joinUrl)
        await page.screenshot({ path: `${artifacts}join-card-${label}.png` })

        // Nothing to scroll sideways, on the page or in the card; on the big screens the whole card is in view.
        const fits = await card.evaluate((dialog) => ({
          page: document.documentElement.scrollWidth <= window.innerWidth,
          cardWidth: dialog.scrollWidth <= dialog.clientWidth && dialog.getBoundingClientRect().right <= innerWidth,
          cardHeight: dialog.scrollHeight <= dialog.clientHeight,
        }))
        expect(fits.page && fits.cardWidth, 'no horizontal scroll').toBe(true)
        if (label !== 'phone') expect(fits.cardHeight, 'the whole card in view').toBe(true)

        const qr = card.getByRole('img', { name: `QR code of ${joinUrl}` })
        expect(await decodeQr(page, await qr.screenshot())).toBe(joinUrl)
      } finally {
        await page.context().close()
      }
    },
    60_000,
  )
})

describe.skipIf(!hasChromium)('the workbench on a server only its own machine can reach', () => {
  let server: RunningServer

  beforeAll(async () => {
    server = await startServer()
  })

  afterAll(async () => {
    await server?.close()
  })

  /** Join notices in the lobby's log for `name`, per transport. */
  async function joinsOf(name: string): Promise<Record<string, number>> {
    const batch = (await (await fetch(`${server.url}/poll?room=lobby`)).json()) as { entries: LogEntry[] }
    const joins: Record<string, number> = {}
    for (const entry of batch.entries)
      if (entry.type === 'notice' && entry.event === 'join' && entry.who.name === name)
        joins[entry.who.transport] = (joins[entry.who.transport] ?? 0) + 1
    return joins
  }

  const joinedEverywhere = (joins: Record<string, number>, times: number) =>
    TRANSPORTS.every((t) => (joins[t] ?? 0) >= times)

  it('says on the Invite card that the class cannot join, and how to let it, instead of offering a URL', async () => {
    const page = await openPage(server.url)
    try {
      await join(page, 'Instructor')
      await page.getByRole('button', { name: 'Invite' }).click()
      const card = page.getByRole('dialog', { name: 'Join this lab' })
      await expect.poll(() => card.textContent(), { timeout: 10_000 }).toContain('Only this computer can open the lab.')
      expect(await card.textContent()).toContain('The server listens on 127.0.0.1')
      expect(await card.locator('pre').textContent()).toBe(`PORT=${server.port} HOST=0.0.0.0 npm start`)
      expect(await card.locator('svg').count()).toBe(0)
      await page.screenshot({ path: `${artifacts}join-card-this-machine-only.png` })
      await card.getByRole('button', { name: 'Close' }).click()
      await expect.poll(() => card.isVisible()).toBe(false)
    } finally {
      await page.context().close()
    }
  }, 60_000)

  it('explains what the lab is in the name prompt, and after a reload joins with the remembered name', async () => {
    const page = await openPage(server.url)
    try {
      const prompt = page.getByRole('dialog', { name: 'Welcome to Transport Lab' })
      await prompt.waitFor()
      const text = await prompt.innerText()
      expect(text).toContain('One chat, carried five ways at once')
      expect(text).toContain('short polling, long polling, Server-Sent Events, WebSocket and Socket.IO')
      expect(text).toContain('side by side, and the lab measures what each one costs')
      await page.screenshot({ path: `${artifacts}name-prompt.png` })
      await join(page, 'Ada')
      await until(async () => joinedEverywhere(await joinsOf('Ada'), 1), 'Ada on every transport', 15_000)

      await page.reload()
      // Every transport joins again as Ada, and the prompt never asked.
      await until(async () => joinedEverywhere(await joinsOf('Ada'), 2), 'Ada again on every transport', 15_000)
      expect(await page.locator('lab-name-prompt dialog[open]').count()).toBe(0)
      await expect.poll(() => page.locator('lab-transport-panel .state.open').count(), { timeout: 15_000 }).toBe(5)
    } finally {
      await page.context().close()
    }
  }, 60_000)

  it('changes the name on request: every transport rejoins under the new one, which a reload keeps', async () => {
    const page = await openPage(server.url)
    const presence = () => server.app.hub.presence('lobby')
    const named = (name: string) => presence().filter((m) => m.name === name).length
    try {
      await join(page, 'Grace')
      await until(() => named('Grace') === 5, 'Grace on every transport', 15_000)

      await page.getByRole('button', { name: 'Change name' }).click()
      const prompt = page.getByRole('dialog', { name: 'Welcome to Transport Lab' })
      expect(await prompt.getByLabel('Name').inputValue()).toBe('Grace')
      await prompt.getByLabel('Name').fill('Hopper')
      await prompt.getByRole('button', { name: 'Use this name' }).click()
      await until(
        () => named('Hopper') === 5 && named('Grace') === 0,
        'Hopper, and no Grace, on every transport',
        15_000,
      )

      await page.reload()
      await until(async () => joinedEverywhere(await joinsOf('Hopper'), 2), 'Hopper again on every transport', 15_000)
      expect(await page.locator('lab-name-prompt dialog[open]').count()).toBe(0)
    } finally {
      await page.context().close()
    }
  }, 60_000)
})
