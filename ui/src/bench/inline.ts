// The report's text carries Markdown's inline marks (`*term*`, `**strong**`,
// `` `code` ``) because latest.md is Markdown; in the page they become
// elements. Everything else stays text, which Lit escapes.
import { html, type TemplateResult } from 'lit'

// An opening `*` followed by a space is a plain asterisk ("* = client-bound"), as in Markdown.
const MARK = /\*\*([^*]+)\*\*|\*([^*\s][^*]*?)\*|`([^`]+)`/g

export function inlineMarks(text: string): Array<string | TemplateResult> {
  const out: Array<string | TemplateResult> = []
  let at = 0
  for (const match of text.matchAll(MARK)) {
    out.push(text.slice(at, match.index))
    const [, strong, term, code] = match
    out.push(
      strong !== undefined
        ? html`<strong>${strong}</strong>`
        : term !== undefined
          ? html`<em>${term}</em>`
          : html`<code>${code}</code>`,
    )
    at = match.index + match[0].length
  }
  out.push(text.slice(at))
  return out
}
