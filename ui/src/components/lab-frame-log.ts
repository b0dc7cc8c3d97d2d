// One client's frames as a table, like the Messages tab of DevTools: what went
// up, what came down, when, how big, and what kind of packet it was.
import { LitElement, css, html, nothing, type PropertyValues } from 'lit'
import { repeat } from 'lit/directives/repeat.js'
import type { ChatClient, Frame } from '../clients/chat-client.ts'
import { FrameFeed } from '../controllers/frame-feed.ts'
import { formatClock, prettyContent } from '../inspector/inspect.ts'
import { TRANSPORT_INFO } from '../../../server/core/names.ts'

/** Every row is this tall, so the scroll position can be kept by arithmetic. */
const ROW_PX = 30

const frameKeys = new WeakMap<Frame, number>()
let nextFrameKey = 0
function frameKey(frame: Frame): number {
  let key = frameKeys.get(frame)
  if (key === undefined) frameKeys.set(frame, (key = ++nextFrameKey))
  return key
}

/**
 * A client's paused log, kept beside the client rather than in the element:
 * switching tabs or transports re-creates the element or hands it another
 * client, and coming back must find the log still paused where it was.
 */
const pauses = new WeakMap<ChatClient, { frames: Frame[]; framesSeen: number }>()
/** Every frame the client has logged so far, up or down: how many arrived while paused is the difference. */
const framesSeen = (client: ChatClient) => client.stats.framesUp + client.stats.framesDown

export class LabFrameLog extends LitElement {
  static override properties = {
    client: { attribute: false },
    _paused: { state: true },
    _selected: { state: true },
    _active: { state: true },
    _clearedAfter: { state: true },
  }

  declare client: ChatClient | undefined
  /** The frames shown when Pause was pressed; undefined while live. */
  declare _paused: Frame[] | undefined
  /** The frame whose full content the detail pane shows. */
  declare _selected: Frame | undefined
  /** The row that holds the keyboard focus stop (roving tabindex). */
  declare _active: Frame | undefined
  /** Clear hides this frame and everything before it; the client's own list is left alone for others. */
  declare _clearedAfter: Frame | undefined
  private readonly _feed = new FrameFeed(this)
  private _seenAtPause = 0
  private _shown: Frame[] = []
  private _stickToBottom = true
  /** A new client or a cleared log starts at its newest frame, wherever the reader had scrolled. */
  private _forceBottom = false
  private _anchor: { frame: Frame; index: number } | undefined

  constructor() {
    super()
    this.client = undefined
    this._paused = undefined
    this._selected = undefined
    this._active = undefined
    this._clearedAfter = undefined
  }

  private get _scroller(): HTMLElement | null {
    return this.renderRoot.querySelector('.scroller')
  }

  /** The height of one row as laid out (borders included), which CSS fixes near ROW_PX. */
  private _rowPitch(): number {
    return this.renderRoot.querySelector('tbody tr')?.getBoundingClientRect().height || ROW_PX
  }

  /** The row holding the keyboard's stop: the one last moved to, else the newest. */
  private _activeFrame(): Frame | undefined {
    return this._active && this._shown.includes(this._active) ? this._active : this._shown.at(-1)
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('client')) {
      this._feed.follow(this.client)
      const pause = this.client && pauses.get(this.client)
      this._paused = pause?.frames
      this._seenAtPause = pause?.framesSeen ?? 0
      if (changed.get('client') !== undefined) {
        this._selected = undefined
        this._active = undefined
        this._clearedAfter = undefined
        this._forceBottom = true
      }
    }
    // Measured before the DOM changes: follow the bottom only if the reader was there.
    const scroller = this._scroller
    if (scroller) {
      const pitch = this._rowPitch()
      this._stickToBottom =
        this._forceBottom || scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < pitch / 2
      this._forceBottom = false
      const index = Math.min(this._shown.length - 1, Math.floor(scroller.scrollTop / pitch))
      const frame = this._shown[index]
      this._anchor = frame ? { frame, index } : undefined
    }
    this._shown = this._visibleFrames()
  }

  protected override updated(): void {
    const scroller = this._scroller
    if (!scroller) return
    if (this._stickToBottom) {
      scroller.scrollTop = scroller.scrollHeight
    } else if (this._anchor) {
      // Old frames leave the top of the client's list: keep the row under the reader's eyes where it was.
      const index = this._shown.indexOf(this._anchor.frame)
      if (index >= 0 && index !== this._anchor.index)
        scroller.scrollTop += (index - this._anchor.index) * this._rowPitch()
    }
  }

  private _visibleFrames(): Frame[] {
    const frames = this._paused ?? this.client?.frames ?? []
    // When the cleared frame has left the client's list, every frame it still holds is newer.
    const start = this._clearedAfter ? frames.indexOf(this._clearedAfter) + 1 : 0
    return frames.slice(start)
  }

  private _onPauseClick(): void {
    const client = this.client
    if (!client) return
    if (this._paused) {
      this._paused = undefined
      pauses.delete(client)
    } else {
      this._paused = [...client.frames]
      this._seenAtPause = framesSeen(client)
      pauses.set(client, { frames: this._paused, framesSeen: this._seenAtPause })
    }
  }

  private _onClearClick(): void {
    const frames = this._paused ?? this.client?.frames ?? []
    this._clearedAfter = frames.at(-1)
    this._selected = undefined
    this._active = undefined
    this._forceBottom = true
  }

  private _onRowClick(frame: Frame): void {
    this._active = frame
    this._selected = this._selected === frame ? undefined : frame
  }

  private _onRowsKeydown(event: KeyboardEvent): void {
    const shown = this._shown
    if (shown.length === 0) return
    const active = this._activeFrame()
    const current = active ? shown.indexOf(active) : shown.length - 1
    const page = Math.max(1, Math.floor((this._scroller?.clientHeight ?? ROW_PX) / this._rowPitch()) - 1)
    const moves: Record<string, number> = {
      ArrowDown: current + 1,
      ArrowUp: current - 1,
      PageDown: current + page,
      PageUp: current - page,
      Home: 0,
      End: shown.length - 1,
    }
    const target = moves[event.key]
    if (target === undefined) return
    event.preventDefault()
    const frame = shown[Math.max(0, Math.min(shown.length - 1, target))]!
    this._active = frame
    void this.updateComplete.then(() => {
      const button = this.renderRoot.querySelector<HTMLButtonElement>(`button[data-key="${frameKey(frame)}"]`)
      button?.focus()
    })
  }

  override render() {
    const shown = this._shown
    const label = this.client ? TRANSPORT_INFO[this.client.transport].label : 'No client'
    const active = this._activeFrame()
    const selected = this._selected && shown.includes(this._selected) ? this._selected : undefined
    const missed = this._paused && this.client ? Math.max(0, framesSeen(this.client) - this._seenAtPause) : 0
    return html`
      <div class="toolbar">
        <button type="button" @click=${this._onPauseClick} ?disabled=${!this.client}>
          ${this._paused ? 'Resume' : 'Pause'}
        </button>
        <button type="button" @click=${this._onClearClick} ?disabled=${shown.length === 0}>Clear</button>
        <span class="status">
          ${
            this._paused
              ? `Paused: ${missed} new ${missed === 1 ? 'frame' : 'frames'} not shown`
              : `${shown.length} ${shown.length === 1 ? 'frame' : 'frames'}, newest at the bottom`
          }
        </span>
      </div>
      <div class="scroller" @keydown=${this._onRowsKeydown}>
        <table>
          <caption class="sr-only">
            Frames of the ${label} client. Arrow keys move between rows; Enter shows a frame's full content below the
            table.
          </caption>
          <colgroup>
            <col class="c-dir" />
            <col class="c-time" />
            <col class="c-size" />
            <col class="c-kind" />
            <col />
          </colgroup>
          <thead>
            <tr>
              <th scope="col"><span aria-hidden="true">⇅</span><span class="sr-only">Direction</span></th>
              <th scope="col">Time</th>
              <th
                scope="col"
                class="num"
                title="Body or frame bytes as the page saw them; HTTP headers are not visible to page scripts"
              >
                Bytes
              </th>
              <th scope="col">Kind</th>
              <th scope="col">Content</th>
            </tr>
          </thead>
          <tbody>
            ${
              shown.length === 0
                ? html`<tr>
                    <td colspan="5" class="empty">${this.client ? 'No frames yet.' : 'No client to follow.'}</td>
                  </tr>`
                : nothing
            }
            ${repeat(shown, frameKey, (frame) => this._renderRow(frame, frame === active, frame === selected))}
          </tbody>
        </table>
      </div>
      <div id="detail" class="detail" role="region" aria-label="Full content of the selected frame">
        ${
          selected
            ? html`<div class="detail-head">
                  ${selected.dir === 'up' ? '↑ sent' : '↓ received'} · ${formatClock(selected.at)} · ${selected.bytes} B
                  · ${selected.kind}
                </div>
                <pre>${prettyContent(selected.content)}</pre>`
            : html`<p class="hint">Click a row, or press Enter on it, to see its full content here.</p>`
        }
      </div>
    `
  }

  private _renderRow(frame: Frame, active: boolean, selected: boolean) {
    const up = frame.dir === 'up'
    return html`
      <tr class=${selected ? 'selected' : ''} @click=${() => this._onRowClick(frame)}>
        <td class="dir ${up ? 'up' : 'down'}">
          <span aria-hidden="true">${up ? '↑' : '↓'}</span><span class="sr-only">${up ? 'sent' : 'received'}</span>
        </td>
        <td class="time">${formatClock(frame.at)}</td>
        <td class="num">${frame.bytes}</td>
        <td class="kind" title=${frame.kind}>${frame.kind}</td>
        <td class="content">
          <button
            type="button"
            data-key=${frameKey(frame)}
            tabindex=${active ? 0 : -1}
            title=${frame.content}
            aria-expanded=${selected ? 'true' : 'false'}
            aria-controls="detail"
            @click=${(event: Event) => {
              event.stopPropagation()
              this._onRowClick(frame)
            }}
          >
            ${frame.content || '(empty)'}
          </button>
        </td>
      </tr>
    `
  }

  static override styles = css`
    :host {
      display: flex;
      flex-direction: column;
      gap: 0.4rem;
      min-height: 0;
      font-size: 15px;
      color: #1b1f24;
    }
    .sr-only {
      position: absolute;
      width: 1px;
      height: 1px;
      margin: -1px;
      padding: 0;
      overflow: hidden;
      clip: rect(0 0 0 0);
      white-space: nowrap;
      border: 0;
    }
    .toolbar {
      display: flex;
      align-items: center;
      gap: 0.5rem;
    }
    .toolbar button {
      font: inherit;
      padding: 0.2rem 0.8rem;
      min-width: 6rem;
    }
    .status {
      color: #4a5260;
      font-variant-numeric: tabular-nums;
    }
    .scroller {
      height: var(--lab-frame-log-height, 18rem);
      overflow: auto;
      overflow-anchor: none;
      border: 1px solid #c9d0d9;
      border-radius: 4px;
      background: #fff;
    }
    table {
      width: 100%;
      border-collapse: collapse;
      table-layout: fixed;
    }
    .c-dir {
      width: 2.6rem;
    }
    .c-time {
      width: 8.2rem;
    }
    .c-size {
      width: 5rem;
    }
    .c-kind {
      width: 18rem;
    }
    th {
      position: sticky;
      top: 0;
      z-index: 1;
      background: #eef1f5;
      text-align: left;
      font-weight: 600;
      height: ${ROW_PX}px;
      padding: 0 0.5rem;
      border-bottom: 1px solid #c9d0d9;
    }
    tr {
      height: ${ROW_PX}px;
    }
    td {
      padding: 0 0.5rem;
      height: ${ROW_PX}px;
      white-space: nowrap;
      overflow: hidden;
      text-overflow: ellipsis;
      border-bottom: 1px solid #eef1f5;
    }
    tbody tr {
      cursor: pointer;
    }
    tbody tr:hover {
      background: #f4f7fb;
    }
    tr.selected {
      background: #e3edf9;
    }
    .num {
      text-align: right;
      font-variant-numeric: tabular-nums;
    }
    .time {
      font-variant-numeric: tabular-nums;
      font-family: ui-monospace, 'SF Mono', Menlo, Consolas, monospace;
      font-size: 14px;
    }
    .dir {
      text-align: center;
      font-weight: 700;
    }
    .dir.up {
      color: #a33c00;
    }
    .dir.down {
      color: #005a8c;
    }
    .content button {
      all: unset;
      box-sizing: border-box;
      display: block;
      width: 100%;
      overflow: hidden;
      text-overflow: ellipsis;
      white-space: nowrap;
      cursor: pointer;
      font-family: ui-monospace, 'SF Mono', Menlo, Consolas, monospace;
      font-size: 14px;
    }
    .content button:focus-visible {
      outline: 3px solid #ffbf47;
      outline-offset: -3px;
    }
    .empty {
      color: #4a5260;
      font-style: italic;
      cursor: default;
    }
    .detail {
      height: 9rem;
      overflow: auto;
      border: 1px solid #c9d0d9;
      border-radius: 4px;
      background: #fbfcfd;
      padding: 0.3rem 0.5rem;
    }
    .detail-head {
      color: #4a5260;
      font-size: 14px;
      margin-bottom: 0.2rem;
    }
    .detail pre {
      margin: 0;
      font-family: ui-monospace, 'SF Mono', Menlo, Consolas, monospace;
      font-size: 14px;
      white-space: pre-wrap;
      overflow-wrap: anywhere;
    }
    .hint {
      margin: 0;
      color: #4a5260;
    }
    button:focus-visible {
      outline: 3px solid #ffbf47;
      outline-offset: 1px;
    }
  `
}

customElements.define('lab-frame-log', LabFrameLog)

declare global {
  interface HTMLElementTagNameMap {
    'lab-frame-log': LabFrameLog
  }
}
