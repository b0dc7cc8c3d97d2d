// What the three HTTP clients share: the POST that carries join, leave and
// send, and the session token that makes this client the same member across
// requests.
import type { ErrorMessage, Welcome } from '../../../server/core/protocol.ts'
import { ChatClient, type SendExtra } from './chat-client.ts'
import { SESSION_HEADER, TRANSPORT_INFO } from '../../../server/core/names.ts'

export abstract class HttpClient extends ChatClient {
  protected session: string | undefined
  protected get path(): string {
    return TRANSPORT_INFO[this.transport].path
  }

  protected headers(): Record<string, string> {
    return this.session ? { [SESSION_HEADER]: this.session } : {}
  }

  protected url(query: Record<string, string> = {}): string {
    const search = new URLSearchParams(query).toString()
    return `${this.baseUrl}${this.path}${search ? `?${search}` : ''}`
  }

  /**
   * POSTs one protocol message; returns the parsed answer, or undefined after
   * reporting an error. With a connection's signal, an answer that comes in
   * after the abort throws instead: that connection is gone.
   */
  protected async post<T>(message: object, signal?: AbortSignal): Promise<T | undefined> {
    const body = JSON.stringify(message)
    this.stats.requests++
    this.onFrame({ dir: 'up', bytes: new TextEncoder().encode(body).length, kind: `POST ${this.path}`, content: body })
    const res = await fetch(this.url(), {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...this.headers() },
      body,
      signal,
    })
    const text = await res.text()
    signal?.throwIfAborted()
    this.onFrame({
      dir: 'down',
      bytes: new TextEncoder().encode(text).length,
      kind: `${res.status} ${res.statusText || ''}`.trim(),
      content: text,
    })
    const answer = JSON.parse(text) as T | ErrorMessage
    if (!res.ok) {
      const error = answer as ErrorMessage
      if (error.code === 'LAB_ERR_UNKNOWN_CLIENT') this.session = undefined
      this.onError(error)
      return undefined
    }
    return answer as T
  }

  /** A session the server sent away is over: a Join starts a new one. */
  protected override onError(error: ErrorMessage): void {
    if (error.code === 'LAB_ERR_DISCONNECTED') this.session = undefined
    super.onError(error)
  }

  async send(text: string, extra: SendExtra = {}): Promise<void> {
    await this.post({ type: 'send', room: this.room, text, ...extra })
  }

  protected async join(signal?: AbortSignal): Promise<Welcome | undefined> {
    const after = this.cursor
    const welcome = await this.post<Welcome>(
      { type: 'join', room: this.room, name: this.name, ...(after ? { after } : {}) },
      signal,
    )
    if (welcome?.session) this.session = welcome.session
    return welcome
  }

  protected override forgetMember(): void {
    this.session = undefined
  }

  protected override async leaveRoom(): Promise<void> {
    if (this.session) await this.post({ type: 'leave', room: this.room })
  }
}
