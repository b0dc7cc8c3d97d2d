// The class notes' own client page, unchanged, in a real browser against
// this server. The page is read from the notes at test time (it is their
// code, not ours), and served on this server's origin so that its
// /socket.io/socket.io.js and io() reach this server as they would in class.
// Beside it, the page in the notes' shape that this server serves itself.
import { existsSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Browser } from 'playwright-core'
import { createClient, waitForText } from '../support/clients.ts'
import { hasChromium, launchChromium } from '../support/browser.ts'
import { startServer, type RunningServer } from '../support/server.ts'

const notesPath = fileURLToPath(new URL('../../../shared/seed/websockets-class.md', import.meta.url))
const hasNotes = existsSync(notesPath)
if (!hasNotes) console.warn(`class notes not found at ${notesPath}: the notes page test is skipped`)

/** The notes' fuller client page: the HTML block that has the form and the server_message listener. */
function notesPage(): string {
  const blocks = [...readFileSync(notesPath, 'utf8').matchAll(/```html\n([\s\S]*?)```/g)].map((m) => m[1]!)
  const page = blocks.find((b) => b.includes('server_message') && b.includes('<form'))
  if (!page) throw new Error('the notes no longer contain the chat page')
  return page
}

describe.skipIf(!hasChromium)('the class notes client page in Chromium', () => {
  let server: RunningServer
  let browser: Browser

  beforeAll(async () => {
    server = await startServer()
    browser = await launchChromium()
  })
  afterAll(async () => {
    await browser?.close()
    await server?.close()
  })

  async function openNotesPage() {
    const page = await browser.newPage()
    const html = notesPage()
    await page.route(`${server.url}/notes.html`, (route) => route.fulfill({ body: html, contentType: 'text/html' }))
    await page.goto(`${server.url}/notes.html`)
    // The page's `const socket = io()` is a global lexical binding, visible to a script but not on window.
    await page.waitForFunction('typeof socket !== "undefined" && socket.connected === true')
    return page
  }

  it.skipIf(!hasNotes)('sends with its form and shows what every transport says', async () => {
    const [first, second] = [await openNotesPage(), await openNotesPage()]
    const ws = createClient('websocket', server.url, 'ws-peer')
    await ws.join('lobby')

    await first.fill('#input', 'typed in the notes page')
    await first.click('button')
    for (const page of [first, second]) {
      await page.waitForSelector('#messages li:has-text("typed in the notes page")')
    }
    const fromPage = await waitForText(ws, 'lobby', 'typed in the notes page')
    expect(fromPage.from.transport).toBe('socket.io')

    await ws.send('lobby', '<b>from a raw WebSocket</b>')
    await second.waitForSelector('#messages li:has-text("from a raw WebSocket")')
    // The page renders with textContent: markup arrives as text.
    expect(await second.locator('#messages b').count()).toBe(0)
    await ws.close()
  })

  // The page this server serves at /class-notes/, in the notes' shape (lesson 08).
  it("greets, sends with its form and shows a raw WebSocket client's message as text", async () => {
    const page = await browser.newPage()
    await page.goto(`${server.url}/class-notes/`)
    await page.waitForSelector('#messages li.greeting')
    const ws = createClient('websocket', server.url, 'ws-peer')
    await ws.join('lobby')

    await page.fill('#input', 'typed in the served page')
    await page.click('button')
    const fromPage = await waitForText(ws, 'lobby', 'typed in the served page')
    expect(fromPage.from.transport).toBe('socket.io')
    await page.waitForSelector('#messages li:has-text("typed in the served page")')

    await ws.send('lobby', '<b>from a raw WebSocket</b>')
    await page.waitForSelector('#messages li:has-text("from a raw WebSocket")')
    expect(await page.locator('#messages b').count()).toBe(0)
    await ws.close()
    await page.close()
  })
})
