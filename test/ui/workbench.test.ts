// The workbench in Chromium, served by the real server from the built UI:
// what the class sees on the projector.
import { fileURLToPath } from 'node:url'
import { describe, expect, it, onTestFinished } from 'vitest'
import type { Browser, Page } from 'playwright-core'
import { TRANSPORTS } from '../../server/core/protocol.ts'
import { TEXT_MAX_BYTES, TRANSPORT_INFO } from '../../server/core/names.ts'
import { hasChromium, useWorkbench } from '../support/browser.ts'
import { createClient, messagesIn, waitForText } from '../support/clients.ts'
import type { RunningServer } from '../support/server.ts'

const artifacts = fileURLToPath(new URL('../../test-artifacts/', import.meta.url))

describe.skipIf(!hasChromium)('the workbench in Chromium', () => {
  let server: RunningServer
  let browser: Browser
  let page: Page

  useWorkbench({}, (opened) => ({ server, browser, page } = opened))

  const panel = (transport: string) => page.locator(`lab-transport-panel[transport="${transport}"]`)

  async function send(text: string, via: string): Promise<void> {
    await page.getByLabel('Message', { exact: true }).fill(text)
    await page.locator('lab-composer select').selectOption(via)
    await page.getByLabel('Message', { exact: true }).press('Enter')
  }

  it('shows five panels, each connected over its own transport', async () => {
    for (const t of TRANSPORTS) {
      await expect.poll(() => panel(t).locator('h2').textContent()).toBe(TRANSPORT_INFO[t].label)
      await expect.poll(() => panel(t).locator('.state').textContent()).toBe('open')
    }
    await page.screenshot({ path: `${artifacts}workbench-race-connected.png` })
  })

  it.each(TRANSPORTS)('a message sent over %s arrives in all five panels with a latency figure', async (via) => {
    const text = `race over ${via}`
    await send(text, via)
    for (const t of TRANSPORTS) {
      const row = panel(t).locator('.messages li', { hasText: text })
      await row.waitFor()
      await expect.poll(() => row.locator('.latency').textContent()).toMatch(/^\d+\.\d ms$/)
    }
  })

  it('sends over all five at once and every panel shows the five copies in one row, a latency each', async () => {
    await send('all at once', 'all')
    for (const t of TRANSPORTS) {
      const row = panel(t).locator('.messages li', { hasText: 'all at once' })
      await expect.poll(() => row.count()).toBe(1)
      await expect.poll(() => row.locator('.copy .latency', { hasText: / ms$/ }).count()).toBe(5)
    }
    await page.screenshot({ path: `${artifacts}workbench-race-all-five.png` })
  })

  // A second page is opened and joins all five: on a loaded 2-core machine that alone can take 10 s.
  it("gives a message from outside the page a latency in every panel: the server's stamp to this page, across the clocks", async () => {
    // A second page that has sent nothing: the clocks' offset comes from its time probes alone.
    const student = await browser.newPage({ viewport: { width: 1280, height: 800 } })
    onTestFinished(() => student.close())
    await student.goto(server.url)
    await student.getByLabel('Name').fill('Student')
    await student.getByRole('button', { name: 'Join the lab' }).click()
    await student.locator('lab-transport-panel .state.open').nth(4).waitFor()
    // Sent from a machine whose clock is an hour ahead: its sentAt says nothing on this page's clock.
    const outsider = createClient('short-polling', server.url, 'outsider')
    onTestFinished(() => outsider.close())
    const text = 'from a clock an hour ahead'
    await outsider.send('lobby', text, { sentAt: Date.now() + 3_600_000, clientMsgId: 'outsider-1' })
    for (const [who, p] of [
      ['the page that sent before', page],
      ['the page that never sent', student],
    ] as const) {
      for (const t of TRANSPORTS) {
        const latency = p
          .locator(`lab-transport-panel[transport="${t}"] .messages li`, { hasText: text })
          .locator('.latency')
        await expect
          .poll(() => latency.textContent(), { message: `${who}, ${t}` })
          .toMatch(/^≈ \d+\.\d ms from server$/)
        expect(parseFloat((await latency.textContent())!.slice(2)), `${who}, ${t}`).toBeLessThan(3_600_000)
        expect(await latency.getAttribute('title'), `${who}, ${t}`).toMatch(
          /^Sent by someone else: from the server's stamp/,
        )
      }
    }
    await student.screenshot({ path: `${artifacts}workbench-race-from-outside.png` })
  }, 60_000)

  it('shows what users typed as text, never as markup', async () => {
    await send('<img src=x onerror="window.pwned=1"> <b>bold?</b>', 'websocket')
    await panel('sse').locator('.messages li', { hasText: '<b>bold?</b>' }).waitFor()
    expect(await page.locator('lab-transport-panel img').count()).toBe(0)
    expect(await page.evaluate(() => (window as unknown as { pwned?: number }).pwned)).toBeUndefined()
  })

  it('counts the message limit in UTF-8 bytes, as the server does, not in characters', async () => {
    const status = page.locator('lab-composer .status')
    // 2049 emoji: 4098 UTF-16 units, under a maxlength of 8192, but 8196 bytes.
    await send('😀'.repeat(2049), 'websocket')
    await expect.poll(() => status.textContent()).toBe(`Too long: 8196 of ${TEXT_MAX_BYTES} bytes.`)
    expect(await page.locator('lab-composer input:invalid').count()).toBe(1)
    // One emoji fewer is exactly the limit, and goes through.
    const fits = '😀'.repeat(2048)
    await send(fits, 'websocket')
    await panel('sse').locator('.messages li .text', { hasText: fits }).first().waitFor()
    await expect.poll(() => status.textContent()).toBe('Sent over WebSocket.')
  })

  it('drops the WebSocket, reconnects and fills in the message it missed', async () => {
    const ws = panel('websocket')
    await ws.getByRole('button', { name: 'Drop' }).click()
    await expect.poll(() => ws.locator('.state').textContent()).toMatch(/reconnecting|connecting/)
    const outsider = createClient('short-polling', server.url, 'outsider')
    await outsider.send('lobby', 'said while the WebSocket was down')
    await expect.poll(() => ws.locator('.state').textContent(), { timeout: 10_000 }).toBe('open')
    const row = ws.locator('.messages li', { hasText: 'said while the WebSocket was down' })
    await row.waitFor()
    expect(await row.getAttribute('class')).toContain('backfilled')
    await page.screenshot({ path: `${artifacts}workbench-drop-and-resume.png` })
  })

  it('shows what deflate saved once the WebSocket is compressed, with the frame headers still as overhead', async () => {
    const ws = panel('websocket')
    const row = (name: string) => ws.locator('table.counters tr', { has: page.getByRole('rowheader', { name }) })
    await ws.getByRole('checkbox', { name: 'deflate' }).check()
    onTestFinished(async () => {
      await ws.getByRole('checkbox', { name: 'deflate' }).uncheck()
      await expect.poll(() => ws.locator('.state').textContent()).toBe('open')
    })
    await expect.poll(() => ws.locator('.state').textContent(), { timeout: 10_000 }).toBe('open')
    for (let i = 0; i < 3; i++) await send(`squeeze me ${i} ${'again and again '.repeat(20)}`, 'websocket')
    await expect.poll(() => row('Saved by deflate').count(), { timeout: 10_000 }).toBe(1)
    await expect.poll(async () => (await row('Overhead').locator('td').nth(1).textContent())?.trim()).not.toBe('0 B')
  })

  it("resets this page's counters: the panels count the server's bytes from the reset on", async () => {
    const ws = panel('websocket')
    const payloadDown = async () =>
      (await ws.locator('table.counters tr', { hasText: 'Payload' }).locator('td').nth(1).textContent())?.trim()
    await send('counted before the reset', 'websocket')
    await expect.poll(payloadDown).not.toMatch(/^0\s?B$/)
    await page.getByRole('button', { name: 'Reset counters' }).click()
    await expect.poll(() => page.locator('p.reset [role="status"]').textContent()).toContain("this page's reset")
    await expect.poll(payloadDown).toMatch(/^0\s?B$/)
    await send('counted after the reset', 'websocket')
    await expect.poll(payloadDown).not.toMatch(/^0\s?B$/)
  })

  it('changes the short-poll interval live', async () => {
    const select = panel('short-polling').getByLabel('Short-poll interval')
    await select.selectOption('250')
    expect(await select.inputValue()).toBe('250')
    await send('after the interval change', 'websocket')
    await panel('short-polling').locator('.messages li', { hasText: 'after the interval change' }).waitFor()
  })

  it('lists who is in the room and on which transports', async () => {
    const me = page.locator('lab-presence li', { hasText: 'Instructor' }).first()
    await expect
      .poll(() => me.getAttribute('aria-label'))
      .toBe(`Instructor, on ${TRANSPORTS.map((t) => TRANSPORT_INFO[t].label).join(', ')}`)
  })

  it('opens the inspector with the real 101 and the recomputed Sec-WebSocket-Accept', async () => {
    await page.getByRole('tab', { name: 'Inspector' }).click()
    onTestFinished(() => page.getByRole('tab', { name: 'Race' }).click())
    const inspector = page.locator('lab-inspector')
    await inspector.getByRole('tab', { name: 'WebSocket' }).click()
    // Shadow DOM text is not in textContent; getByText pierces it.
    await inspector.getByText('101 Switching Protocols').first().waitFor()
    await inspector
      .getByText(/Sec-WebSocket-Accept/i)
      .first()
      .waitFor()
    await page.screenshot({ path: `${artifacts}workbench-inspector.png` })
  })

  it("shows in the inspector this page's own handshakes, never another client's, and SSE's GET even after a send", async () => {
    // Others connect after this page did, on the same transports, and the page sends over SSE (a POST /sse).
    const intruders = [createClient('websocket', server.url, 'intruder'), createClient('sse', server.url, 'intruder')]
    onTestFinished(async () => {
      for (const intruder of intruders) await intruder.close()
    })
    for (const intruder of intruders) await intruder.join('lobby')
    await send('sent over SSE before inspecting', 'sse')
    await panel('sse').locator('.messages li', { hasText: 'sent over SSE before inspecting' }).waitFor()

    await page.getByRole('tab', { name: 'Inspector' }).click()
    onTestFinished(() => page.getByRole('tab', { name: 'Race' }).click())
    const inspector = page.locator('lab-inspector')
    const handshake = inspector.locator('section.handshake')
    const openings = [
      ['WebSocket', /^GET \/ws\?room=lobby&name=Instructor&compress=/],
      ['Server-Sent Events', /^GET \/sse\?room=lobby&name=Instructor/],
    ] as const
    for (const [tab, opening] of openings) {
      await inspector.getByRole('tab', { name: tab }).click()
      await handshake.getByRole('button', { name: 'Refresh' }).click()
      const startLine = handshake.locator('.side').first().locator('.line').first()
      await expect.poll(() => startLine.textContent()).toMatch(opening)
      await expect.poll(() => handshake.getByText(/this page's client was welcomed on/).count()).toBe(1)
      expect(await handshake.getByText('intruder').count()).toBe(0)
      expect(await handshake.getByText('POST /sse').count()).toBe(0)
    }
    await page.screenshot({ path: `${artifacts}workbench-inspector-sse.png` })
  })

  it("logs the inspected client's frames as they come, counts those that came while paused, and stays paused across tab switches", async () => {
    await page.getByRole('tab', { name: 'Inspector' }).click()
    onTestFinished(() => page.getByRole('tab', { name: 'Race' }).click())
    await page.locator('lab-inspector').getByRole('tab', { name: 'WebSocket' }).click()
    const log = page.locator('lab-frame-log')
    // The composer is on the Race view: a client from outside the page talks instead.
    const outsider = createClient('short-polling', server.url, 'framer')
    onTestFinished(() => outsider.close())
    await outsider.send('lobby', 'framed live')
    await log.locator('td.content', { hasText: 'framed live' }).first().waitFor()

    await log.getByRole('button', { name: 'Pause' }).click()
    await outsider.send('lobby', 'framed while paused')
    await expect
      .poll(async () => (await log.locator('.status').textContent())?.trim())
      .toMatch(/^Paused: [1-9]\d* new frames? not shown$/)
    expect(await log.locator('td.content', { hasText: 'framed while paused' }).count()).toBe(0)
    // A tab switch re-creates the log, a transport switch gives it another client: back again, it is still paused.
    await page.getByRole('tab', { name: 'Charts' }).click()
    await page.getByRole('tab', { name: 'Inspector' }).click()
    await page.locator('lab-inspector').getByRole('tab', { name: 'Server-Sent Events' }).click()
    await page.locator('lab-inspector').getByRole('tab', { name: 'WebSocket' }).click()
    await expect
      .poll(async () => (await log.locator('.status').textContent())?.trim())
      .toMatch(/^Paused: [1-9]\d* new frames? not shown$/)
    expect(await log.locator('td.content', { hasText: 'framed while paused' }).count()).toBe(0)
    await log.getByRole('button', { name: 'Resume' }).click()
    await log.locator('td.content', { hasText: 'framed while paused' }).first().waitFor()
  })

  it('draws the charts and the benchmarks tab', async () => {
    await page.getByRole('tab', { name: 'Charts' }).click()
    onTestFinished(() => page.getByRole('tab', { name: 'Race' }).click())
    await page.locator('lab-charts canvas').first().waitFor()
    await page.screenshot({ path: `${artifacts}workbench-charts.png` })
    await page.getByRole('tab', { name: 'Benchmarks' }).click()
    await page
      .locator('lab-bench-view')
      .getByText(/npm run bench/)
      .first()
      .waitFor()
    await page.screenshot({ path: `${artifacts}workbench-benchmarks.png` })
  })

  it("keeps the message from the outside world in order with the page's own", async () => {
    const peer = createClient('websocket', server.url, 'peer')
    await peer.join('lobby')
    onTestFinished(() => peer.close())
    const texts = ['page first', 'outside second', 'page third']
    const shownIn = (t: string) =>
      panel(t)
        .locator('.messages li.message')
        .evaluateAll(
          (rows, wanted) =>
            rows
              .map((row) => ({
                seq: Number(row.querySelector('.seq')!.textContent.slice(1)),
                text: row.querySelector('.text')!.textContent,
              }))
              .filter((row) => wanted.includes(row.text)),
          texts,
        )
    const everyPanelShows = async (text: string) => {
      for (const t of TRANSPORTS) await panel(t).locator('.messages li.message', { hasText: text }).waitFor()
    }

    // Each is sent only once the one before it has been seen, so the server logs them in this order.
    await send(texts[0]!, 'sse')
    await waitForText(peer, 'lobby', texts[0]!)
    await peer.send('lobby', texts[1]!)
    await everyPanelShows(texts[1]!)
    await send(texts[2]!, 'long-polling')
    await waitForText(peer, 'lobby', texts[2]!)
    await everyPanelShows(texts[2]!)

    const logged = messagesIn(peer, 'lobby')
      .filter((m) => texts.includes(m.text))
      .map((m) => ({ seq: m.seq, text: m.text }))
    expect(logged.map((m) => m.text)).toEqual(texts)
    expect(logged[0]!.seq < logged[1]!.seq && logged[1]!.seq < logged[2]!.seq).toBe(true)
    for (const t of TRANSPORTS) expect(await shownIn(t), `the ${t} panel`).toEqual(logged)
  })

  it("shows this page's own overhead per message, its idle cost with the window it took, and the Charts caption says it", async () => {
    const fact = (t: string, name: string) => panel(t).locator(`dd.${name}`)
    const text = async (t: string, name: string) => (await fact(t, name).textContent())?.replace(/\s+/g, ' ').trim()
    // The page reads the meter once a second: a figure takes a reading or two to change. Once it has read its
    // own connection (the reading that found it holds its handshake, kept out of the per-message share), a message
    // sent over it shows what it cost.
    const reading = { timeout: 10_000 }
    await expect.poll(() => text('websocket', 'since-reset'), reading).toMatch(/^\d+% overhead$/)
    await expect.poll(() => text('short-polling', 'since-reset'), reading).toMatch(/^\d+% overhead$/)
    await send('counted per message', 'websocket')
    await expect.poll(() => text('websocket', 'per-message'), reading).toMatch(/^\d+% · \d+ msgs$/)
    // The short poll reuses the page's keep-alive connections for its reading of the meter: still counted as its own.
    await expect.poll(() => text('short-polling', 'conns'), reading).toMatch(/^[1-9]\d* · 0$/)
    // A minute of quiet on the page's own connection, within the last five (the earlier tests' quiet seconds count).
    await expect
      .poll(() => text('short-polling', 'idle'), { timeout: 100_000, interval: 1000 })
      .toMatch(/^\d+ req · [\d.]+ (B|KiB|MiB)$/)
    await expect.poll(() => text('short-polling', 'idle-window'), reading).toMatch(/^\d+ of \d+ s$/)
    await page.screenshot({ path: `${artifacts}workbench-own-figures.png` })

    await page.getByRole('tab', { name: 'Charts' }).click()
    onTestFinished(() => page.getByRole('tab', { name: 'Race' }).click())
    const caption = page.locator('lab-idle-chart p.caption')
    await expect
      .poll(async () => (await caption.textContent())?.replace(/\s+/g, ' '))
      .toMatch(
        /over the last 5 min, the seconds in which a connection carried no message .* once they add up to 1 min\./,
      )
    await expect
      .poll(async () => (await caption.textContent())?.replace(/\s+/g, ' '))
      .toMatch(/Used now: .*Short polling \d+ s quiet over \d+ s/)
  }, 150_000)

  it("resets the counters for everyone from the server's own machine, and the panels count from there", async () => {
    const ws = panel('websocket')
    const payloadDown = async () =>
      (await ws.locator('table.counters tr', { hasText: 'Payload' }).locator('td').nth(1).textContent())?.trim()
    await send('counted before the reset for everyone', 'websocket')
    await expect.poll(payloadDown, { timeout: 10_000 }).not.toMatch(/^0\s?B$/)
    await page.getByRole('button', { name: 'Reset for everyone' }).click()
    await expect.poll(() => page.locator('p.reset [role="status"]').textContent()).toContain("the server's reset")
    await expect.poll(payloadDown, { timeout: 10_000 }).toMatch(/^0\s?B$/)
    expect(server.app.wire.snapshot().transports.websocket!.payloadOut).toBe(0)
  })
})
