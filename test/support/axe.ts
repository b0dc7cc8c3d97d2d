// axe-core's WCAG audit run inside a Chromium page: the library's own source
// is injected as a script, and it reaches into the page's open shadow roots,
// so every custom element of the workbench is audited as rendered.
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import type { Page } from 'playwright-core'

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8')

/** WCAG 2.0, 2.1 and 2.2, levels A and AA: what the workbench promises. */
export const WCAG_AA_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa']

/** One rule that failed, with where: enough for a test's failure message to point at the element. */
export interface Violation {
  rule: string
  impact: string
  help: string
  targets: string[]
}

/** Runs axe over the whole document and returns the serious and critical violations (minor and moderate ones left out). */
export async function seriousViolations(page: Page): Promise<Violation[]> {
  const loaded = await page.evaluate(() => 'axe' in window)
  if (!loaded) await page.addScriptTag({ content: axeSource })
  return page.evaluate(async (tags) => {
    interface AxeResult {
      violations: Array<{
        id: string
        impact?: string | null
        help: string
        nodes: Array<{ target: unknown[]; failureSummary?: string }>
      }>
    }
    const axe = (window as unknown as { axe: { run(ctx: Document, opts: object): Promise<AxeResult> } }).axe
    const result = await axe.run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] })
    return result.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => ({
        rule: v.id,
        impact: v.impact!,
        help: v.help,
        targets: v.nodes.map((n) => `${JSON.stringify(n.target)}: ${n.failureSummary ?? ''}`),
      }))
  }, WCAG_AA_TAGS)
}
