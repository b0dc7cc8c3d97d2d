// One lesson, rendered from its markdown (lesson-markdown.ts makes it safe),
// with a copy button on each code block. Links into the workbench are plain
// `#/...` hrefs, so following one is a route change that the page handles.
import { LitElement, css, html, type PropertyValues } from 'lit'
import { codeOf, renderLesson } from '../lessons/lesson-markdown.ts'

const COPY_LABEL_MS = 2000

type CopyOutcome = 'copied' | 'selected'

const LABELS: Record<CopyOutcome, string> = {
  copied: 'Copied',
  selected: 'Selected: copy it',
}

export class LabLesson extends LitElement {
  static override properties = {
    markdown: { attribute: false },
  }

  declare markdown: string
  private readonly _labelTimers = new Map<Element, ReturnType<typeof setTimeout>>()

  constructor() {
    super()
    this.markdown = ''
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback()
    for (const timer of this._labelTimers.values()) clearTimeout(timer)
    this._labelTimers.clear()
  }

  protected override updated(changed: PropertyValues<this>): void {
    if (changed.has('markdown'))
      this.renderRoot.querySelector('article')!.replaceChildren(renderLesson(this.markdown, location.origin))
  }

  private async _onClick(event: MouseEvent): Promise<void> {
    const button = (event.target as Element).closest('button.copy')
    if (!button) return
    const code = button.parentElement?.querySelector('code') ?? button.parentElement?.querySelector('pre')
    if (!code) return
    this._showOutcome(button, await copy(codeOf(button), code))
  }

  private _showOutcome(button: Element, outcome: CopyOutcome): void {
    button.textContent = LABELS[outcome]
    button.classList.add(outcome)
    clearTimeout(this._labelTimers.get(button))
    this._labelTimers.set(
      button,
      setTimeout(() => {
        button.textContent = 'Copy'
        button.classList.remove('copied', 'selected')
        this._labelTimers.delete(button)
      }, COPY_LABEL_MS),
    )
  }

  override render() {
    return html`<article @click=${this._onClick}></article>`
  }

  static override styles = css`
    :host {
      display: block;
      min-width: 0;
    }
    article {
      max-width: 52rem;
      line-height: 1.55;
      overflow-wrap: break-word;
    }
    h1 {
      font-size: 1.7rem;
      line-height: 1.2;
      margin: 0.2rem 0 0.8rem;
    }
    h2 {
      font-size: 1.35rem;
      margin: 1.8rem 0 0.6rem;
      padding-bottom: 0.2rem;
      border-bottom: 1px solid #d5d9e0;
    }
    h3 {
      font-size: 1.12rem;
      margin: 1.4rem 0 0.4rem;
    }
    p,
    ul,
    ol,
    details,
    blockquote {
      margin: 0.55rem 0;
    }
    li + li {
      margin-top: 0.2rem;
    }
    a {
      color: #0b57a4;
    }
    a.view-link {
      font-weight: 600;
    }
    a[target='_blank']::after {
      content: ' ↗';
    }
    a:focus-visible,
    button:focus-visible,
    pre:focus-visible,
    summary:focus-visible {
      outline: 3px solid #ffbf47;
      outline-offset: 1px;
    }
    code {
      font-family: ui-monospace, 'SF Mono', Menlo, Consolas, monospace;
      font-size: 0.9em;
      background: #eef1f5;
      padding: 0.05rem 0.3rem;
      border-radius: 3px;
      overflow-wrap: anywhere;
    }
    .source-ref {
      color: #3a414c;
    }
    .lab-host-note {
      padding: 0.4rem 0.8rem;
      background: #fff8e1;
      border: 1px solid #f0d48a;
      border-radius: 6px;
    }
    blockquote {
      padding: 0.1rem 0.9rem;
      border-left: 4px solid #c9d0d9;
      color: #3a414c;
    }
    details {
      padding: 0.4rem 0.8rem;
      background: #fff;
      border: 1px solid #d5d9e0;
      border-radius: 6px;
    }
    summary {
      cursor: pointer;
      font-weight: 600;
    }
    img {
      max-width: 100%;
      height: auto;
    }
    hr {
      border: none;
      border-top: 1px solid #d5d9e0;
      margin: 1.5rem 0;
    }
    /* A long line scrolls inside its block; the page itself never gets wider than the screen. */
    .code-block {
      position: relative;
      margin: 0.6rem 0;
      min-width: 0;
    }
    pre {
      margin: 0;
      padding: 0.7rem 0.9rem;
      padding-right: 5.5rem;
      overflow-x: auto;
      background: #1d2733;
      color: #f1f4f8;
      border-radius: 6px;
      font-size: 0.92rem;
      line-height: 1.45;
    }
    pre code {
      background: none;
      padding: 0;
      font-size: inherit;
      color: inherit;
      overflow-wrap: normal;
      white-space: pre;
    }
    .copy {
      position: absolute;
      top: 0.35rem;
      right: 0.35rem;
      font: inherit;
      font-size: 0.8rem;
      padding: 0.15rem 0.6rem;
      border: 1px solid #8d99a8;
      border-radius: 4px;
      background: #2f3d4d;
      color: #fff;
      cursor: pointer;
    }
    .copy.copied {
      background: #d9f2e3;
      color: #125c2f;
      border-color: #125c2f;
    }
    .copy.selected {
      background: #fff1cc;
      color: #6b4d00;
      border-color: #6b4d00;
    }
    .table-scroll {
      overflow-x: auto;
      margin: 0.6rem 0;
    }
    table {
      border-collapse: collapse;
      font-size: 0.92rem;
    }
    th,
    td {
      border: 1px solid #d5d9e0;
      padding: 0.25rem 0.55rem;
      text-align: left;
      vertical-align: top;
    }
    th {
      background: #eef1f5;
    }
    @media (max-width: 600px) {
      h1 {
        font-size: 1.4rem;
      }
      pre {
        font-size: 0.85rem;
        padding-right: 0.9rem;
        padding-top: 2.1rem;
      }
    }
  `
}

/**
 * navigator.clipboard exists only in secure contexts, and a class reaches the
 * lab at http://<ip>:3000: there the text is selected (and copied the old way
 * when the browser still allows it), so one keystroke copies it.
 */
async function copy(text: string, code: Element): Promise<CopyOutcome> {
  if (window.isSecureContext && navigator.clipboard) {
    try {
      await navigator.clipboard.writeText(text)
      return 'copied'
    } catch {
      // Refused (no permission, page not focused): selecting still works.
    }
  }
  window.getSelection()?.selectAllChildren(code)
  try {
    return document.execCommand('copy') ? 'copied' : 'selected'
  } catch {
    return 'selected'
  }
}

customElements.define('lab-lesson', LabLesson)

declare global {
  interface HTMLElementTagNameMap {
    'lab-lesson': LabLesson
  }
}
