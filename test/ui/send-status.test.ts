// The composer's report in Chromium: a send over all five is five sends, and
// the page says what the server did with each one. The server is started with
// small limits so that it, not the page, is the one that refuses.
import { fileURLToPath } from 'node:url'
import { describe, expect, it, onTestFinished } from 'vitest'
import type { Page } from 'playwright-core'
import { TRANSPORTS, type TransportName } from '../../server/core/protocol.ts'
import { TRANSPORT_INFO } from '../../server/core/names.ts'
import { hasChromium, useWorkbench } from '../support/browser.ts'

const artifacts = fileURLToPath(new URL('../../test-artifacts/', import.meta.url))
const TEXT_MAX_BYTES = 1000
const BODY_LIMIT_BYTES = 1024

describe.skipIf(!hasChromium)('the send report in Chromium', () => {
  let page: Page

  useWorkbench({ textMaxBytes: TEXT_MAX_BYTES, bodyLimitBytes: BODY_LIMIT_BYTES }, (opened) => ({ page } = opened))

  const panel = (transport: TransportName) => page.locator(`lab-transport-panel[transport="${transport}"]`)
  const box = () => page.getByLabel('Message', { exact: true })
  const status = () => page.locator('lab-composer .status')
  const line = (transport: TransportName) => page.locator(`lab-send-report li[data-transport="${transport}"]`)
  const copies = (transport: TransportName, text: string) =>
    panel(transport).locator('.messages li .text', { hasText: text }).count()
  /** A message sent over all five is one row in each panel: the copies that came are its lines with a latency. */
  const copiesArrived = (transport: TransportName, text: string) =>
    panel(transport)
      .locator('.messages li.comparison', { hasText: text })
      .locator('tr.copy')
      .filter({ hasNot: page.locator('.latency.waiting') })
      .count()

  async function send(text: string, via: TransportName | 'all'): Promise<void> {
    await box().fill(text)
    await page.locator('lab-composer select').selectOption(via)
    await box().press('Enter')
  }

  async function waitOpen(): Promise<void> {
    for (const t of TRANSPORTS)
      await expect.poll(() => panel(t).locator('.state').textContent(), { message: t, timeout: 15_000 }).toBe('open')
  }

  it("counts a message's UTF-8 bytes against the limit this server was started with", async () => {
    // 251 emoji: 502 UTF-16 units, but 1004 bytes, over this server's 1000.
    await send('😀'.repeat(251), 'websocket')
    await expect.poll(() => status().textContent()).toBe(`Too long: 1004 of ${TEXT_MAX_BYTES} bytes.`)
    expect(await page.locator('lab-composer input:invalid').count()).toBe(1)
    expect(await page.locator('lab-send-report li').count()).toBe(0)
    // 200 emoji, 800 bytes, fit.
    const fits = '😀'.repeat(200)
    await send(fits, 'websocket')
    await expect.poll(() => status().textContent()).toBe('Sent over WebSocket.')
    await expect.poll(() => copies('sse', fits)).toBe(1)
  })

  it("shows each transport's refusal with the server's code and message, and gives the text back", async () => {
    // Within the text limit, so the page lets it go; over the body limit once wrapped, so the server refuses it.
    const text = 'x'.repeat(TEXT_MAX_BYTES)
    await send(text, 'all')
    await expect.poll(() => status().textContent(), { timeout: 15_000 }).toBe('Not sent.')
    for (const t of ['short-polling', 'long-polling', 'sse'] as const)
      expect(await line(t).textContent(), t).toMatch(
        new RegExp(
          `^\\s*${TRANSPORT_INFO[t].label}: refused \\(413\\): LAB_ERR_TOO_LARGE: the message is larger than the limit`,
        ),
      )
    expect(await line('websocket').textContent()).toMatch(
      /WebSocket: refused: close 1009: the server closed the connection/,
    )
    expect(await line('socket.io').textContent()).toMatch(
      /Socket.IO: refused: (close 1009|HTTP 413): the server closed the connection/,
    )
    await page.screenshot({ path: `${artifacts}send-report-refused.png` })
    // Nothing went out, so the text is back to be shortened.
    expect(await box().inputValue()).toBe(text)
    await waitOpen()
    for (const t of TRANSPORTS) expect(await copies(t, text), t).toBe(0)
    await box().fill('')
  })

  it.each(TRANSPORTS)(
    'after Leave on %s, sends over the other four, says that one was not joined, and never sends the text again',
    async (left) => {
      await waitOpen()
      onTestFinished(async () => {
        if ((await panel(left).locator('.state').textContent()) === 'closed')
          await panel(left).getByRole('button', { name: 'Join' }).click()
      })
      await panel(left).getByRole('button', { name: 'Leave' }).click()
      await expect.poll(() => panel(left).locator('.state').textContent()).toBe('closed')
      const text = `without ${left}`
      await send(text, 'all')
      await expect.poll(() => status().textContent()).toBe('Sent over 4 of 5 transports.')
      expect(await line(left).textContent()).toMatch(new RegExp(`${TRANSPORT_INFO[left].label}: not joined, not sent`))
      for (const t of TRANSPORTS.filter((t) => t !== left))
        expect(await line(t).textContent(), t).toMatch(new RegExp(`${TRANSPORT_INFO[t].label}: sent \\(#\\d+\\)`))
      if (left === 'sse') await page.screenshot({ path: `${artifacts}send-report-after-leave.png` })
      // What went out is not put back: Enter finds the box empty and sends nothing.
      expect(await box().inputValue()).toBe('')
      await box().press('Enter')
      const marker = `after ${left}'s Enter`
      const listener = TRANSPORTS.find((t) => t !== left)!
      await send(marker, listener)
      await expect.poll(() => copies(listener, marker)).toBe(1)
      expect(await copies(listener, text)).toBe(1)
      await expect.poll(() => copiesArrived(listener, text)).toBe(4)
    },
  )
})
