// In a long polling or SSE panel of a tab beyond the browser's connection
// budget (state/tab-budget.ts): why the panel is off rather than pretending to
// be connected, and a button that moves the held connections to this tab.
import { LitElement, css, html } from 'lit'
import type { Lab } from '../state/lab.ts'
import { HOLDING_TABS } from '../state/tab-budget.ts'

export class LabTabNotice extends LitElement {
  static override properties = {
    lab: { attribute: false },
  }

  declare lab: Lab

  private _onTakeOver(): void {
    this.lab.tabs.takeOver()
  }

  override render() {
    return html`<div role="note">
      <p><b>Off in this tab.</b></p>
      <p>
        A browser opens only about 6 connections to one server. ${HOLDING_TABS} other tabs of this workbench already
        keep long polling and SSE open (${this.lab.tabs.otherTabs} other tabs in all). Close one, or take over here.
      </p>
      <button
        type="button"
        @click=${this._onTakeOver}
        title="Open long polling and SSE in this tab: the last tab that had them turns them off"
      >
        Take over
      </button>
    </div>`
  }

  static override styles = css`
    div {
      padding: 0.5rem 0.6rem;
      background: #fff8e1;
      color: #4d3800;
      font-size: 0.85rem;
      border-bottom: 1px solid #f0e2b6;
    }
    p {
      margin: 0 0 0.35rem;
    }
    button {
      font: inherit;
      font-weight: 600;
      padding: 0.15rem 0.6rem;
    }
  `
}

customElements.define('lab-tab-notice', LabTabNotice)

declare global {
  interface HTMLElementTagNameMap {
    'lab-tab-notice': LabTabNotice
  }
}
