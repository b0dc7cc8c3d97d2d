// Every lesson, run step by step against a server of its own: what a lesson
// says the learner will see is what this server prints. A failure names the
// lesson file, the line and a diff. LESSONS_UPDATE=1 writes what was printed
// into the blocks that differ (for authors; put the placeholders back after).
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import type { Browser } from 'playwright-core'
import { afterAll, describe, it } from 'vitest'
import { hasChromium, launchChromium } from '../support/browser.ts'
import { root, runLesson } from './run.ts'

const LESSON_FILE = /^\d\d-[a-z0-9-]+\.md$/
const lessons = readdirSync(join(root, 'lessons')).filter((file) => LESSON_FILE.test(file)).sort()

let browser: Promise<Browser> | undefined
const openBrowser = async () => {
  if (!hasChromium) return undefined
  browser ??= launchChromium()
  return browser
}
afterAll(async () => {
  if (browser) await (await browser).close()
})

describe('the lessons', () => {
  it('are there to check', ({ expect }) => {
    expect(lessons.length).toBeGreaterThan(0)
  })

  for (const lesson of lessons) {
    it(`${lesson}: every step prints what the lesson shows`, async () => {
      await runLesson(join(root, 'lessons', lesson), {
        update: process.env.LESSONS_UPDATE === '1',
        browser: openBrowser,
        onSkip: (where, reason) => console.warn(`${where}: skipped (${reason})`),
      })
    }, 180_000)
  }
})
