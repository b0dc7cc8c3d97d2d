// Says what the lab is and asks for a name, once: the name is kept in this
// browser (localStorage), so a reload joins at once with it. Once named, the
// element is a "Change name" button that asks again. When the server has a
// class code (GET /api/auth), it asks for the code too and logs in: the
// token travels in an HttpOnly cookie, and a reload with the cookie still
// good joins at once under the token's name. A token lost later (expired,
// revoked, logged out) brings the prompt back, and a "Log out" button sits
// beside "Change name" while there is a session.
import { LitElement, css, html, nothing } from 'lit'
import { NAME_MAX_LENGTH, NAME_PATTERN } from '../../../server/core/names.ts'
import { SourceFollower, renderOn } from '../controllers/follow.ts'
import { headerButton } from '../header-button.ts'
import { refusalText } from '../state/auth.ts'
import type { Lab } from '../state/lab.ts'

export const NAME_KEY = 'transport-lab:name'
const NAME_REGEX = new RegExp(NAME_PATTERN)

export class LabNamePrompt extends LitElement {
  static override properties = {
    lab: { attribute: false },
    _name: { state: true },
    _mustLogIn: { state: true },
    _why: { state: true },
    _refusal: { state: true },
    _busy: { state: true },
  }

  /** The page's model: its GET /api/auth, its login and logout. Without one the prompt asks for a name only. */
  declare lab: Lab | undefined
  /** The name this page joined with, once there is one. */
  declare _name: string | undefined
  /** The page has no good token and the server needs one: the dialog cannot be put away without a login. */
  declare _mustLogIn: boolean
  /** Why the dialog is back (the token expired, was revoked, the reader logged out). */
  declare _why: string | undefined
  /** The server's refusal of the last login (a wrong code, a name taken). */
  declare _refusal: string | undefined
  declare _busy: boolean
  private readonly _lab = new SourceFollower<Lab>(this, (lab) => {
    const onLost = (event: Event) => this._askToLogIn((event as CustomEvent<string>).detail)
    const unrender = renderOn(this, 'auth')(lab)
    lab.addEventListener('token-lost', onLost)
    return () => {
      unrender()
      lab.removeEventListener('token-lost', onLost)
    }
  })

  constructor() {
    super()
    this.lab = undefined
    this._name = undefined
    this._mustLogIn = false
    this._why = undefined
    this._refusal = undefined
    this._busy = false
  }

  protected override willUpdate(): void {
    this._lab.follow(this.lab)
  }

  override firstUpdated(): void {
    void this._greet()
  }

  /** The first question: with a class code, whether this browser's cookie is still a good login. */
  private async _greet(): Promise<void> {
    const auth = await this.lab?.readAuth()
    if (auth?.classCode) {
      // A good cookie: the token's name is this page's name, whatever this browser remembered.
      if (auth.session) {
        localStorage.setItem(NAME_KEY, auth.session.name)
        this._choose(auth.session.name)
      } else this._askToLogIn(auth.problem && `Your last session ended: ${auth.problem}.`)
      return
    }
    const remembered = localStorage.getItem(NAME_KEY)?.trim() ?? ''
    // A name the server would refuse (kept by an older version, edited by hand) is asked for again.
    if (remembered.length <= NAME_MAX_LENGTH && NAME_REGEX.test(remembered)) this._choose(remembered)
    else this._ask()
  }

  private get _classCode(): boolean {
    return this.lab?.auth?.classCode === true
  }

  private _askToLogIn(why: string | undefined): void {
    this._mustLogIn = true
    this._why = why
    this._refusal = undefined
    void this.updateComplete.then(() => this._ask())
  }

  private _ask(): void {
    const input = this.renderRoot.querySelector<HTMLInputElement>('#name')!
    input.value = this._name ?? localStorage.getItem(NAME_KEY) ?? ''
    const dialog = this.renderRoot.querySelector('dialog')!
    if (!dialog.open) dialog.showModal()
    input.focus()
  }

  private _choose(name: string): void {
    this._name = name
    this.dispatchEvent(new CustomEvent('name-chosen', { detail: name, bubbles: true, composed: true }))
  }

  private async _onSubmit(event: SubmitEvent): Promise<void> {
    event.preventDefault()
    if (this._busy) return
    const input = this.renderRoot.querySelector<HTMLInputElement>('#name')!
    const name = input.value.trim()
    if (!name) return
    if (this._classCode && this.lab) {
      const code = this.renderRoot.querySelector<HTMLInputElement>('#code')!.value
      this._busy = true
      this._refusal = undefined
      const result = await this.lab.login(code, name)
      this._busy = false
      if (!result.ok) {
        // Logged out on the way (a Change name): there is no name to keep any more.
        this._mustLogIn = !this.lab.auth?.session
        this._refusal = refusalText(result)
        return
      }
      this._mustLogIn = false
      this._why = undefined
      localStorage.setItem(NAME_KEY, result.session.name)
      this.renderRoot.querySelector('dialog')!.close()
      this._choose(result.session.name)
      return
    }
    localStorage.setItem(NAME_KEY, name)
    this.renderRoot.querySelector('dialog')!.close()
    if (name !== this._name) this._choose(name)
  }

  private _onKeep(): void {
    this.renderRoot.querySelector('dialog')!.close()
  }

  // Escape would leave the page nameless (or without a token): the dialog stays until a name is given.
  private _onCancel(event: Event): void {
    if (this._name === undefined || this._mustLogIn) event.preventDefault()
  }

  private async _onLogOut(): Promise<void> {
    await this.lab?.logout()
  }

  override render() {
    const session = this.lab?.auth?.session
    const classCode = this._classCode
    const firstTime = this._name === undefined || this._mustLogIn
    return html`
      ${
        this._name === undefined || this._mustLogIn
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
      ${
        session && !this._mustLogIn
          ? html`<button
              type="button"
              class="header-button"
              @click=${this._onLogOut}
              title="Logged in as ${session.name} (${session.role}) until ${new Date(session.expiresAt).toLocaleTimeString()}"
            >
              Log out
            </button>`
          : nothing
      }
      <dialog aria-labelledby="heading" @cancel=${this._onCancel}>
        <form @submit=${this._onSubmit}>
          <h2 id="heading">Welcome to Transport Lab</h2>
          ${this._why ? html`<p class="why" role="status">${this._why} Log in again to rejoin.</p>` : nothing}
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
            classCode
              ? html`<label for="code">Class code</label>
                  <input id="code" type="password" required autocomplete="off" aria-describedby="code-help" />
                  <p id="code-help" class="help">
                    The instructor gives it out. The lab keeps your login in a cookie this page's scripts cannot read.
                  </p>`
              : nothing
          }
          ${this._refusal ? html`<p class="refusal" role="alert">${this._refusal}</p>` : nothing}
          ${
            firstTime
              ? html`<button type="submit" ?disabled=${this._busy}>Join the lab</button>`
              : html`<button type="submit" ?disabled=${this._busy}>Use this name</button>
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
      .help {
        font-size: 0.9rem;
        color: #4a5260;
      }
      .why,
      .refusal {
        padding: 0.4rem 0.6rem;
        border-left: 4px solid #b35c00;
        background: #fff4e5;
        color: #5c2e00;
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
