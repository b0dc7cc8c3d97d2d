// The workbench behind the cluster, in Chromium: two instances sharing one
// Redis behind the cluster's own nginx configuration. Each panel says which
// instance it is on (the one its own ?sticky= value hashes to), a page's five
// spread over both, a pin moves a panel, the Cluster tab shows a message cross
// from one instance to another, and a closed instance's panels move to the
// other. Without REDIS_URL none of it shows.
import { mkdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { balancerConfig } from '../../cluster/nginx.ts'
import type { Member } from '../../server/core/protocol.ts'
import { TRANSPORT_INFO, TRANSPORTS, type TransportName } from '../../server/core/names.ts'
import { buildUi, uiIsStale } from '../../ui/build.ts'
import { seriousViolations } from '../support/axe.ts'
import { hasChromium, launchChromium, openWorkbench } from '../support/browser.ts'
import { hasNginx, startNginx, type RunningNginx } from '../support/nginx.ts'
import { hasRedis, startRedis, type RunningRedis } from '../support/redis.ts'
import { startServer, type RunningServer } from '../support/server.ts'
import { until } from '../support/wait.ts'

const artifacts = fileURLToPath(new URL('../../test-artifacts/', import.meta.url))
const needs = 'the workbench-behind-the-cluster tests'
const canRun = hasChromium && hasRedis(needs) && hasNginx(needs)
/** A page's five random sticky values all hash to one instance about once in 16: a test opens pages until one spreads. */
const PAGES_TRIED = 6

interface PageClient {
  query: Record<string, string>
  welcome?: { clientId: string; instance?: string; connectionId?: string }
  state: string
  frames: Array<{ dir: string; content: string }>
}

/** What the page's Lab holds for each panel: its query, its welcome, its frames. */
function clientsOf(page: Page): Promise<Record<TransportName, PageClient>> {
  return page.evaluate(() => {
    const lab = (document.querySelector('lab-app') as unknown as { lab: { clients: Record<string, PageClient> } }).lab
    return Object.fromEntries(
      Object.entries(lab.clients).map(([t, c]) => [
        t,
        { query: c.query, welcome: c.welcome, state: c.state, frames: c.frames.map((f) => ({ ...f })) },
      ]),
    ) as Record<TransportName, PageClient>
  })
}

const panel = (page: Page, t: TransportName) => page.locator(`lab-transport-panel[transport="${t}"]`)
/** The instance a panel says it is on, once it is connected (its badge shows the live welcome's instance). */
const shownInstance = (page: Page, t: TransportName) =>
  panel(page, t).locator('lab-instance-pin .on.live').getAttribute('data-instance', { timeout: 15_000 })

async function shownInstances(page: Page): Promise<Record<TransportName, string>> {
  const on = {} as Record<TransportName, string>
  for (const t of TRANSPORTS) on[t] = (await shownInstance(page, t))!
  return on
}

describe.skipIf(!canRun)('the workbench behind two instances and the balancer', () => {
  let redis: RunningRedis
  const servers: Record<'a' | 'b', RunningServer | undefined> = { a: undefined, b: undefined }
  let nginx: RunningNginx
  let browser: Browser
  let page: Page
  /** Where each panel of the page kept for the later tests is. */
  let spread: Record<TransportName, string>

  beforeAll(async () => {
    if (uiIsStale()) await buildUi()
    mkdirSync(artifacts, { recursive: true })
    redis = await startRedis()
    for (const id of ['a', 'b'] as const)
      servers[id] = await startServer({ redisUrl: redis.url, instanceId: id, trustProxy: 'loopback' })
    const instances = (['a', 'b'] as const).map((id) => ({ id, host: '127.0.0.1', port: servers[id]!.port }))
    nginx = await startNginx(({ prefix, port }) =>
      balancerConfig({ instances, listen: { host: '127.0.0.1', port }, prefix }),
    )
    browser = await launchChromium()
  }, 120_000)

  afterAll(async () => {
    await browser?.close()
    await nginx?.stop()
    await servers.a?.close()
    await servers.b?.close()
    await redis?.stop()
  })

  /** The instance the balancer sends a request with this sticky value to (its Lab-Instance header). */
  const hashedTo = async (sticky: string) =>
    (await fetch(`${nginx.url}/api/cluster?sticky=${encodeURIComponent(sticky)}`)).headers.get('lab-instance')

  /**
   * A member of the lobby as instance b records it: presence is shared through Redis, so a join made on a
   * reaches b's list a moment after the page's welcome.
   */
  const member = (clientId: string | undefined): Promise<Member> =>
    until(
      async () =>
        ((await (await fetch(`${servers.b!.url}/api/rooms/lobby/presence`)).json()) as Member[]).find(
          (m) => m.clientId === clientId,
        ),
      `member ${clientId} in b's presence`,
    )

  it('shows on each panel the instance its connection is on, the one its own sticky value hashes to, and spreads one page over both', async () => {
    page = await openWorkbench(browser, nginx.url)
    for (let tried = 1; ; tried++) {
      await page.locator('lab-transport-panel .state.open').nth(4).waitFor({ timeout: 20_000 })
      const on = await shownInstances(page)
      const clients = await clientsOf(page)
      const stickies = TRANSPORTS.map((t) => clients[t].query.sticky!)
      expect(new Set(stickies).size, 'one sticky value per panel').toBe(TRANSPORTS.length)
      for (const t of TRANSPORTS) {
        expect(stickies[TRANSPORTS.indexOf(t)], t).toMatch(new RegExp(`^${t.replace('.', '\\.')}-[0-9a-f]{8}$`))
        expect(on[t], `${t}: the badge is the welcome's instance`).toBe(clients[t].welcome?.instance)
        expect(on[t], `${t}: where its sticky value hashes`).toBe(await hashedTo(clients[t].query.sticky!))
        expect((await member(clients[t].welcome?.clientId)).instance, `${t}: the instance that holds it`).toBe(on[t])
        // The instance's own record of the request that opened the stream (the join POST, the EventSource's GET,
        // the upgrade, Socket.IO's first poll and its upgrade) has the value in its URL.
        const handshake = await fetch(
          `${servers[on[t] as 'a' | 'b']!.url}/api/wire/handshakes/${clients[t].welcome?.connectionId}`,
        ).then((r) => r.text())
        expect(handshake, `${t}: the opening request`).toContain(`sticky=${clients[t].query.sticky}`)
      }
      // And every GET of the short poll after it, as its frame log shows.
      const polls = clients['short-polling'].frames.filter((f) => f.dir === 'up' && f.content.startsWith('/poll?'))
      expect(polls.length).toBeGreaterThan(0)
      for (const poll of polls) expect(poll.content).toContain(`sticky=${clients['short-polling'].query.sticky}`)
      if (new Set(Object.values(on)).size === 2) {
        spread = on
        break
      }
      // All five hashed to one instance, by chance: a reload draws five new values.
      expect(tried, 'pages opened before one spread over both instances').toBeLessThan(PAGES_TRIED)
      await page.reload()
    }
    expect(new Set(Object.values(spread))).toEqual(new Set(['a', 'b']))
    await page.screenshot({ path: `${artifacts}cluster-panels.png` })
  }, 120_000)

  it('moves each panel pinned to the other instance there (?node= on all five transports), and back when let go', async () => {
    const other = (id: string) => (id === 'a' ? 'b' : 'a')
    const pin = (t: TransportName) =>
      page.getByRole('combobox', { name: `Pin ${TRANSPORT_INFO[t].label} to an instance` })
    for (const t of TRANSPORTS) {
      await pin(t).selectOption(other(spread[t]))
      await expect.poll(() => shownInstance(page, t), { timeout: 15_000, message: t }).toBe(other(spread[t]))
      const pinned = (await clientsOf(page))[t]
      expect(pinned.query, t).toMatchObject({ node: other(spread[t]) })
      expect((await member(pinned.welcome?.clientId)).instance, t).toBe(other(spread[t]))
    }
    for (const t of TRANSPORTS) {
      await pin(t).selectOption({ label: 'any (sticky)' })
      await expect.poll(() => shownInstance(page, t), { timeout: 15_000, message: t }).toBe(spread[t])
      expect((await clientsOf(page))[t].query.node, t).toBeUndefined()
    }
  }, 90_000)

  it('shows a message sent on a panel on a delivered by b to a panel on b, in the Cluster tab', async () => {
    const fromA = TRANSPORTS.find((x) => spread[x] === 'a')!
    const onB = TRANSPORTS.find((x) => spread[x] === 'b')!
    const text = `crossing from ${fromA} on a`
    await page.getByLabel('Message', { exact: true }).fill(text)
    await page.locator('lab-composer select').selectOption(fromA)
    await page.getByLabel('Message', { exact: true }).press('Enter')
    await panel(page, onB).locator('.messages li', { hasText: text }).waitFor({ timeout: 15_000 })
    await page.getByRole('tab', { name: 'Cluster' }).click()
    const view = page.locator('lab-cluster-view')
    const row = view.locator('table.messages tr', { hasText: text })
    await expect.poll(() => row.locator(`td[data-via="${onB}"]`).textContent()).toMatch(/^\s*a → b\s*$/)
    expect(await row.locator(`td[data-via="${onB}"]`).getAttribute('class')).toBe('crossed')
    await expect.poll(() => row.locator(`td[data-via="${fromA}"]`).textContent()).toMatch(/^\s*a → a\s*$/)
    expect(await row.locator(`td[data-via="${fromA}"]`).getAttribute('class')).toBe('same')
    // The instances alive and which panels are on each.
    for (const id of ['a', 'b']) {
      const instanceRow = view.locator(`table.instances tr[data-instance="${id}"]`)
      await expect.poll(() => instanceRow.locator('td').first().textContent()).toBe('alive')
      for (const t of TRANSPORTS.filter((x) => spread[x] === id))
        expect(await instanceRow.locator('.panels').textContent()).toContain(TRANSPORT_INFO[t].label)
    }
    expect(await seriousViolations(page)).toEqual([])
    await page.screenshot({ path: `${artifacts}cluster-view.png` })
  }, 60_000)

  it("shows in the Inspector the handshake of a panel on the instance the page's own requests do not reach", async () => {
    // Requests without a sticky value hash by address: this process's fetch reaches the page's instance.
    const pageInstance = (await fetch(`${nginx.url}/api/cluster`)).headers.get('lab-instance')
    const t = TRANSPORTS.find((x) => spread[x] !== pageInstance)!
    const sticky = (await clientsOf(page))[t].query.sticky!
    await page.evaluate((hash) => (location.hash = hash), `#/inspector?transport=${t}`)
    const inspector = page.locator('lab-inspector')
    await inspector.getByText(`sticky=${sticky}`).first().waitFor({ timeout: 10_000 })
    expect(await inspector.getByText('keeps no').count()).toBe(0)
    await page.getByRole('tab', { name: 'Cluster' }).click()
  }, 60_000)

  it("moves a closed instance's panels to the other, and each shows its new instance", async () => {
    const a = servers.a!
    servers.a = undefined
    await a.close()
    for (const t of TRANSPORTS)
      await expect.poll(() => shownInstance(page, t), { timeout: 30_000, message: t }).toBe('b')
    const instanceRow = page.locator('lab-cluster-view table.instances tr[data-instance="a"]')
    await until(async () => (await instanceRow.count()) === 0, 'a to leave the instances listed', 15_000)
    await page.screenshot({ path: `${artifacts}cluster-failover.png` })
  }, 60_000)
})

describe.skipIf(!hasChromium)('the workbench on a server alone (no REDIS_URL)', () => {
  let server: RunningServer
  let browser: Browser
  let page: Page

  beforeAll(async () => {
    if (uiIsStale()) await buildUi()
    server = await startServer()
    browser = await launchChromium()
    page = await openWorkbench(browser, server.url)
    await page.locator('lab-transport-panel .state.open').nth(4).waitFor()
  }, 120_000)

  afterAll(async () => {
    await browser?.close()
    await server?.close()
  })

  it('shows no instance, no pin and no Cluster tab, and sends no sticky value', async () => {
    const clients = await clientsOf(page)
    for (const t of TRANSPORTS) {
      expect(clients[t].welcome?.instance, t).toBeUndefined()
      expect(clients[t].query, t).toEqual({})
      expect(await panel(page, t).locator('lab-instance-pin').isVisible(), t).toBe(false)
    }
    expect(await page.getByRole('tab', { name: 'Cluster' }).count()).toBe(0)
    expect(await page.getByRole('tab').count()).toBe(6)
    for (const frame of clients['short-polling'].frames) expect(frame.content).not.toContain('sticky')
  })
})
