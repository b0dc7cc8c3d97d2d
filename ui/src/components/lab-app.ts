// The workbench: a name prompt, then five transports racing side by side,
// with an inspector, live charts, the benchmark results and the lessons one
// tab away. The address bar's hash is the route (state/route.ts): the view
// and its settings, so that a link can open any of them.
import { LitElement, css, html, nothing } from 'lit'
import { isRoomName, ROOM_MAX_LENGTH, ROOM_RULE, TRANSPORTS, type TransportName } from '../../../server/core/names.ts'
import { SourceFollower, renderOn } from '../controllers/follow.ts'
import { Lab } from '../state/lab.ts'
import { HashRouteController, type Route, type ViewId } from '../state/route.ts'
import { presenterRemembered, rememberPresenter } from '../state/presenter.ts'
import './lab-bench-view.ts'
import './lab-charts.ts'
import './lab-cluster-view.ts'
import './lab-composer.ts'
import './lab-counter-legend.ts'
import './lab-inspector.ts'
import './lab-instructor.ts'
import './lab-join-card.ts'
import './lab-lessons.ts'
import './lab-name-prompt.ts'
import './lab-network-select.ts'
import './lab-offline-banner.ts'
import './lab-presence.ts'
import './lab-transport-panel.ts'
import './lab-transport-switcher.ts'

const TABS = [
  { id: 'race', label: 'Race' },
  { id: 'inspector', label: 'Inspector' },
  { id: 'charts', label: 'Charts' },
  { id: 'bench', label: 'Benchmarks' },
  { id: 'lessons', label: 'Lessons' },
  { id: 'instructor', label: 'Instructor' },
  // Only behind the cluster (visibleTabs).
  { id: 'cluster', label: 'Cluster' },
] as const satisfies ReadonlyArray<{ id: ViewId; label: string }>
type TabId = ViewId

export class LabApp extends LitElement {
  static override properties = {
    _tab: { state: true },
    _named: { state: true },
    _room: { state: true },
    _deflate: { state: true },
    _inspected: { state: true },
    _lesson: { state: true },
    _resetRefused: { state: true },
    _presenter: { state: true },
    _shownOnPhone: { state: true },
  }

  declare _tab: TabId
  declare _named: boolean
  declare _room: string
  declare _deflate: boolean
  /** The Inspector's transport, kept while another view is open. */
  declare _inspected: TransportName
  /** The lesson open in the Lessons view, kept while another view is open. */
  declare _lesson: string | undefined
  /** Why the server refused the reset for everyone, when it did. */
  declare _resetRefused: string | undefined
  /** Presenter mode: large type, the figures' meanings in view, fewer numbers. */
  declare _presenter: boolean
  /** The one panel a phone shows. */
  declare _shownOnPhone: TransportName
  readonly lab = new Lab()
  private readonly _router = new HashRouteController(this, (route) => this._onRoute(route))
  // An instructor's login shows Reset for everyone on any machine.
  private readonly _auth = new SourceFollower<Lab>(this, renderOn(this, 'auth'))
  // The Cluster tab appears once /api/cluster lists instances.
  private readonly _cluster = new SourceFollower<EventTarget>(this, renderOn(this, 'change'))

  constructor() {
    super()
    this._auth.follow(this.lab)
    this._cluster.follow(this.lab.cluster)
    this._tab = 'race'
    this._named = false
    this._room = this.lab.room
    this._deflate = this.lab.clients.websocket.compress
    this._inspected = 'websocket'
    this._lesson = undefined
    this._resetRefused = undefined
    this._presenter = presenterRemembered()
    this._shownOnPhone = TRANSPORTS[0]
  }

  protected override updated(): void {
    // On the host, so that the page's own styles (and a test) can tell presenter mode.
    this.toggleAttribute('presenter', this._presenter)
  }

  /** The page's state as a route, for the address bar. */
  private get _route(): Route {
    return {
      view: this._tab,
      lesson: this._tab === 'lessons' ? this._lesson : undefined,
      transport: this._tab === 'inspector' ? this._inspected : undefined,
      room: this._room,
      deflate: this._deflate,
      presenter: this._presenter,
    }
  }

  /** A link, Back or an edited address: show what it names, then write the full state back (in place). */
  private _onRoute(route: Route): void {
    this._tab = route.view
    if (route.view === 'lessons') this._lesson = route.lesson
    if (route.transport) this._inspected = route.transport
    if (route.deflate !== undefined) this._setDeflate(route.deflate)
    if (route.presenter !== undefined) this._setPresenter(route.presenter)
    if (route.room !== undefined && route.room !== this._room) void this._switchRoom(route.room)
    // A bare address (/) stays bare until the reader moves.
    if (location.hash) this._router.write(this._route, 'replace')
  }

  private _openTab(tab: TabId): void {
    if (tab === this._tab) return
    this._tab = tab
    this._router.write(this._route, 'push')
  }

  private async _switchRoom(room: string): Promise<void> {
    this._room = room
    await this.lab.switchRoom(room)
  }

  private _setDeflate(on: boolean): void {
    this._deflate = on
    this.lab.setCompression(on)
  }

  private _onDeflateChange(event: CustomEvent<boolean>): void {
    this._setDeflate(event.detail)
    this._router.write(this._route, 'replace')
  }

  private _setPresenter(on: boolean): void {
    this._presenter = on
    rememberPresenter(on)
  }

  private _onPresenterToggle(): void {
    this._setPresenter(!this._presenter)
    this._router.write(this._route, 'replace')
  }

  private _onInspectedChange(event: CustomEvent<TransportName>): void {
    this._inspected = event.detail
    this._router.write(this._route, 'replace')
  }

  private _onNameChosen(event: CustomEvent<string>): void {
    if (!this._named) this.lab.start(event.detail)
    // Back from a login (a lost token, a Change name with the class code): the clients stopped and rejoin.
    else if (this.lab.loggedOut) this.lab.resume(event.detail)
    else void this.lab.rename(event.detail)
    this._named = true
    // The dialog gives focus back to the body it took it from: move it to where the page starts.
    void this.updateComplete.then(() => {
      if (this._tab === 'race') this.renderRoot.querySelector('lab-composer')?.focus()
      else this.renderRoot.querySelector<HTMLButtonElement>(`#tab-${this._tab}`)?.focus()
    })
  }

  private async _onRoomSubmit(event: SubmitEvent): Promise<void> {
    event.preventDefault()
    const input = this.renderRoot.querySelector<HTMLInputElement>('#room')!
    const room = input.value.trim()
    if (!isRoomName(room)) {
      input.setCustomValidity(`A room name is ${ROOM_RULE}.`)
      input.reportValidity()
      return
    }
    input.setCustomValidity('')
    await this._switchRoom(room)
    this._router.write(this._route, 'replace')
  }

  /** The tabs shown: the Cluster tab only when the page is behind a cluster (or a link opened it: it says why it is empty). */
  private get _visibleTabs(): ReadonlyArray<(typeof TABS)[number]> {
    return this.lab.cluster.clustered || this._tab === 'cluster' ? TABS : TABS.filter((t) => t.id !== 'cluster')
  }

  private _onTabKey(event: KeyboardEvent): void {
    const tabs = this._visibleTabs
    const index = tabs.findIndex((t) => t.id === this._tab)
    const step = event.key === 'ArrowRight' ? 1 : event.key === 'ArrowLeft' ? -1 : 0
    if (!step) return
    event.preventDefault()
    this._openTab(tabs[(index + step + tabs.length) % tabs.length]!.id)
    void this.updateComplete.then(() => this.renderRoot.querySelector<HTMLButtonElement>(`#tab-${this._tab}`)?.focus())
  }

  private _renderTab(t: (typeof TABS)[number]) {
    return html`<button
      role="tab"
      id="tab-${t.id}"
      aria-controls="view-${t.id}"
      aria-selected=${this._tab === t.id ? 'true' : 'false'}
      tabindex=${this._tab === t.id ? 0 : -1}
      @click=${() => this._openTab(t.id)}
    >
      ${t.label}
    </button>`
  }

  // The Inspector, Charts and Benchmarks views exist only while their tab is open.
  private _renderInspector() {
    return html`<section id="view-inspector" role="tabpanel" aria-labelledby="tab-inspector">
      <lab-inspector
        .lab=${this.lab}
        .transport=${this._inspected}
        @transport-change=${this._onInspectedChange}
      ></lab-inspector>
    </section>`
  }

  private _renderCharts() {
    return html`<section id="view-charts" role="tabpanel" aria-labelledby="tab-charts">
      <lab-charts .lab=${this.lab}></lab-charts>
    </section>`
  }

  private _renderBench() {
    return html`<section id="view-bench" role="tabpanel" aria-labelledby="tab-bench">
      <lab-bench-view .baseUrl=${this.lab.baseUrl}></lab-bench-view>
    </section>`
  }

  private _onResetCounters(): void {
    this._resetRefused = undefined
    this.lab.wire.reset()
    this.requestUpdate()
  }

  private async _onResetServer(): Promise<void> {
    this._resetRefused = await this.lab.wire.resetServer()
    this.requestUpdate()
  }

  private _renderReset() {
    const at = this.lab.wire.resetAt
    const time = at === undefined ? '' : new Date(at).toLocaleTimeString()
    const status =
      this._resetRefused !== undefined
        ? `Not reset for everyone: ${this._resetRefused}`
        : at === undefined
          ? "The panels' server figures count from the server's start."
          : this.lab.wire.resetBy === 'page'
            ? `The panels' server figures count from ${time} (this page's reset).`
            : `The panels' server figures count from the server's reset (an instructor's, or a restart), seen at ${time}.`
    return html`<p class="reset">
      <button
        type="button"
        @click=${this._onResetCounters}
        title="Count the server's figures in the panels and charts from now on, on this page only: the server's totals and other pages are not changed"
      >
        Reset counters</button
      >${
        onServerMachine(this.lab.baseUrl) || this.lab.auth?.session?.role === 'instructor'
          ? html`<button type="button" @click=${this._onResetServer} title=${RESET_FOR_EVERYONE_TITLE}>
              Reset for everyone
            </button>`
          : nothing
      }<span role="status">${status}</span>
    </p>`
  }

  override render() {
    return html`
      <header>
        <h1>Transport Lab</h1>
        <form class="room" @submit=${this._onRoomSubmit}>
          <label for="room">Room</label>
          <input id="room" .value=${this._room} size="10" maxlength=${ROOM_MAX_LENGTH} />
          <button type="submit">Switch</button>
        </form>
        <lab-presence .lab=${this.lab}></lab-presence>
        <lab-name-prompt .lab=${this.lab} @name-chosen=${this._onNameChosen}></lab-name-prompt>
        <lab-join-card .baseUrl=${this.lab.baseUrl}></lab-join-card>
        <lab-network-select .network=${this.lab.network}></lab-network-select>
        <nav role="tablist" aria-label="Views" @keydown=${this._onTabKey}>
          ${this._visibleTabs.map((t) => this._renderTab(t))}
        </nav>
        <button
          type="button"
          class="presenter"
          aria-pressed=${this._presenter ? 'true' : 'false'}
          @click=${this._onPresenterToggle}
        >
          Presenter mode
        </button>
      </header>
      <lab-offline-banner .lab=${this.lab}></lab-offline-banner>
      <main>
        <section id="view-race" role="tabpanel" aria-labelledby="tab-race" ?hidden=${this._tab !== 'race'}>
          <lab-composer .lab=${this.lab}></lab-composer>
          ${this._renderReset()}
          <lab-transport-switcher
            .shown=${this._shownOnPhone}
            @transport-shown=${(e: CustomEvent<TransportName>) => (this._shownOnPhone = e.detail)}
          ></lab-transport-switcher>
          <div class="panels" @deflate-change=${this._onDeflateChange}>
            ${TRANSPORTS.map((t) => html`<lab-transport-panel .lab=${this.lab} transport=${t} .deflate=${this._deflate} ?presenter=${this._presenter} ?data-off-phone=${t !== this._shownOnPhone}></lab-transport-panel>`)}
          </div>
          <lab-counter-legend ?presenter=${this._presenter}></lab-counter-legend>
          <p class="note">
            Connection budget: browsers open about 6 HTTP/1.1 connections per origin. This page holds at most two (the
            long poll and the SSE stream); the WebSockets (raw and Socket.IO) do not count against that pool, and the
            short poll, sends and the meter's once-a-second read use the rest. So no panel waits for another's
            connection. The pool is shared by every tab of this browser: only two workbench tabs hold a long poll and an
            SSE stream, and in any other tab those two panels are off and say why.
          </p>
          <p class="note">
            Latency is measured here in the browser, one message at a time, with its timers, event loop and rendering in
            the figure: for a message this page sent, from its send to this panel handling it, on this page's clock; ≈
            for anyone else's, from the server's stamp to this panel, the two clocks' offset estimated (a figure's
            tooltip says how well). Not the Benchmarks tab's µs: those are a Node load client's
            <code>perf_hooks</code> timings, send to receive, on the server's own machine, under load.
          </p>
        </section>
        ${this._tab === 'inspector' ? this._renderInspector() : nothing}
        ${this._tab === 'charts' ? this._renderCharts() : nothing}
        ${this._tab === 'bench' ? this._renderBench() : nothing}
        ${this._tab === 'cluster' ? html`<section id="view-cluster" role="tabpanel" aria-labelledby="tab-cluster"><lab-cluster-view .lab=${this.lab}></lab-cluster-view></section>` : nothing}
        ${this._tab === 'instructor' ? html`<section id="view-instructor" role="tabpanel" aria-labelledby="tab-instructor"><lab-instructor .lab=${this.lab}></lab-instructor></section>` : nothing}
        <section id="view-lessons" role="tabpanel" aria-labelledby="tab-lessons" ?hidden=${this._tab !== 'lessons'}>
          <lab-lessons
            .baseUrl=${this.lab.baseUrl}
            .slug=${this._lesson}
            ?active=${this._tab === 'lessons'}
          ></lab-lessons>
        </section>
      </main>
    `
  }

  static override styles = css`
    :host {
      display: flex;
      flex-direction: column;
      height: 100vh;
    }
    /* The header wraps rather than runs past the screen: on a 1280 px projector the tabs take a second line. */
    header {
      display: flex;
      flex-wrap: wrap;
      align-items: center;
      gap: 0.4rem 1rem;
      padding: 0.4rem 0.8rem;
      background: #1d2733;
      color: #fff;
    }
    h1 {
      margin: 0;
      font-size: 1.15rem;
      white-space: nowrap;
    }
    .room {
      display: flex;
      align-items: center;
      gap: 0.3rem;
    }
    .room input,
    .room button {
      font: inherit;
      padding: 0.15rem 0.4rem;
    }
    lab-presence {
      flex: 1 1 14rem;
      color: #dfe6ee;
      --muted: #b8c2cf;
    }
    nav {
      display: flex;
      gap: 0.2rem;
      margin-left: auto;
    }
    nav button {
      font: inherit;
      background: transparent;
      color: #dfe6ee;
      border: 1px solid transparent;
      border-radius: 4px;
      padding: 0.25rem 0.7rem;
      cursor: pointer;
    }
    nav button[aria-selected='true'] {
      background: #fff;
      color: #1d2733;
      font-weight: 600;
    }
    nav button:focus-visible,
    button:focus-visible,
    input:focus-visible,
    select:focus-visible {
      outline: 3px solid #ffbf47;
      outline-offset: 1px;
      box-shadow: 0 0 0 6px #1b1f24;
    }
    main {
      flex: 1;
      min-height: 0;
      display: flex;
      flex-direction: column;
    }
    main > section {
      flex: 1;
      min-height: 0;
      display: flex;
      flex-direction: column;
      gap: 0.5rem;
      padding: 0.5rem 0.8rem;
      overflow: auto;
    }
    main > section[hidden] {
      display: none;
    }
    #view-race {
      overflow: hidden;
    }
    /* The lessons scroll inside their own panes, so the list stays in view beside a long lesson. */
    #view-lessons {
      overflow: hidden;
      padding: 0;
    }
    .panels {
      flex: 1;
      min-height: 0;
      display: grid;
      grid-template-columns: repeat(5, minmax(0, 1fr));
      grid-template-rows: minmax(0, 1fr);
      gap: 0.5rem;
    }
    .reset {
      display: flex;
      align-items: center;
      gap: 0.5rem;
      margin: 0;
      font-size: 0.85rem;
      color: #4a5260;
    }
    .reset button {
      font: inherit;
      padding: 0.15rem 0.6rem;
    }
    .note {
      margin: 0;
      font-size: 0.78rem;
      color: #4a5260;
    }
    /* A phone (students reading a lesson): the header wraps so that every tab stays in reach. */
    @media (max-width: 700px) {
      header {
        flex-wrap: wrap;
        gap: 0.3rem 0.8rem;
      }
      nav {
        order: 1;
        flex-basis: 100%;
        flex-wrap: wrap;
      }
      nav button {
        padding: 0.2rem 0.5rem;
      }
      lab-presence {
        order: 2;
        flex-basis: 100%;
      }
      .room input {
        width: 7rem;
      }
    }
    .presenter {
      font: inherit;
      font-size: 0.9rem;
      color: #fff;
      background: transparent;
      border: 1px solid #8d99a8;
      border-radius: 4px;
      padding: 0.2rem 0.6rem;
      white-space: nowrap;
      cursor: pointer;
    }
    .presenter[aria-pressed='true'] {
      background: #ffbf47;
      border-color: #ffbf47;
      color: #1d2733;
      font-weight: 600;
    }
    /* Presenter mode: the header and tabs larger, the long notes left to the ordinary view (the legend says what the figures mean). */
    :host([presenter]) header {
      font-size: clamp(15px, 1.05vw, 1.35rem);
    }
    :host([presenter]) h1 {
      font-size: 1.3em;
    }
    :host([presenter]) .note {
      display: none;
    }
    lab-counter-legend {
      flex: none;
    }
    /* A phone: one transport at a time, full width, picked by the switcher; the race scrolls as one page. */
    @media (max-width: 700px) {
      #view-race {
        overflow-y: auto;
      }
      .panels {
        flex: none;
        grid-template-columns: minmax(0, 1fr);
        grid-template-rows: minmax(26rem, 70vh);
      }
      .panels > [data-off-phone] {
        display: none;
      }
      .reset {
        flex-wrap: wrap;
      }
      .presenter {
        display: none;
      }
    }
  `
}

const RESET_FOR_EVERYONE_TITLE =
  "The instructor's reset: the server's counts back to zero for every page and /metrics (connections open and " +
  'requests held stay). The server allows it from its own machine only, ' +
  "or to the instructor's login when there is an instructor code."

/** The page was opened on the server's own machine (localhost): the only place the server allows a reset for everyone. */
function onServerMachine(baseUrl: string): boolean {
  const host = new URL(baseUrl).hostname
  return host === 'localhost' || host === '[::1]' || /^127\./.test(host)
}

customElements.define('lab-app', LabApp)

declare global {
  interface HTMLElementTagNameMap {
    'lab-app': LabApp
  }
}
