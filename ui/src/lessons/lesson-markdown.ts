// A lesson's markdown as safe DOM for <lab-lesson>: marked turns it into HTML,
// DOMPurify removes anything that could run (a lesson is a file anyone in the
// project can edit, and it is shown on the lab's own origin), then links are
// pointed where they make sense inside the workbench, every code block gets a
// copy button and wide blocks scroll inside themselves.
import DOMPurify from 'dompurify'
import { Marked } from 'marked'
import { LESSON_SLUG, isLoopbackLabUrl, workbenchHash } from '../state/route.ts'

const marked = new Marked({ gfm: true })

/** Lesson links are written relative to the lesson's own file, lessons/NN-topic.md: resolved against a stand-in for the project. */
const PROJECT_ORIGIN = 'http://project.invalid'
const LESSON_FILE_BASE = `${PROJECT_ORIGIN}/lessons/`

export type LinkTarget =
  /** A workbench view (`#/inspector?transport=websocket`): opened in place. */
  | { kind: 'view'; hash: string }
  /** Another file of the project (`../server/transports/sse.ts`): shown as its path. */
  | { kind: 'source'; path: string }
  /** Anything else: opened in a new tab, so the lesson stays where it is. */
  | { kind: 'external'; href: string }
  /** An in-page anchor: the rendered headings carry no ids, and `#` belongs to the routes. */
  | { kind: 'none' }

export function linkTarget(href: string, pageOrigin: string): LinkTarget {
  const view = workbenchHash(href, pageOrigin)
  if (view) return { kind: 'view', hash: view }
  if (href.startsWith('#')) return { kind: 'none' }
  let url: URL
  try {
    url = new URL(href, LESSON_FILE_BASE)
  } catch {
    return { kind: 'none' }
  }
  if (url.origin === PROJECT_ORIGIN) {
    // Root-relative (`/api/wire`) names an endpoint of the lab; relative names a file beside the lessons.
    if (href.startsWith('/')) return { kind: 'external', href: new URL(href, pageOrigin).href }
    const lesson = /^\/lessons\/([^/]+)\.md$/.exec(url.pathname)?.[1]
    if (lesson && LESSON_SLUG.test(lesson)) return { kind: 'view', hash: `#/lessons/${lesson}` }
    return { kind: 'source', path: decodeURIComponent(url.pathname.slice(1)) }
  }
  // `http://localhost:3000/api/wire` in a lesson means this lab, wherever the class reached it.
  if (isLoopbackLabUrl(url))
    return { kind: 'external', href: new URL(`${url.pathname}${url.search}${url.hash}`, pageOrigin).href }
  return { kind: 'external', href: url.href }
}

export function renderLesson(markdown: string, pageOrigin: string): DocumentFragment {
  const html = marked.parse(markdown, { async: false })
  const fragment = DOMPurify.sanitize(html, {
    RETURN_DOM_FRAGMENT: true,
    // A lesson restyling the reader, hosting a form or taking an id the reader's own markup uses is never intended.
    FORBID_TAGS: ['style', 'form'],
    FORBID_ATTR: ['style', 'id', 'name'],
  })
  for (const anchor of [...fragment.querySelectorAll('a')]) pointLink(anchor, pageOrigin)
  const labHost = commandHost(pageOrigin)
  if (labHost) pointCommands(fragment, labHost)
  for (const pre of [...fragment.querySelectorAll('pre')]) addCopyButton(pre)
  for (const table of [...fragment.querySelectorAll('table')]) wrap(table, 'table-scroll')
  return fragment
}

/** Lessons are written for http://localhost:3000; a class that reached the lab elsewhere needs commands that say where. */
const LESSON_HOST = 'localhost:3000'

/** The host commands should name instead of localhost:3000, or none when the page is the learner's own localhost:3000. */
export function commandHost(pageOrigin: string): string | undefined {
  const page = new URL(pageOrigin)
  if (isLoopbackLabUrl(page) && page.port === '3000') return undefined
  return page.host
}

/** Rewrites commands and code (never the expected output, which shows what the checked server printed) and says so once. */
function pointCommands(fragment: DocumentFragment, host: string): void {
  for (const code of fragment.querySelectorAll('pre > code')) {
    if (code.classList.contains('language-text')) continue
    code.textContent = (code.textContent ?? '').replaceAll(LESSON_HOST, host)
  }
  const note = document.createElement('p')
  note.className = 'lab-host-note'
  const url = document.createElement('code')
  url.textContent = `export LAB_URL=http://${host}`
  note.append(
    `This lab is at ${host}: the commands below point there instead of ${LESSON_HOST}. For npm run chat, run `,
    url,
    ' once in each terminal.',
  )
  fragment.prepend(note)
}

function pointLink(anchor: HTMLAnchorElement, pageOrigin: string): void {
  const href = anchor.getAttribute('href')
  if (href === null) return
  const target = linkTarget(href, pageOrigin)
  anchor.removeAttribute('target')
  switch (target.kind) {
    case 'view':
      anchor.setAttribute('href', target.hash)
      anchor.classList.add('view-link')
      return
    case 'external':
      anchor.setAttribute('href', target.href)
      anchor.setAttribute('target', '_blank')
      anchor.setAttribute('rel', 'noopener noreferrer')
      return
    case 'source': {
      const ref = document.createElement('span')
      ref.className = 'source-ref'
      ref.title = `In the project: ${target.path}`
      const path = document.createElement('code')
      path.textContent = target.path
      // The path is what a reader needs to find the file: shown as code, after the link's words when they differ.
      if (anchor.textContent?.trim() === target.path) ref.append(path)
      else ref.append(...anchor.childNodes, ' (', path, ')')
      anchor.replaceWith(ref)
      return
    }
    case 'none': {
      const text = document.createElement('span')
      text.append(...anchor.childNodes)
      anchor.replaceWith(text)
    }
  }
}

function addCopyButton(pre: HTMLPreElement): void {
  const block = wrap(pre, 'code-block')
  const button = document.createElement('button')
  button.type = 'button'
  button.className = 'copy'
  button.textContent = 'Copy'
  block.prepend(button)
  // A keyboard user can then scroll a long line with the arrow keys.
  pre.tabIndex = 0
}

function wrap(element: Element, className: string): HTMLDivElement {
  const wrapper = document.createElement('div')
  wrapper.className = className
  element.replaceWith(wrapper)
  wrapper.append(element)
  return wrapper
}

/** The text a copy button copies: its block's code, without the newline marked ends it with. */
export function codeOf(button: Element): string {
  return (button.parentElement?.querySelector('pre')?.textContent ?? '').replace(/\n$/, '')
}
