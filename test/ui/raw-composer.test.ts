// The Inspector's raw composer in Chromium: whatever a student sends, the
// server answers in the transport's own idiom and the composer shows it (a
// binary frame's 1003 close, bad JSON's error, a Socket.IO ack, an HTTP 400),
// on connections of its own, so the page's race carries on untouched.
import { fileURLToPath } from 'node:url'
import { beforeAll, describe, expect, it } from 'vitest'
import type { Page } from 'playwright-core'
import { TRANSPORTS } from '../../server/core/protocol.ts'
import { hasChromium, useWorkbench } from '../support/browser.ts'
import type { RunningServer } from '../support/server.ts'

const artifacts = fileURLToPath(new URL('../../test-artifacts/', import.meta.url))

describe.skipIf(!hasChromium)('the raw composer in Chromium', () => {
  let server: RunningServer
  let page: Page

  useWorkbench({}, (opened) => ({ server, page } = opened))
  beforeAll(async () => {
    await page.getByRole('tab', { name: 'Inspector' }).click()
  })

  const composer = () => page.locator('lab-raw-composer')
  const field = (name: string) => composer().locator(`[data-field="${name}"]`)
  const entries = () => composer().locator('.entries li')
  const sendIt = () => composer().getByRole('button', { name: 'Send', exact: true }).click()
  const mode = (value: string) => composer().locator('select[aria-label="Send a"]').selectOption(value)
  const states = () =>
    Promise.all(TRANSPORTS.map((t) => page.locator(`lab-transport-panel[transport="${t}"] .state`).textContent()))

  it('shows the close 1003 a raw binary frame on /ws gets, and the page keeps its own WebSocket', async () => {
    await mode('websocket')
    await composer().locator('select[aria-label="Frame"]').selectOption('binary')
    await field('payload').fill('ca fe 00 01')
    await sendIt()
    const closed = entries().filter({ hasText: 'close 1003' })
    await closed.waitFor()
    expect(await closed.textContent()).toContain('LAB_ERR_UNSUPPORTED')
    expect(await entries().filter({ hasText: 'binary frame, 4 bytes' }).textContent()).toContain('ca fe 00 01')
    expect(await states()).toEqual(TRANSPORTS.map(() => 'open'))
    await page.locator('lab-inspector section.raw').screenshot({ path: `${artifacts}raw-composer-binary-1003.png` })
  })

  it('shows the error a text frame of bad JSON gets, on a new WebSocket of its own', async () => {
    await mode('websocket')
    await composer().locator('select[aria-label="Frame"]').selectOption('text')
    await field('payload').fill('{"type": "send", oops')
    await sendIt()
    const error = entries().filter({ hasText: 'LAB_ERR_BAD_JSON' })
    await error.waitFor()
    expect(await error.getAttribute('class')).toContain('bad')
  })

  it('shows the ack a Socket.IO event asked for', async () => {
    await mode('socket.io')
    await field('event').fill('send')
    await field('args').fill(JSON.stringify([{ room: 'lobby', text: 'raw over Socket.IO' }]))
    await sendIt()
    const ack = entries().filter({ has: page.locator('.kind', { hasText: /^ack$/ }) })
    await ack.waitFor({ timeout: 10_000 }).catch(async (error: unknown) => {
      throw new Error(`no ack among: ${(await entries().allTextContents()).join(' | ')}`, { cause: error })
    })
    expect(await ack.textContent()).toContain('"type":"ack"')
    const log = (await (await fetch(`${server.url}/poll?room=lobby`)).json()) as { entries: Array<{ text?: string }> }
    expect(log.entries.map((entry) => entry.text)).toContain('raw over Socket.IO')
  })

  it('shows the connect_error a bad room in auth gets', async () => {
    await mode('socket.io')
    await field('auth').fill(JSON.stringify({ protocol: 'lab', name: 'raw', room: 'no spaces allowed' }))
    await sendIt()
    const refused = entries().filter({ hasText: 'connect_error' })
    await refused.waitFor()
    expect(await refused.textContent()).toContain('LAB_ERR_ROOM_NAME')
  })

  it('shows 400 and LAB_ERR_BAD_JSON for an HTTP body of bad JSON', async () => {
    await mode('http')
    await field('path').selectOption('/poll')
    await field('body').fill('{"type": "send",')
    await sendIt()
    const answer = entries().filter({ hasText: 'HTTP 400' })
    await answer.waitFor()
    expect(await answer.textContent()).toContain('LAB_ERR_BAD_JSON')
    await page.locator('lab-inspector section.raw').screenshot({ path: `${artifacts}raw-composer-http-400.png` })
    expect(await states()).toEqual(TRANSPORTS.map(() => 'open'))
  })
})
