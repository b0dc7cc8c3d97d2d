// The Inspector in Chromium beside the frame log: the page's own WebSocket
// frames as the server read them (way, opcode, FIN, mask, length, header
// bytes), Socket.IO's named by packet type as the frame log names them, and
// the SSE client's event stream, event by event with its id, like DevTools'
// EventStream tab.
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import type { Page } from 'playwright-core'
import type { Batch } from '../../server/core/protocol.ts'
import { hasChromium, useWorkbench } from '../support/browser.ts'
import type { RunningServer } from '../support/server.ts'

const artifacts = fileURLToPath(new URL('../../test-artifacts/', import.meta.url))

/** What the test reads of the page's clients, in the page: not public, so typed here only as far as it is read. */
interface PageClients {
  lab: { clients: Record<string, { socket?: { io: { engine?: { transport?: { name: string } } } } }> }
}

describe.skipIf(!hasChromium)('the frame view and the SSE event stream in Chromium', () => {
  let server: RunningServer
  let page: Page

  useWorkbench({}, (opened) => ({ server, page } = opened))

  /** Sends from the Race view's composer, then opens the Inspector on `inspect`. */
  async function sendThenInspect(text: string, via: string, inspect: string): Promise<void> {
    await page.getByRole('tab', { name: 'Race' }).click()
    await page.getByLabel('Message', { exact: true }).fill(text)
    await page.locator('lab-composer select').selectOption(via)
    await page.getByLabel('Message', { exact: true }).press('Enter')
    await page.getByRole('tab', { name: 'Inspector' }).click()
    await page.locator('lab-inspector').getByRole('tab', { name: inspect }).click()
  }

  /** A row of the frame view as its cells' text. */
  const rows = () =>
    page
      .locator('lab-wire-frames tbody tr')
      .evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => (td.textContent ?? '').trim())))

  it("shows the page's WebSocket frames as the server read them: the welcome down unmasked, a message up masked", async () => {
    const text = 'frame view over the websocket'
    await sendThenInspect(text, 'websocket', 'WebSocket')
    // # · way · time · opcode · FIN · RSV1 · mask · length · header bytes · what it is
    await expect
      .poll(async () => (await rows()).find((cells) => cells[1] === '↑ to server'), { timeout: 10_000 })
      .toMatchObject({ 3: '1 text', 4: '1', 6: '1' })
    const all = await rows()
    expect(all[0]).toMatchObject({ 0: '1', 1: '↓ to page', 3: '1 text', 4: '1', 6: '0' })
    expect(all[0]![8]).toMatch(/^81 /)
    const up = all.find((cells) => cells[1] === '↑ to server')!
    // The mask key's four bytes follow the length: 6 bytes under 126, 8 up to 64 KiB.
    expect(up[8]!.split(' ').length).toBe(Number(up[7]) < 126 ? 6 : 8)
    await page.locator('lab-inspector section.wire-frames').screenshot({ path: `${artifacts}frame-view-websocket.png` })
  })

  it('names each Socket.IO frame by its packet type, as the frame log does', async () => {
    await expect
      .poll(
        () =>
          page.evaluate(
            () =>
              (document.querySelector('lab-app') as unknown as PageClients).lab.clients['socket.io']!.socket?.io.engine
                ?.transport?.name,
          ),
        { timeout: 15_000 },
      )
      .toBe('websocket')
    await sendThenInspect('frame view over Socket.IO', 'socket.io', 'Socket.IO')
    await expect
      .poll(
        async () => (await rows()).find((cells) => cells[1] === '↑ to server' && cells[9]!.includes('SIO 2 EVENT')),
        {
          timeout: 10_000,
        },
      )
      .toMatchObject({ 3: '1 text', 6: '1' })
    expect((await rows()).some((cells) => cells[1] === '↓ to page' && cells[9] === 'EIO 4 message · SIO 2 EVENT')).toBe(
      true,
    )
    await page.locator('lab-frame-log td', { hasText: 'EIO 4 message · SIO 2 EVENT' }).first().waitFor()
    await page.locator('lab-inspector section.wire-frames').screenshot({ path: `${artifacts}frame-view-socket-io.png` })
  })

  it("lists a sent message's SSE event with its id, its type and its data", async () => {
    const text = 'seen in the event stream'
    await sendThenInspect(text, 'sse', 'Server-Sent Events')
    const row = page.locator('lab-sse-events tbody tr', { hasText: text })
    await row.waitFor({ timeout: 10_000 })
    const cells = await row.locator('td').allTextContents()
    const batch = (await (await fetch(`${server.url}/poll?room=lobby`)).json()) as Batch
    const entry = batch.entries.find((e) => e.type === 'message' && e.text === text)!
    expect(cells[0]!.trim()).toBe(entry.id)
    expect(cells[0]!.trim()).toBe(`${entry.epoch}-${entry.seq}`)
    expect(cells[1]!.trim()).toBe('message')
    expect(JSON.parse(cells[2]!) as unknown).toMatchObject({ text, seq: entry.seq })
    await page.locator('lab-inspector section.sse-events').screenshot({ path: `${artifacts}sse-event-stream.png` })
  })
})
