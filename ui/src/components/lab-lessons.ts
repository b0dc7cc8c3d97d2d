// The Lessons view: the list of lessons beside the one being read. Which
// lesson is open is the page's route (`#/lessons/NN-topic`), passed down as
// `slug`; the list's entries are links to those routes.
import {
  LitElement,
  css,
  html,
  nothing,
  type PropertyValues,
  type ReactiveController,
  type ReactiveControllerHost,
} from 'lit'
import './lab-lesson.ts'

/** One entry of GET /api/lessons (server/plugins/lessons.ts). */
export interface LessonSummary {
  slug: string
  number: number
  title: string
}

type Load<T> =
  | { status: 'idle' }
  | { status: 'loading'; previous?: T }
  | { status: 'loaded'; value: T }
  | { status: 'failed'; message: string }

/**
 * Reads the list and the open lesson from the server. Both are read again
 * each time the view is shown, since lessons are files that change while the
 * lab runs; a newer request cancels an older one.
 */
class LessonLoader implements ReactiveController {
  list: Load<LessonSummary[]> = { status: 'idle' }
  lesson: Load<string> = { status: 'idle' }
  lessonSlug: string | undefined
  private readonly host: ReactiveControllerHost
  private listAbort: AbortController | undefined
  private lessonAbort: AbortController | undefined

  constructor(host: ReactiveControllerHost) {
    this.host = host
    host.addController(this)
  }

  hostDisconnected(): void {
    this.listAbort?.abort()
    this.lessonAbort?.abort()
  }

  async loadList(baseUrl: string): Promise<void> {
    this.listAbort?.abort()
    const abort = (this.listAbort = new AbortController())
    this.list = { status: 'loading', previous: loaded(this.list) }
    this.host.requestUpdate()
    const result = await fetchBody(
      `${baseUrl}/api/lessons`,
      abort.signal,
      (res) => res.json() as Promise<LessonSummary[]>,
    )
    if (abort.signal.aborted) return
    this.list = result
    this.host.requestUpdate()
  }

  async loadLesson(baseUrl: string, slug: string | undefined): Promise<void> {
    this.lessonAbort?.abort()
    const sameLesson = slug === this.lessonSlug
    this.lessonSlug = slug
    if (slug === undefined) {
      this.lesson = { status: 'idle' }
      this.host.requestUpdate()
      return
    }
    const abort = (this.lessonAbort = new AbortController())
    this.lesson = { status: 'loading', previous: sameLesson ? loaded(this.lesson) : undefined }
    this.host.requestUpdate()
    const result = await fetchBody(`${baseUrl}/api/lessons/${encodeURIComponent(slug)}`, abort.signal, (res) =>
      res.text(),
    )
    if (abort.signal.aborted) return
    this.lesson = result
    this.host.requestUpdate()
  }
}

function loaded<T>(load: Load<T>): T | undefined {
  return load.status === 'loaded' ? load.value : load.status === 'loading' ? load.previous : undefined
}

async function fetchBody<T>(url: string, signal: AbortSignal, read: (res: Response) => Promise<T>): Promise<Load<T>> {
  try {
    const res = await fetch(url, { signal, cache: 'no-store' })
    if (!res.ok) {
      const body = (await res.json().catch(() => undefined)) as { message?: unknown } | undefined
      return {
        status: 'failed',
        message:
          typeof body?.message === 'string' ? body.message : `the server answered ${res.status} ${res.statusText}`,
      }
    }
    return { status: 'loaded', value: await read(res) }
  } catch (error) {
    return { status: 'failed', message: error instanceof Error ? error.message : String(error) }
  }
}

const lessonHash = (slug: string) => `#/lessons/${slug}`
const numbered = (lesson: LessonSummary) => `${String(lesson.number).padStart(2, '0')} · ${lesson.title}`

export class LabLessons extends LitElement {
  static override properties = {
    baseUrl: { type: String },
    slug: { type: String },
    active: { type: Boolean },
  }

  declare baseUrl: string
  /** The open lesson, e.g. 07-raw-websocket-chat; none shows the list alone. */
  declare slug: string | undefined
  /** Whether the view is on screen: it loads only then, and keeps its place while hidden. */
  declare active: boolean
  private readonly _loader = new LessonLoader(this)
  private _readerScroll = 0

  constructor() {
    super()
    this.baseUrl = location.origin
    this.slug = undefined
    this.active = false
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (!this.active) return
    if (changed.has('active') || changed.has('baseUrl')) {
      void this._loader.loadList(this.baseUrl)
      void this._loader.loadLesson(this.baseUrl, this.slug)
    } else if (changed.has('slug')) {
      this._readerScroll = 0
      void this._loader.loadLesson(this.baseUrl, this.slug)
    }
  }

  protected override updated(changed: PropertyValues<this>): void {
    const reader = this.renderRoot.querySelector<HTMLElement>('.reader')
    // A hidden element forgets how far it was scrolled: put the reader back where the student left it.
    if (reader && (changed.has('active') || changed.has('slug'))) reader.scrollTop = this._readerScroll
  }

  private _onReaderScroll(event: Event): void {
    if (this.active) this._readerScroll = (event.target as HTMLElement).scrollTop
  }

  override render() {
    const list = loaded(this._loader.list)
    return html`
      <div class="layout ${this.slug ? 'reading' : 'browsing'}">
        <nav aria-label="Lessons">
          <h2>Lessons</h2>
          ${this._renderList(list)}
        </nav>
        <div class="reader" @scroll=${this._onReaderScroll}>
          ${this.slug ? html`<a class="all" href="#/lessons">← All lessons</a>` : nothing} ${this._renderLesson(list)}
        </div>
      </div>
    `
  }

  private _renderList(list: LessonSummary[] | undefined) {
    const state = this._loader.list
    if (state.status === 'failed')
      return html`<p class="status" role="status">Could not load the lessons: ${state.message}</p>`
    if (!list) return html`<p class="status" role="status">Loading…</p>`
    if (list.length === 0)
      return html`<p class="status">
        No lessons yet. They are the <code>lessons/NN-topic.md</code> files of the project.
      </p>`
    return html`
      <ol>
        ${list.map(
          (lesson) =>
            html`<li>
              <a href=${lessonHash(lesson.slug)} aria-current=${lesson.slug === this.slug ? 'page' : nothing}
                ><span class="number">${String(lesson.number).padStart(2, '0')}</span>
                <span class="title">${lesson.title}</span></a
              >
            </li>`,
        )}
      </ol>
    `
  }

  private _renderLesson(list: LessonSummary[] | undefined) {
    if (!this.slug)
      return html`<p class="intro">
        Pick a lesson. Each one is a sequence of steps to run with curl, the terminal client and this workbench; the
        links in a lesson open the workbench's views right here.
      </p>`
    const state = this._loader.lesson
    const markdown = loaded(state)
    if (state.status === 'failed')
      return html`<p class="status" role="status">Could not open this lesson: ${state.message}</p>`
    if (markdown === undefined) return html`<p class="status" role="status">Loading…</p>`
    const index = list?.findIndex((l) => l.slug === this.slug) ?? -1
    const previous = index > 0 ? list![index - 1] : undefined
    const next = index >= 0 ? list![index + 1] : undefined
    return html`
      <lab-lesson .markdown=${markdown}></lab-lesson>
      <nav class="pager" aria-label="Previous and next lesson">
        ${previous ? html`<a rel="prev" href=${lessonHash(previous.slug)}>← ${numbered(previous)}</a>` : html`<span></span>`}
        ${next ? html`<a rel="next" href=${lessonHash(next.slug)}>${numbered(next)} →</a>` : nothing}
      </nav>
    `
  }

  static override styles = css`
    :host {
      display: block;
      height: 100%;
      min-height: 0;
      font-size: 17px;
    }
    .layout {
      display: grid;
      grid-template-columns: minmax(14rem, 19rem) minmax(0, 1fr);
      height: 100%;
      min-height: 0;
    }
    nav[aria-label='Lessons'] {
      overflow-y: auto;
      padding: 0.6rem 0.8rem;
      border-right: 1px solid #d5d9e0;
      background: #fff;
    }
    h2 {
      font-size: 1rem;
      margin: 0 0 0.4rem;
      color: #4a5260;
      text-transform: uppercase;
      letter-spacing: 0.04em;
    }
    ol {
      list-style: none;
      margin: 0;
      padding: 0;
      display: grid;
      gap: 0.1rem;
    }
    ol a {
      display: flex;
      gap: 0.5rem;
      padding: 0.35rem 0.5rem;
      border-radius: 4px;
      color: #1b1f24;
      text-decoration: none;
      line-height: 1.3;
    }
    ol a:hover {
      background: #eef1f5;
    }
    ol a[aria-current='page'] {
      background: #1d2733;
      color: #fff;
    }
    .number {
      font-variant-numeric: tabular-nums;
      color: inherit;
      opacity: 0.7;
    }
    .reader {
      overflow-y: auto;
      min-width: 0;
      padding: 0.8rem 1.4rem 2rem;
    }
    .all {
      display: none;
    }
    .intro,
    .status {
      color: #4a5260;
      max-width: 40rem;
    }
    .pager {
      display: flex;
      justify-content: space-between;
      gap: 1rem;
      max-width: 52rem;
      margin-top: 2rem;
      padding-top: 0.8rem;
      border-top: 1px solid #d5d9e0;
    }
    a {
      color: #0b57a4;
    }
    a:focus-visible {
      outline: 3px solid #ffbf47;
      outline-offset: 1px;
    }
    code {
      font-family: ui-monospace, 'SF Mono', Menlo, Consolas, monospace;
      font-size: 0.9em;
    }
    /* A phone shows one column: the list, or the lesson with a way back to the list. */
    @media (max-width: 700px) {
      :host {
        font-size: 16px;
      }
      .layout {
        grid-template-columns: minmax(0, 1fr);
      }
      nav[aria-label='Lessons'] {
        border-right: none;
      }
      .reading nav[aria-label='Lessons'],
      .browsing .reader {
        display: none;
      }
      .reader {
        padding: 0.6rem 0.8rem 1.5rem;
      }
      .all {
        display: inline-block;
        margin-bottom: 0.4rem;
      }
    }
  `
}

customElements.define('lab-lessons', LabLessons)

declare global {
  interface HTMLElementTagNameMap {
    'lab-lessons': LabLessons
  }
}
