// Says what the lab is and asks for a name, once: the name is kept in this
// browser (localStorage), so a reload joins at once with it. Once named, the
// element is a "Change name" button that asks again.
import { LitElement, css, html, nothing } from 'lit'
import { NAME_MAX_LENGTH, NAME_PATTERN } from '../../../server/core/names.ts'
import { headerButton } from '../header-button.ts'

export const NAME_KEY = 'transport-lab:name'
const NAME_REGEX = new RegExp(NAME_PATTERN)

export class LabNamePrompt extends LitElement {
  static override properties = {
    _name: { state: true },
  }

  /** The name this page joined with, once there is one. */
  declare _name: string | undefined

  constructor() {
    super()
    this._name = undefined
  }

  override firstUpdated(): void {
    const remembered = localStorage.getItem(NAME_KEY)?.trim() ?? ''
    // A name the server would refuse (kept by an older version, edited by hand) is asked for again.
    if (remembered.length <= NAME_MAX_LENGTH && NAME_REGEX.test(remembered)) this._choose(remembered)
    else this._ask()
  }

  private _ask(): void {
    const input = this.renderRoot.querySelector('input')!
    input.value = this._name ?? localStorage.getItem(NAME_KEY) ?? ''
    this.renderRoot.querySelector('dialog')!.showModal()
    input.focus()
  }

  private _choose(name: string): void {
    this._name = name
    this.dispatchEvent(new CustomEvent('name-chosen', { detail: name, bubbles: true, composed: true }))
  }

  private _onSubmit(event: SubmitEvent): void {
    event.preventDefault()
    const input = this.renderRoot.querySelector('input')!
    const name = input.value.trim()
    if (!name) return
    localStorage.setItem(NAME_KEY, name)
    this.renderRoot.querySelector('dialog')!.close()
    if (name !== this._name) this._choose(name)
  }

  private _onKeep(): void {
    this.renderRoot.querySelector('dialog')!.close()
  }

  // Escape would leave the page nameless: the first time, the dialog stays until a name is given.
  private _onCancel(event: Event): void {
    if (this._name === undefined) event.preventDefault()
  }

  override render() {
    return html`
      ${
        this._name === undefined
          ? nothing
          : html`<button
              type="button"
              class="header-button"
              @click=${this._ask}
              title="You are ${this._name} in the chat"
            >
              Change name
            </button>`
      }
      <dialog aria-labelledby="heading" @cancel=${this._onCancel}>
        <form @submit=${this._onSubmit}>
          <h2 id="heading">Welcome to Transport Lab</h2>
          <p>
            One chat, carried five ways at once: short polling, long polling, Server-Sent Events, WebSocket and
            Socket.IO. Each transport gets a panel, side by side, and the lab measures what each one costs: how long a
            message takes and how many bytes it puts on the wire.
          </p>
          <p>
            Your name shows next to your messages and in the room's list of people, on every transport. This browser
            remembers it.
          </p>
          <label for="name">Name</label>
          <input id="name" required maxlength=${NAME_MAX_LENGTH} autocomplete="nickname" />
          ${
            this._name === undefined
              ? html`<button type="submit">Join the lab</button>`
              : html`<button type="submit">Use this name</button>
                  <button type="button" @click=${this._onKeep}>Keep ${this._name}</button>`
          }
        </form>
      </dialog>
    `
  }

  static override styles = [
    headerButton,
    css`
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
      p {
        margin: 0;
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
    `,
  ]
}

customElements.define('lab-name-prompt', LabNamePrompt)

declare global {
  interface HTMLElementTagNameMap {
    'lab-name-prompt': LabNamePrompt
  }
}
