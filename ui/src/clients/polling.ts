// Short and long polling share one loop: GET "what came after my cursor?",
// take the batch, ask again. They differ only in the path and in how long the
// server may hold the question (short: not at all, the client waits instead).
import type { Batch, TransportName } from '../../../server/core/protocol.ts'
import { cursorQuery } from './chat-client.ts'
import { HttpClient } from './http-client.ts'

abstract class PollingClient extends HttpClient {
  private abort: AbortController | undefined
  private pause: { timer: ReturnType<typeof setTimeout>; startedAt: number; resolve: () => void } | undefined

  /** Extra query for the GET (long polling's timeout). */
  protected pollQuery(): Record<string, string> {
    return {}
  }

  /** How long to wait before the next GET. */
  protected abstract gapMs(): number

  protected open(): void {
    const abort = new AbortController()
    this.abort = abort
    void this.run(abort.signal)
  }

  protected close(): void {
    this.abort?.abort()
    this.abort = undefined
    clearTimeout(this.pause?.timer)
  }

  /**
   * The gap between polls changed (the interval setting): the pause under way
   * ends as the new gap says, counted from when it began, instead of waiting
   * out the old one (5 s to 250 ms polls at once, not 5 s later).
   */
  gapChanged(): void {
    const pause = this.pause
    if (!pause) return
    clearTimeout(pause.timer)
    pause.timer = setTimeout(pause.resolve, Math.max(0, pause.startedAt + this.gapMs() - performance.now()))
  }

  private async run(signal: AbortSignal): Promise<void> {
    try {
      const welcome = await this.join(signal)
      if (!welcome) return this.connectionLost()
      this.onWelcome(welcome)
      while (!signal.aborted) {
        const more = await this.pollOnce(signal)
        const gap = more ? 0 : this.gapMs()
        if (gap > 0) {
          await new Promise<void>((resolve) => {
            this.pause = { timer: setTimeout(resolve, gap), startedAt: performance.now(), resolve }
          })
          this.pause = undefined
        }
      }
    } catch {
      if (!signal.aborted) this.connectionLost()
    }
  }

  /**
   * One GET and its batch. The signal is this connection's token: an answer
   * that comes in after the request was aborted belongs to a connection the
   * client has dropped or replaced, and changes nothing. Returns whether the
   * server has more of the backlog to page through.
   */
  private async pollOnce(signal: AbortSignal): Promise<boolean> {
    const url = this.url({ room: this.room, ...cursorQuery(this.cursor), ...this.pollQuery() })
    this.stats.requests++
    this.onFrame({ dir: 'up', bytes: 0, kind: `GET ${this.path}`, content: url.slice(this.baseUrl.length) })
    const res = await fetch(url, { headers: this.headers(), signal })
    const text = await res.text()
    signal.throwIfAborted()
    const body = JSON.parse(text) as Batch | { type: 'error'; code: string; message: string }
    if (body.type === 'error') {
      this.onFrame({
        dir: 'down',
        bytes: new TextEncoder().encode(text).length,
        kind: `${res.status} error`,
        content: text,
      })
      // The session expired (the lease ran out while we were away): join again and carry on.
      if (body.code === 'LAB_ERR_UNKNOWN_CLIENT') {
        this.session = undefined
        const welcome = await this.join(signal)
        if (welcome) this.onWelcome(welcome)
        return false
      }
      if (body.code === 'LAB_ERR_DISCONNECTED' || body.code === 'LAB_ERR_AUTH') {
        this.onError(body)
        return false
      }
      throw new Error(body.message)
    }
    this.onFrame({
      dir: 'down',
      bytes: new TextEncoder().encode(text).length,
      kind: `${res.status} batch (${body.entries.length})`,
      content: text,
    })
    if (!body.recovered) this.onGap(body.epoch)
    for (const entry of body.entries) {
      // A listener may have dropped the connection halfway through the batch.
      if (signal.aborted) return false
      this.onEntry(entry)
    }
    return body.more === true
  }
}

export class ShortPollingClient extends PollingClient {
  readonly transport: TransportName = 'short-polling'
  protected gapMs(): number {
    return this.pollIntervalMs
  }
}

export class LongPollingClient extends PollingClient {
  readonly transport: TransportName = 'long-polling'
  protected override pollQuery(): Record<string, string> {
    return { timeout: String(this.longPollTimeoutMs) }
  }

  protected gapMs(): number {
    return 0
  }
}
