// Asks for a name once (kept in localStorage) before the clients connect.
import { LitElement, css, html } from 'lit'
import { NAME_MAX_LENGTH } from '../../../server/core/names.ts'

export const NAME_KEY = 'transport-lab:name'

export class LabNamePrompt extends LitElement {
  override firstUpdated(): void {
    const dialog = this.renderRoot.querySelector('dialog')!
    const input = this.renderRoot.querySelector('input')!
    input.value = localStorage.getItem(NAME_KEY) ?? ''
    dialog.showModal()
    input.focus()
  }

  private _onSubmit(event: SubmitEvent): void {
    event.preventDefault()
    const input = this.renderRoot.querySelector('input')!
    const name = input.value.trim()
    if (!name) return
    localStorage.setItem(NAME_KEY, name)
    this.renderRoot.querySelector('dialog')!.close()
    this.dispatchEvent(new CustomEvent('name-chosen', { detail: name, bubbles: true, composed: true }))
  }

  // Escape would leave the page nameless: the dialog stays until a name is given.
  private _onCancel(event: Event): void {
    event.preventDefault()
  }

  override render() {
    return html`
      <dialog aria-labelledby="heading" @cancel=${this._onCancel}>
        <form @submit=${this._onSubmit}>
          <h2 id="heading">Who are you?</h2>
          <p>Your name shows next to your messages and in the room's presence list, on every transport.</p>
          <label for="name">Name</label>
          <input id="name" required maxlength=${NAME_MAX_LENGTH} autocomplete="nickname" />
          <button type="submit">Join the lab</button>
        </form>
      </dialog>
    `
  }

  static override styles = css`
    dialog {
      border: none;
      border-radius: 8px;
      padding: 1.5rem 2rem;
      max-width: 28rem;
      box-shadow: 0 10px 40px rgba(0, 0, 0, 0.3);
    }
    dialog::backdrop {
      background: rgba(20, 24, 30, 0.55);
    }
    h2 {
      margin-top: 0;
    }
    form {
      display: grid;
      gap: 0.6rem;
    }
    input,
    button {
      font: inherit;
      font-size: 1.1rem;
      padding: 0.4rem 0.6rem;
    }
    button {
      font-weight: 600;
    }
    /* A phone: the dialog fits the screen, and scrolls inside itself rather than off its edges. */
    @media (max-width: 700px) {
      dialog {
        box-sizing: border-box;
        width: calc(100vw - 1.5rem);
        max-width: calc(100vw - 1.5rem);
        max-height: calc(100dvh - 1.5rem);
        padding: 1rem 1.1rem;
        overflow-y: auto;
      }
    }
  `
}

customElements.define('lab-name-prompt', LabNamePrompt)

declare global {
  interface HTMLElementTagNameMap {
    'lab-name-prompt': LabNamePrompt
  }
}
