// The workbench's rows and presence in Chromium at 1280x800, as a class reads
// them: people rather than connections, one row per message however many
// transports carried it, and where a room ends.
import { fileURLToPath } from 'node:url'
import { describe, expect, it, onTestFinished } from 'vitest'
import type { Browser, Page } from 'playwright-core'
import { TRANSPORTS } from '../../server/core/protocol.ts'
import { TRANSPORT_INFO } from '../../server/core/names.ts'
import { hasChromium, openWorkbench, useWorkbench } from '../support/browser.ts'
import { createClient, type LabClient } from '../support/clients.ts'
import type { RunningServer } from '../support/server.ts'

const artifacts = fileURLToPath(new URL('../../test-artifacts/', import.meta.url))

describe.skipIf(!hasChromium)('the workbench’s rows and presence', () => {
  let server: RunningServer
  let browser: Browser
  let page: Page

  // A crowd of 31 from one address, as a classroom behind one NAT would be.
  useWorkbench({ maxClientsPerAddress: 0 }, (opened) => ({ server, browser, page } = opened))

  const panel = (transport: string) => page.locator(`lab-transport-panel[transport="${transport}"]`)
  const presence = () => page.locator('lab-presence')

  async function send(text: string, via: string): Promise<void> {
    await page.getByLabel('Message', { exact: true }).fill(text)
    await page.locator('lab-composer select').selectOption(via)
    await page.getByLabel('Message', { exact: true }).press('Enter')
  }

  it('shows a second page joining as one notice per panel, and presence counts two people with their transports', async () => {
    const student = await openWorkbench(browser, server.url, 'Student')
    onTestFinished(() => student.close())
    await student.locator('lab-transport-panel .state.open').nth(4).waitFor()
    for (const t of TRANSPORTS) {
      const notices = panel(t).locator('.messages li.notice', { hasText: 'Student' })
      await expect
        .poll(async () => (await notices.allTextContents()).map((s) => s.trim()), { message: t })
        .toEqual(['Student joined over 5 transports'])
    }
    // A deflate toggle is a leave and a join of the student's WebSocket: folded into the same row.
    await student
      .locator('lab-transport-panel[transport="websocket"]')
      .getByRole('checkbox', { name: 'deflate' })
      .check()
    await expect.poll(() => server.app.hub.presence('lobby').filter((m) => m.name === 'Student').length).toBe(5)
    await send('after the toggle', 'websocket')
    for (const t of TRANSPORTS) {
      await panel(t).locator('.messages li', { hasText: 'after the toggle' }).waitFor()
      expect(await panel(t).locator('.messages li.notice', { hasText: 'Student' }).count(), t).toBe(1)
    }

    await expect.poll(async () => (await presence().locator('.count').textContent())?.trim()).toBe('In lobby: 2 people')
    await expect.poll(() => presence().locator('ul.shown > li').count()).toBe(2)
    const everyTransport = TRANSPORTS.map((t) => TRANSPORT_INFO[t].label).join(', ')
    for (const name of ['Instructor', 'Student']) {
      const person = presence().locator('ul.shown > li', { hasText: name })
      expect(await person.getAttribute('aria-label')).toBe(`${name}, on ${everyTransport}`)
      expect(await person.locator('.dot').count()).toBe(5)
    }
    expect(await presence().getByText(/more/).count()).toBe(0)
    await page.screenshot({ path: `${artifacts}rows-two-pages.png` })
  }, 60_000)

  it('shows as many people as fit and "+N more", which opens the whole list', async () => {
    const crowd: LabClient[] = []
    onTestFinished(async () => {
      await Promise.all(crowd.map((c) => c.close()))
    })
    for (let i = 1; i <= 31; i++)
      crowd.push(createClient('websocket', server.url, `student${String(i).padStart(2, '0')}`))
    await Promise.all(crowd.map((c) => c.join('lobby')))
    // The student's page from before may still be listed until its polling session's lease runs out.
    const people = new Set(server.app.hub.presence('lobby').map((m) => m.name)).size
    expect(people).toBeGreaterThanOrEqual(32)
    await expect
      .poll(async () => (await presence().locator('.count').textContent())?.trim(), { timeout: 10_000 })
      .toBe(`In lobby: ${people} people`)
    const more = presence().locator('details.more summary')
    // Read at once: how many people are listed and what the marker says of the others.
    const listed = () =>
      presence().evaluate((element) => ({
        shown: element.shadowRoot!.querySelectorAll('ul.shown > li').length,
        more: element.shadowRoot!.querySelector('details.more summary')?.textContent.trim(),
      }))
    await expect
      .poll(async () => {
        const { shown, more } = await listed()
        return more === `+${people - shown} more`
      })
      .toBe(true)
    // Every name shown is whole: none cut off at the list's edge.
    const clipped = await presence()
      .locator('ul.shown')
      .evaluate((list) => {
        const right = list.getBoundingClientRect().right
        return [...list.children].filter((li) => li.getBoundingClientRect().right > right + 0.5).length
      })
    expect(clipped).toBe(0)
    await more.click()
    const everyone = presence().locator('ul.everyone > li')
    await expect.poll(() => everyone.count()).toBe(people)
    expect(await everyone.filter({ hasText: 'student31' }).count()).toBe(1)
    await page.screenshot({ path: `${artifacts}rows-presence-crowd.png` })
    await more.click()
  }, 60_000)

  it('shows one message over all five as one row per panel: each transport’s latency under its full name, the fastest marked', async () => {
    const text = 'one race, five ways'
    await send(text, 'all')
    for (const t of TRANSPORTS) {
      const rows = panel(t).locator('.messages li', { hasText: text })
      await expect.poll(() => rows.count(), { message: t }).toBe(1)
      const row = rows.first()
      expect(await row.getAttribute('class')).toContain('comparison')
      const latencies = row.locator('.copy .latency')
      await expect
        .poll(async () => (await latencies.allTextContents()).map((s) => s.trim()), { message: t })
        .toSatisfy((figures: string[]) => figures.length === 5 && figures.every((f) => /^\d+\.\d ms$/.test(f)))
      expect(await row.locator('.copy .label').allTextContents()).toEqual(
        TRANSPORTS.map((v) => TRANSPORT_INFO[v].label),
      )
      // Readable: no label is cut off (its text is as wide as it needs and inside the panel).
      const cut = await row.locator('.copy .label').evaluateAll(
        (labels) =>
          labels.filter((label) => {
            const panelRect = label.closest('li')!.getBoundingClientRect()
            const rect = label.getBoundingClientRect()
            return label.scrollWidth > label.clientWidth || rect.right > panelRect.right || rect.left < panelRect.left
          }).length,
      )
      expect(cut, t).toBe(0)
      expect(await row.locator('.copy.fastest').count(), t).toBe(1)
      expect(await row.locator('.copy.fastest .mark').textContent()).toContain('fastest')
    }
    await page.screenshot({ path: `${artifacts}rows-all-five.png` })
  }, 60_000)

  it('draws a divider where the panels moved to another room, with the new room’s messages below it', async () => {
    await send('said in the lobby', 'websocket')
    for (const t of TRANSPORTS) await panel(t).locator('.messages li', { hasText: 'said in the lobby' }).waitFor()
    await page.getByRole('textbox', { name: 'Room' }).fill('games')
    await page.getByRole('button', { name: 'Switch' }).click()
    onTestFinished(async () => {
      await page.getByRole('textbox', { name: 'Room' }).fill('lobby')
      await page.getByRole('button', { name: 'Switch' }).click()
    })
    for (const t of TRANSPORTS) {
      await expect.poll(() => panel(t).locator('.state').textContent(), { message: t, timeout: 10_000 }).toBe('open')
      await panel(t).getByRole('separator', { name: 'Room games from here on' }).waitFor()
    }
    await send('said in games', 'websocket')
    for (const t of TRANSPORTS) {
      await panel(t).locator('.messages li', { hasText: 'said in games' }).waitFor()
      const order = await panel(t)
        .locator('.messages li')
        .evaluateAll((rows) =>
          rows
            .map((row) => row.textContent.replace(/\s+/g, ' ').trim())
            .filter((text) => /said in|Room games/.test(text))
            .map((text) => (text.includes('Room games') ? 'divider' : text.includes('lobby') ? 'lobby' : 'games')),
        )
      expect(order, t).toEqual(['lobby', 'divider', 'games'])
    }
    await page.screenshot({ path: `${artifacts}rows-room-switch.png` })
  }, 60_000)
})
