// The workbench on a server with a class code, in Chromium: the name prompt
// asks for the code, a wrong one is said so, the right one joins all five
// transports on the HttpOnly cookie alone, a reload keeps the session, Log
// out and an expired token bring the prompt back (once), and the Instructor
// tab logs in with the instructor code where a student's login does nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Browser, Page } from 'playwright-core'
import { TRANSPORTS } from '../../server/core/names.ts'
import { buildUi, uiIsStale } from '../../ui/build.ts'
import { hasChromium, launchChromium } from '../support/browser.ts'
import { startServer, type RunningServer } from '../support/server.ts'
import { until } from '../support/wait.ts'

const CLASS_CODE = 'otters-42'
const INSTRUCTOR_CODE = 'badgers-7'

/** Counts the dialogs the page opens, so that "asks again once" can be read after the fact. */
function countPrompts(): void {
  const show = Object.getOwnPropertyDescriptor(HTMLDialogElement.prototype, 'showModal')!.value as (
    this: HTMLDialogElement,
  ) => void
  ;(window as unknown as { prompts: number }).prompts = 0
  HTMLDialogElement.prototype.showModal = function (this: HTMLDialogElement) {
    ;(window as unknown as { prompts: number }).prompts++
    show.call(this)
  }
}

const promptsShown = (page: Page) => page.evaluate(() => (window as unknown as { prompts: number }).prompts)
const panel = (page: Page, transport: string) => page.locator(`lab-transport-panel[transport="${transport}"]`)
const state = (page: Page, transport: string) => panel(page, transport).locator('.state').textContent()
const prompt = (page: Page) => page.locator('lab-name-prompt dialog')

async function allPanels(page: Page, wanted: string, timeout = 20_000): Promise<void> {
  for (const t of TRANSPORTS) await expect.poll(() => state(page, t), { timeout, message: t }).toBe(wanted)
}

/** A new browser context (its own cookies) on the workbench, the prompt counted. */
async function openPage(browser: Browser, url: string): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } })
  await page.addInitScript(countPrompts)
  await page.goto(url)
  return page
}

async function logIn(page: Page, name: string, code: string): Promise<void> {
  await page.getByLabel('Name').fill(name)
  await page.getByLabel('Class code').fill(code)
  await page.getByRole('button', { name: 'Join the lab' }).click()
}

describe.skipIf(!hasChromium)('the workbench on a server with a class code', () => {
  let server: RunningServer
  let browser: Browser
  let page: Page

  beforeAll(async () => {
    if (uiIsStale()) await buildUi()
    server = await startServer({ classCode: CLASS_CODE })
    browser = await launchChromium()
    page = await openPage(browser, server.url)
  }, 120_000)

  afterAll(async () => {
    await browser?.close()
    await server?.close()
  })

  it('asks for the class code with the name, and says so when the code is wrong', async () => {
    await page.getByLabel('Class code').waitFor()
    await logIn(page, 'ann', 'not-the-code')
    const refusal = prompt(page).getByRole('alert')
    await refusal.waitFor()
    expect(await refusal.textContent()).toContain('wrong code')
    expect(await prompt(page).getAttribute('open')).not.toBeNull()
    for (const t of TRANSPORTS) expect(await state(page, t), t).not.toBe('open')
  })

  it('joins all five transports with the right code, on the HttpOnly cookie alone, and a message crosses all five', async () => {
    await page.getByLabel('Class code').fill(CLASS_CODE)
    await page.getByRole('button', { name: 'Join the lab' }).click()
    await allPanels(page, 'open')
    expect(await prompt(page).getAttribute('open')).toBeNull()

    const [cookie] = await page.context().cookies()
    expect(cookie).toMatchObject({ name: 'lab_token', httpOnly: true, sameSite: 'Strict' })
    // The token is the browser's to send: no script of the page can read it, and the page keeps no copy.
    const seen = await page.evaluate(() => ({
      cookie: document.cookie,
      stored: JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }),
    }))
    expect(seen.cookie).not.toContain(cookie!.value)
    expect(seen.stored).not.toContain(cookie!.value)
    const auth = await page.evaluate(() =>
      fetch('/api/auth').then((res) => res.json() as Promise<{ session: unknown }>),
    )
    expect(auth.session).toMatchObject({ name: 'ann', role: 'student', channel: 'cookie' })

    await page.getByLabel('Message', { exact: true }).fill('over all five with a class code')
    await page.getByLabel('Message', { exact: true }).press('Enter')
    for (const t of TRANSPORTS) {
      const row = panel(page, t).locator('.messages li', { hasText: 'over all five with a class code' })
      await expect.poll(() => row.locator('.copy .latency', { hasText: / ms$/ }).count(), { message: t }).toBe(5)
    }
  }, 60_000)

  it("refuses the name to another login while ann's token holds it", async () => {
    const other = await openPage(browser, server.url)
    try {
      await logIn(other, 'Ann', CLASS_CODE)
      const refusal = prompt(other).getByRole('alert')
      await refusal.waitFor()
      expect(await refusal.textContent()).toContain('That name is taken')
    } finally {
      await other.context().close()
    }
  })

  it("keeps the session across a reload: no prompt, and the token's name over the remembered one", async () => {
    await page.evaluate(() => localStorage.setItem('transport-lab:name', 'someone-else'))
    await page.reload()
    await allPanels(page, 'open')
    expect(await promptsShown(page)).toBe(0)
    expect(await page.getByRole('button', { name: 'Change name' }).getAttribute('title')).toBe(
      'You are ann in the chat',
    )
  }, 60_000)

  it('closes every panel on Log out and asks again; a new login rejoins them all', async () => {
    await page.getByRole('button', { name: 'Log out' }).click()
    await allPanels(page, 'closed')
    await prompt(page).getByText('You logged out.').waitFor()
    expect(await promptsShown(page)).toBe(1)
    await until(() => server.app.hub.members('lobby').length === 0, 'the room empty', 5000)
    // The cookie was revoked, not only forgotten: the server knows no session for this page.
    const auth = await page.evaluate(() =>
      fetch('/api/auth').then((res) => res.json() as Promise<{ session: unknown }>),
    )
    expect(auth.session).toBeNull()

    await logIn(page, 'ann', CLASS_CODE)
    await allPanels(page, 'open')
    expect(server.app.hub.members('lobby').map((m) => m.name)).toEqual(Array(5).fill('ann'))
  }, 60_000)

  it('changes the name by logging in again with the code: every transport rejoins under the new one', async () => {
    await page.getByRole('button', { name: 'Change name' }).click()
    await page.getByLabel('Name').fill('annie')
    await page.getByLabel('Class code').fill(CLASS_CODE)
    await page.getByRole('button', { name: 'Use this name' }).click()
    await until(
      () => {
        const names = server.app.hub.members('lobby').map((m) => m.name)
        return names.length === 5 && names.every((n) => n === 'annie')
      },
      'five members named annie',
      20_000,
    )
    await allPanels(page, 'open')
    expect(await promptsShown(page)).toBe(2)
  }, 60_000)
})

describe.skipIf(!hasChromium)('a token that expires under the workbench', () => {
  let server: RunningServer
  let browser: Browser

  beforeAll(async () => {
    if (uiIsStale()) await buildUi()
    // Long enough for all five to join on a loaded machine, short enough to wait for.
    server = await startServer({ classCode: CLASS_CODE, tokenTtlMs: 8000 })
    browser = await launchChromium()
  }, 120_000)

  afterAll(async () => {
    await browser?.close()
    await server?.close()
  })

  it('ends every panel and brings the prompt back once, saying why', async () => {
    const page = await openPage(browser, server.url)
    await logIn(page, 'bo', CLASS_CODE)
    await allPanels(page, 'open')
    expect(await promptsShown(page)).toBe(1)

    await prompt(page).getByText('Your login expired.').waitFor({ timeout: 15_000 })
    await allPanels(page, 'closed')
    // Nothing is left to retry: no member of the page, and every transport reported its end to one prompt.
    await until(() => server.app.hub.members('lobby').length === 0, 'the room empty', 5000)
    expect(await promptsShown(page)).toBe(1 + 1)

    await page.getByLabel('Class code').fill(CLASS_CODE)
    await page.getByRole('button', { name: 'Join the lab' }).click()
    await allPanels(page, 'open')
  }, 60_000)
})

describe.skipIf(!hasChromium)('the Instructor tab on a server with an instructor code', () => {
  let server: RunningServer
  let browser: Browser
  let teacher: Page
  let student: Page

  beforeAll(async () => {
    if (uiIsStale()) await buildUi()
    server = await startServer({ classCode: CLASS_CODE, instructorCode: INSTRUCTOR_CODE })
    browser = await launchChromium()
    teacher = await openPage(browser, server.url)
    await logIn(teacher, 'Teacher', CLASS_CODE)
    student = await openPage(browser, server.url)
    await logIn(student, 'cy', CLASS_CODE)
    await until(() => server.app.hub.members('lobby').length === 10, 'both pages in over all five', 30_000)
  }, 120_000)

  afterAll(async () => {
    await browser?.close()
    await server?.close()
  })

  const instructor = (page: Page) => page.locator('lab-instructor')

  it("shows a student's login no instructor actions, and the server refuses them to it", async () => {
    await student.getByRole('tab', { name: 'Instructor' }).click()
    await instructor(student).getByLabel('Instructor code').waitFor()
    expect(
      await instructor(student)
        .getByRole('button', { name: /^Disconnect/ })
        .count(),
    ).toBe(0)
    expect(await instructor(student).getByRole('button', { name: 'Send to the room' }).count()).toBe(0)
    const answers = await student.evaluate(async () => {
      const post = (path: string, body: object) =>
        fetch(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
      const codeOf = async (res: Response) => `${res.status} ${((await res.json()) as { code: string }).code}`
      return [
        await codeOf(await post('/api/instructor/broadcast', { room: 'lobby', text: 'not from a student' })),
        await codeOf(await fetch('/api/instructor/rooms')),
        await codeOf(await post('/api/wire/reset', {})),
      ]
    })
    expect(answers).toEqual(Array(3).fill('403 LAB_ERR_FORBIDDEN'))
  })

  it('logs the instructor in with the instructor code, and broadcasts to a room every transport delivers', async () => {
    await teacher.getByRole('tab', { name: 'Instructor' }).click()
    await instructor(teacher).getByLabel('Instructor code').fill('not-it')
    await instructor(teacher).getByRole('button', { name: 'Log in as instructor' }).click()
    await instructor(teacher).getByRole('alert').waitFor()
    expect(await instructor(teacher).getByRole('alert').textContent()).toContain('wrong code')

    await instructor(teacher).getByLabel('Instructor code').fill(INSTRUCTOR_CODE)
    await instructor(teacher).getByRole('button', { name: 'Log in as instructor' }).click()
    await instructor(teacher).getByRole('button', { name: "Disconnect cy's WebSocket" }).waitFor({ timeout: 10_000 })
    // The teacher's own panels rejoined on the instructor's token.
    await allPanels(teacher, 'open')

    await instructor(teacher).getByLabel('Message').fill('from the front of the room')
    await instructor(teacher).getByRole('button', { name: 'Send to the room' }).click()
    await instructor(teacher)
      .getByText(/^Sent to lobby/)
      .waitFor()
    await student.getByRole('tab', { name: 'Race' }).click()
    for (const t of TRANSPORTS)
      await panel(student, t).locator('.messages li', { hasText: 'from the front of the room' }).waitFor()
  }, 60_000)

  it("revokes the student's token on Disconnect: every panel closes, and the page asks once to log in again", async () => {
    await instructor(teacher).getByRole('button', { name: "Disconnect cy's WebSocket" }).click()
    await instructor(teacher).getByText("cy's WebSocket was disconnected.").waitFor()
    // The token is revoked, so every connection that held it ends, not only the WebSocket.
    await allPanels(student, 'closed')
    await prompt(student).getByText('the token was revoked').waitFor({ timeout: 10_000 })
    await until(() => !server.app.hub.members('lobby').some((m) => m.name === 'cy'), 'cy gone from the room', 5000)
    expect(await promptsShown(student)).toBe(2)
    await student.getByLabel('Class code').fill(CLASS_CODE)
    await student.getByRole('button', { name: 'Join the lab' }).click()
    await allPanels(student, 'open')
  }, 60_000)
})
