// A burst in Chromium: 1,000 messages in 2 s (500 a second) into the room
// the five panels are in, as thirty students sending over all five or a fast
// ticker would. The page must keep drawing and answering while they come; the
// frame times it drew are written down as a figure (test-artifacts/burst-frames.json
// and one line of output), never asserted, since this machine is shared.
import { writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import type { Page } from 'playwright-core'
import { TRANSPORTS } from '../../server/core/protocol.ts'
import { ROWS_KEPT } from '../../ui/src/state/panel-rows.ts'
import { hasChromium, useWorkbench } from '../support/browser.ts'
import type { RunningServer } from '../support/server.ts'

const artifacts = fileURLToPath(new URL('../../test-artifacts/', import.meta.url))
/** 500 messages a second for 2 s: 5 every 10 ms, from the hub itself (a sender's rate limit does not apply there). */
const PER_TICK = 5
const TICK_MS = 10
const BURST = 1000

/** What the page records while the burst comes, read back at the end. */
/** What the test reads of the page's clients, in the page: not public, so typed here only as far as it is read. */
interface PageLab {
  clients: Record<string, { stats: { messages: number } }>
}

interface Recorded {
  /** requestAnimationFrame timestamps, ms. */
  frames: number[]
  /** The WebSocket panel's newest message at each of those frames ('' before the burst shows). */
  newest: string[]
  /** How many times the WebSocket panel rendered between one frame and the next, for each frame. */
  rendersPerFrame: number[]
  /** Long animation frames (Chromium's PerformanceObserver), when the browser reports them: duration, ms. */
  longFrames: number[]
  /** The WebSocket panel's newest message when the page handled the test's click, once it did. */
  clickedAt?: string
  /** How many messages the WebSocket client had received by then. */
  receivedAtClick?: number
}

describe.skipIf(!hasChromium)('the workbench under a burst of messages', () => {
  let server: RunningServer
  let page: Page

  // No rate limit, so that nothing of the burst is refused on the way in.
  useWorkbench({ messageRate: 0 }, (opened) => ({ server, page } = opened))

  const panel = (transport: string) => page.locator(`lab-transport-panel[transport="${transport}"]`)
  const text = (i: number) => `burst ${String(i).padStart(4, '0')}`

  it('keeps drawing and answers a click while 500 messages a second arrive, then shows the last in every panel', async () => {
    await page.evaluate(() => {
      const recorded: Recorded = { frames: [], newest: [], rendersPerFrame: [], longFrames: [] }
      const w = window as unknown as { recorded: Recorded; recording: boolean }
      w.recorded = recorded
      w.recording = true
      const newest = () => {
        const ws = document
          .querySelector('lab-app')!
          .shadowRoot!.querySelector('lab-transport-panel[transport="websocket"]')!
        return [...ws.shadowRoot!.querySelectorAll('.messages li.message .text')].at(-1)?.textContent ?? ''
      }
      // Every render of the WebSocket panel is counted, by wrapping its element's updated().
      let renders = 0
      const panelClass = customElements.get('lab-transport-panel')!.prototype as {
        updated: (...args: unknown[]) => void
      }
      const updated = panelClass.updated
      panelClass.updated = function (this: HTMLElement, ...args: unknown[]) {
        if (this.getAttribute('transport') === 'websocket') renders++
        updated.apply(this, args)
      }
      const tick = (at: number) => {
        recorded.frames.push(at)
        recorded.newest.push(newest())
        recorded.rendersPerFrame.push(renders)
        renders = 0
        if (w.recording) requestAnimationFrame(tick)
      }
      requestAnimationFrame(tick)
      if (PerformanceObserver.supportedEntryTypes.includes('long-animation-frame'))
        new PerformanceObserver((list) => {
          for (const entry of list.getEntries()) if (w.recording) recorded.longFrames.push(entry.duration)
        }).observe({ type: 'long-animation-frame' })
      const lab = (document.querySelector('lab-app') as unknown as { lab: PageLab }).lab
      document.addEventListener(
        'click',
        () => {
          recorded.clickedAt = newest()
          recorded.receivedAtClick = lab.clients.websocket!.stats.messages
        },
        { once: true },
      )
    })
    const clicked = () => page.evaluate(() => (window as unknown as { recorded: Recorded }).recorded.receivedAtClick)
    const receivedBefore = await page.evaluate(
      () => (document.querySelector('lab-app') as unknown as { lab: PageLab }).lab.clients.websocket!.stats.messages,
    )
    const composer = (await page.getByLabel('Message', { exact: true }).boundingBox())!

    const from = { clientId: 'burst', name: 'burst', transport: 'websocket' }
    let sent = 0
    const burst = new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        // Without a shared log the hub appends before it returns: the burst is written within this tick.
        for (let i = 0; i < PER_TICK && sent < BURST; i++)
          void server.app.hub.publish(from, 'lobby', { text: text(++sent) })
        if (sent >= BURST) {
          clearInterval(timer)
          resolve()
        }
      }, TICK_MS)
    })

    // Once the burst shows, a student clicks into the composer: a plain mouse click, which waits for no frame.
    await panel('websocket').locator('.messages li', { hasText: 'burst 0' }).first().waitFor({ timeout: 30_000 })
    await page.mouse.click(composer.x + composer.width / 2, composer.y + composer.height / 2)
    await burst
    await expect.poll(clicked, { timeout: 60_000 }).not.toBeUndefined()
    for (const t of TRANSPORTS) {
      const newest = panel(t).locator('.messages li.message .text').last()
      await expect.poll(() => newest.textContent(), { message: t, timeout: 60_000 }).toBe(text(BURST))
      expect(await panel(t).locator('.messages li').count(), t).toBeLessThanOrEqual(ROWS_KEPT)
    }
    const recorded = await page.evaluate(() => {
      const w = window as unknown as { recorded: Recorded; recording: boolean }
      w.recording = false
      return w.recorded
    })
    await page.screenshot({ path: `${artifacts}burst-after.png` })

    const gaps = recorded.frames.slice(1).map((at, i) => at - recorded.frames[i]!)
    const sorted = [...gaps].sort((a, b) => a - b)
    const tenth = (ms: number | undefined) => Math.round((ms ?? 0) * 10) / 10
    // The burst as the page drew it: frames in which the panel showed a message of it that was not yet the last.
    const progress = new Set(recorded.newest.filter((t) => t.startsWith('burst ') && t !== text(BURST))).size
    const figure = {
      messages: sent,
      perSecond: (PER_TICK * 1000) / TICK_MS,
      panels: TRANSPORTS.length,
      frames: gaps.length,
      framesShowingProgress: progress,
      longestFrameMs: tenth(sorted.at(-1)),
      p95FrameMs: tenth(sorted[Math.floor(sorted.length * 0.95)]),
      medianFrameMs: tenth(sorted[Math.floor(sorted.length / 2)]),
      mostRendersInAFrame: Math.max(...recorded.rendersPerFrame),
      longAnimationFrames: recorded.longFrames.length,
      longestAnimationFrameMs: tenth(Math.max(0, ...recorded.longFrames)),
      clickHandledAfterReceiving: recorded.receivedAtClick! - receivedBefore,
      frameGapsMs: gaps.map(tenth),
    }
    writeFileSync(`${artifacts}burst-frames.json`, `${JSON.stringify(figure, null, 2)}\n`)
    console.log(
      `burst of ${sent} messages at ${figure.perSecond}/s into ${figure.panels} panels: ${figure.frames} frames drawn, ` +
        `longest ${figure.longestFrameMs} ms, p95 ${figure.p95FrameMs} ms, median ${figure.medianFrameMs} ms, ` +
        `${progress} showing the burst under way, at most ${figure.mostRendersInAFrame} renders of a panel in one; click handled after ${figure.clickHandledAfterReceiving} of them had come (test-artifacts/burst-frames.json)`,
    )
    // The page answered the click while the messages kept coming, and drew the burst as it came, not only its end.
    expect(figure.clickHandledAfterReceiving).toBeLessThan(BURST)
    expect(progress).toBeGreaterThanOrEqual(2)
    // Drawn in batches: a panel renders once a frame for the rows (and now and then for its figures), not once a message.
    expect(figure.mostRendersInAFrame).toBeLessThanOrEqual(5)
  }, 180_000)
})
