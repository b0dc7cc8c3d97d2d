// The screens the workbench is checked at, and what a test can ask of a
// page's layout there, shadow roots included.
import type { BrowserContextOptions, Page } from 'playwright-core'

/** A phone as a phone browser lays it out (a mobile viewport: content wider than the screen widens the page), a laptop, two projectors. */
export const SCREENS = {
  phone: { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 },
  laptop: { viewport: { width: 1366, height: 768 } },
  projector: { viewport: { width: 1280, height: 800 } },
  'large projector': { viewport: { width: 1920, height: 1080 } },
} as const satisfies Record<string, BrowserContextOptions>
export type ScreenName = keyof typeof SCREENS

export const TAB_NAMES = ['Race', 'Inspector', 'Charts', 'Benchmarks', 'Lessons'] as const

/** Opens one of the workbench's tabs and waits until its content has come (the views fetch and draw after opening). */
export async function openTab(page: Page, tab: (typeof TAB_NAMES)[number]): Promise<void> {
  await page.getByRole('tab', { name: tab }).click()
  const content = {
    Race: 'lab-composer input',
    Inspector: 'lab-inspector [role="tab"]',
    Charts: 'lab-charts canvas',
    Benchmarks: 'lab-bench-view table',
    Lessons: 'lab-lessons ol a',
  }[tab]
  await page.locator(content).first().waitFor()
}

/** Opens every <details> in the page, so that what they hold is measured too. */
export function openEveryDetails(page: Page): Promise<void> {
  return page.evaluate(() => {
    const roots: Array<Document | ShadowRoot> = [document]
    for (let root = roots.pop(); root; root = roots.pop())
      for (const el of Array.from(root.querySelectorAll('*'))) {
        if (el instanceof HTMLDetailsElement) el.open = true
        if (el.shadowRoot) roots.push(el.shadowRoot)
      }
  })
}

/**
 * Every visible element whose box reaches past the left or right edge of the
 * viewport, except inside a box that scrolls sideways (a code block, a wide
 * table): those scroll where they are, the page does not. A box that cuts
 * off what sticks out (overflow: hidden) does not excuse it: cut-off is not readable.
 */
export function elementsPastTheEdges(page: Page): Promise<string[]> {
  // No named functions inside: the page runs this function's source, without the helpers a bundler may add for names.
  return page.evaluate(() => {
    const width = document.documentElement.clientWidth
    const found: string[] = []
    const roots: Array<[Document | ShadowRoot, string]> = [[document, '']]
    for (let next = roots.pop(); next; next = roots.pop()) {
      const [root, path] = next
      for (const el of Array.from(root.querySelectorAll('*'))) {
        const label =
          el.tagName.toLowerCase() +
          (el.id ? `#${el.id}` : '') +
          (el.getAttribute('transport') ? `[transport=${el.getAttribute('transport')}]` : '') +
          (el.getAttribute('class') ? `.${el.getAttribute('class')!.trim().split(/\s+/).join('.')}` : '')
        if (el.shadowRoot) roots.push([el.shadowRoot, `${path}${label} >> `])
        const box = el.getBoundingClientRect()
        if (!el.checkVisibility({ checkVisibilityCSS: true }) || box.width === 0 || box.height === 0) continue
        if (box.left >= -0.5 && box.right <= width + 0.5) continue
        let scroller = false
        for (
          let up: Node | null = el.parentNode;
          up && !scroller;
          up = up instanceof ShadowRoot ? up.host : up.parentNode
        ) {
          if (!(up instanceof Element)) continue
          const overflowX = getComputedStyle(up).overflowX
          scroller = (overflowX === 'auto' || overflowX === 'scroll') && up.scrollWidth > up.clientWidth
        }
        if (!scroller) found.push(`${path}${label}: ${Math.round(box.left)} to ${Math.round(box.right)} of ${width}`)
      }
    }
    return found
  })
}
