// Every lesson, run step by step against a server of its own: what a lesson
// says the learner will see is what this server prints. A failure names the
// lesson file, the line and a diff. LESSONS_UPDATE=1 writes what was printed
// into the blocks that differ (for authors; put the placeholders back after).
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, it } from 'vitest'
import { buildUi, uiIsStale } from '../../ui/build.ts'
import { hasChromium, launchChromium } from '../support/browser.ts'
import { outlineLesson } from './lesson.ts'
import { root, runLesson } from './run.ts'

const LESSON_FILE = /^\d\d-[a-z0-9-]+\.md$/
const lessons = readdirSync(join(root, 'lessons'))
  .filter((file) => LESSON_FILE.test(file))
  .sort()

let browser: Promise<Browser> | undefined
const openBrowser = async () => {
  if (!hasChromium) return undefined
  browser ??= launchChromium()
  return browser
}
afterAll(async () => {
  if (browser) await (await browser).close()
})
// A learner runs `npm start` in lesson 01, which builds the UI; a server started
// without it warns that ui/dist is missing, a line no lesson shows.
beforeAll(async () => {
  if (uiIsStale()) await buildUi()
}, 180_000)

describe('the lessons', () => {
  it('are there to check', ({ expect }) => {
    expect(lessons.length).toBeGreaterThan(0)
  })

  for (const lesson of lessons) {
    it(`${lesson}: has the parts every lesson has, and its links lead somewhere`, ({ expect }) => {
      const file = join(root, 'lessons', lesson)
      const outline = outlineLesson(readFileSync(file, 'utf8'))
      expect(outline.labels.slice(0, 4).sort()).toEqual(['Goal', 'Prerequisites', 'Time', 'You will learn'])
      const sections = outline.headings.filter((h) => h.depth === 2).map((h) => h.text)
      expect(sections).toEqual(['Steps', 'Checkpoint', 'Common mistakes', 'Exercises', 'Read the code'])
      const steps = outline.headings.filter((h) => h.depth === 3).map((h) => Number(/^(\d+)\. /.exec(h.text)?.[1]))
      expect(steps.length).toBeGreaterThan(0)
      expect(steps).toEqual(steps.map((_, i) => i + 1))
      expect(
        outline.html.filter((h) => h.includes('<summary>Solution')).length,
        'a solution for the exercises',
      ).toBeGreaterThan(0)
      for (const link of outline.links) {
        if (/^(https?:|#|mailto:)/.test(link)) continue
        const target = resolve(dirname(file), decodeURIComponent(link.split('#')[0]!))
        expect(existsSync(target), `${lesson} links to ${link}, which does not exist`).toBe(true)
      }
    })

    it(`${lesson}: every step prints what the lesson shows`, async () => {
      await runLesson(join(root, 'lessons', lesson), {
        update: process.env.LESSONS_UPDATE === '1',
        browser: openBrowser,
        onSkip: (where, reason) => console.warn(`${where}: skipped (${reason})`),
      })
    }, 180_000)
  }
})
