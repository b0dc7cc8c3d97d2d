// One banner for the whole page while the server cannot be reached: five
// panels each saying "reconnecting" do not tell a class that the server itself
// is down, nor that the figures on screen have stopped moving.
import { LitElement, css, html, nothing } from 'lit'
import { SourceFollower } from '../controllers/follow.ts'
import type { Lab } from '../state/lab.ts'

export class LabOfflineBanner extends LitElement {
  static override properties = {
    lab: { attribute: false },
  }

  declare lab: Lab | undefined
  private readonly _wire = new SourceFollower<Lab>(this, (lab) => {
    const onChange = () => this.requestUpdate()
    lab.wire.addEventListener('reachability', onChange)
    return () => lab.wire.removeEventListener('reachability', onChange)
  })

  constructor() {
    super()
    this.lab = undefined
  }

  protected override willUpdate(): void {
    this._wire.follow(this.lab)
  }

  override render() {
    const wire = this.lab?.wire
    const since = wire?.unreachableSince
    if (!wire || since === undefined) return nothing
    const readAt = wire.readAt === undefined ? 'never' : new Date(wire.readAt).toLocaleTimeString()
    // role="alert" is announced when it appears, which is why the element is only in the page during an outage.
    return html`<div role="alert">
      <strong>The server at ${this.lab!.baseUrl} cannot be reached; retrying…</strong>
      <span
        >No answer since ${new Date(since).toLocaleTimeString()}. The panels reconnect by themselves once it is back.
        Until then the server's figures in the panels and charts are stale: its last answer, read at ${readAt}.</span
      >
    </div>`
  }

  static override styles = css`
    :host {
      display: block;
    }
    div {
      display: flex;
      flex-wrap: wrap;
      gap: 0.2rem 0.6rem;
      align-items: baseline;
      padding: 0.45rem 0.8rem;
      background: #8a1c1c;
      color: #fff;
      font-size: 0.9rem;
    }
  `
}

customElements.define('lab-offline-banner', LabOfflineBanner)

declare global {
  interface HTMLElementTagNameMap {
    'lab-offline-banner': LabOfflineBanner
  }
}
