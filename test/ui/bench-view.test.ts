// The Benchmarks tab in Chromium, served by the real server from the built UI:
// it draws the report's own sections and tables (benchmarks/report/sections.ts)
// from the committed benchmarks/results/latest.json, so what the page shows is
// what latest.md says; and a file of another version gets a message, not a guess.
import { readFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest'
import type { Browser, Locator, Page } from 'playwright-core'
import type { BenchResults } from '../../benchmarks/schema.ts'
import { reportSections } from '../../benchmarks/report/sections.ts'
import { summaryTable } from '../../benchmarks/report/tables.ts'
import { buildUi, uiIsStale } from '../../ui/build.ts'
import { hasChromium, launchChromium } from '../support/browser.ts'
import { startServer, type RunningServer } from '../support/server.ts'

const latest = JSON.parse(
  readFileSync(new URL('../../benchmarks/results/latest.json', import.meta.url), 'utf8'),
) as BenchResults

/** Each row of a table as the cells' text, header row first. */
const cellsOf = (table: Locator) =>
  table.evaluate((t: HTMLTableElement) =>
    [...t.rows].map((row) => [...row.cells].map((cell) => cell.textContent ?? '')),
  )

/** A server on port 0 that answers /api/bench with `body`, to any origin, as the lab server answers with latest.json. */
async function serveResults(body: unknown): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((request, response) => {
    response.writeHead(request.url === '/api/bench' ? 200 : 404, {
      'content-type': 'application/json; charset=utf-8',
      'access-control-allow-origin': '*',
    })
    response.end(JSON.stringify(body))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise((resolve) => server.close(() => resolve())) }
}

describe.skipIf(!hasChromium)('the Benchmarks tab in Chromium', () => {
  let server: RunningServer
  let browser: Browser
  let page: Page
  const view = () => page.locator('lab-bench-view')

  /** Points the tab at another server; the tab fetches again because its baseUrl changed. */
  const readFrom = (baseUrl: string) =>
    view().evaluate((element, url) => {
      ;(element as unknown as { baseUrl: string }).baseUrl = url
    }, baseUrl)

  beforeAll(async () => {
    if (uiIsStale()) await buildUi()
    server = await startServer()
    browser = await launchChromium()
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } })
    await page.goto(`${server.url}/#/bench`)
    await page.getByLabel('Name').fill('Instructor')
    await page.getByRole('button', { name: 'Join the lab' }).click()
    await view().locator('#bench-summary table').waitFor()
  }, 120_000)

  afterAll(async () => {
    await browser?.close()
    await server?.close()
  })

  it('shows the summary table the report builds from latest.json, header for header and cell for cell', async () => {
    const summary = summaryTable(latest)
    const shown = await cellsOf(view().locator('#bench-summary table'))
    expect(shown[0]).toEqual(summary.headers)
    expect(shown.slice(1).map((row) => row[0])).toEqual(summary.rows.map((row) => row[0]))
    expect(shown.slice(1)).toEqual(summary.rows)
  })

  it("has every section of the report, titled and in the order latest.md has them, each with the report's tables", async () => {
    const sections = reportSections(latest)
    expect(await view().locator('section h3').allTextContents()).toEqual(sections.map((s) => s.title))
    for (const section of sections) {
      const tables = section.blocks.flatMap((block) => (block.kind === 'table' ? [block.table] : []))
      const shown = view().locator(`#bench-${section.id} table`)
      expect(await shown.count(), section.title).toBe(tables.length)
      for (const [i, table] of tables.entries()) {
        const cells = await cellsOf(shown.nth(i))
        expect(cells[0], `${section.title}, table ${i + 1}`).toEqual(table.headers)
        expect(
          cells.slice(1).map((row) => row[0]),
          `${section.title}, table ${i + 1}`,
        ).toEqual(table.rows.map((row) => row[0]))
      }
    }
  })

  it('says a file of another version of the benchmark is one, with how to write a new one, and draws no table from it', async () => {
    const older = await serveResults({
      scenarios: { 'wire-cost': { results: [{ transport: 'websocket', bytes: 120 }] } },
      environment: { node: 'v18.0.0' },
    })
    onTestFinished(async () => {
      await readFrom(server.url)
      await view().locator('#bench-summary table').waitFor()
      await older.close()
    })
    await readFrom(older.url)
    const message = view().locator('.problem')
    await message.waitFor()
    expect(await message.innerText()).toMatch(
      new RegExp(
        String.raw`^\s*These results were written by another version of the benchmark \(no results version; ` +
          String.raw`this page reads version 2\), so this page does not show them\. ` +
          String.raw`Run npm run bench to write them again`,
      ),
    )
    expect(await view().locator('table').count()).toBe(0)
  })
})
