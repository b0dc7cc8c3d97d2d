// What the three HTTP clients share: the POST that carries join, leave and
// send, and the session token that makes this client the same member across
// requests.
import type { Ack, ErrorMessage, Welcome } from '../../../server/core/protocol.ts'
import { ChatClient, type SendExtra, type SendOutcome } from './chat-client.ts'
import { SESSION_HEADER, TRANSPORT_INFO } from '../../../server/core/names.ts'

export abstract class HttpClient extends ChatClient {
  protected session: string | undefined
  protected get path(): string {
    return TRANSPORT_INFO[this.transport].path
  }

  protected headers(): Record<string, string> {
    return {
      ...(this.session ? { [SESSION_HEADER]: this.session } : {}),
      ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
    }
  }

  protected url(query: Record<string, string> = {}): string {
    const search = new URLSearchParams({ ...this.query, ...query }).toString()
    return `${this.baseUrl}${this.path}${search ? `?${search}` : ''}`
  }

  /**
   * POSTs one protocol message; returns the parsed answer, or undefined after
   * reporting an error. With a connection's signal, an answer that comes in
   * after the abort throws instead: that connection is gone.
   */
  protected async post<T>(message: object, signal?: AbortSignal): Promise<T | undefined> {
    const answer = await this.exchange<T>(message, signal)
    return answer.ok ? answer.value : undefined
  }

  /** One POST and the server's answer: its value, or its error with the HTTP status (reported as an error event too). */
  private async exchange<T>(
    message: object,
    signal?: AbortSignal,
  ): Promise<{ ok: true; value: T } | { ok: false; error: ErrorMessage; status: number }> {
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
    if (res.ok) return { ok: true, value: JSON.parse(text) as T }
    const error = errorAnswer(text, res)
    if (error.code === 'LAB_ERR_UNKNOWN_CLIENT') this.session = undefined
    this.onError(error)
    return { ok: false, error, status: res.status }
  }

  /** A session the server sent away, or whose token it no longer takes, is over: a Join starts a new one. */
  protected override onError(error: ErrorMessage): void {
    if (error.code === 'LAB_ERR_DISCONNECTED' || error.code === 'LAB_ERR_AUTH') this.session = undefined
    super.onError(error)
  }

  protected async deliver(text: string, extra: SendExtra): Promise<SendOutcome> {
    const answer = await this.exchange<Ack>({ type: 'send', room: this.room, text, ...extra })
    if (answer.ok) return { status: 'sent', seq: answer.value.seq }
    const { code, message } = answer.error
    return { status: 'refused', code, message, httpStatus: answer.status }
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

/** The server's `{code, message}`; from anything else on the way (a proxy's page), the status as the code. */
function errorAnswer(text: string, res: Response): ErrorMessage {
  try {
    const value = JSON.parse(text) as Partial<ErrorMessage> | null
    if (typeof value?.code === 'string' && typeof value.message === 'string')
      return { type: 'error', code: value.code, message: value.message }
  } catch {
    // Not JSON: not the server's own answer.
  }
  return { type: 'error', code: `HTTP ${res.status}`, message: res.statusText || text.slice(0, 120) }
}
