// What the push transports (SSE, WebSocket, Socket.IO) share once a client is
// connected: one hub client, the join/leave/send conversation, errors that
// answer a bad message without ending the connection, and the limits that
// keep one client from hurting the others: a message rate, and one
// slow-consumer policy (a connection whose unsent bytes pass
// SEND_BUFFER_BYTES leaves its rooms at once and is closed in its
// transport's idiom). Each transport supplies only how things are framed and
// how its connection is measured and closed.
import type { IncomingMessage } from 'node:http'
import type { FastifyBaseLogger, FastifyInstance } from 'fastify'
import { isLabError, LabError } from '../core/errors.ts'
import { eachSink, type Client, type Fanout } from '../core/hub.ts'
import { newBucket, rateLimited, type TokenBucket } from '../core/limits.ts'
import type { ChatMessage, ClientMessage, Cursor, ErrorMessage, LogEntry, Welcome } from '../core/protocol.ts'
import { encode } from '../wire/payload.ts'

export interface PushOutput {
  /** The stream's request logger, which its session logs with too. */
  readonly log: FastifyBaseLogger
  welcome(welcome: Welcome, backlog: LogEntry[]): void
  /** Each live entry of the client's rooms. Left out by a transport that broadcasts per room itself (Socket.IO). */
  entry?(entry: LogEntry): void
  error(error: ErrorMessage): void
  /** Bytes handed to the connection that the client has not taken yet. */
  buffered(): number
  /** Ends the connection in the transport's idiom, telling the client why. Called once. */
  close(error: LabError): void
}

/** WebSocket and SSE: each member's connection gets the entry (encoded once, in the hub) and the slow-consumer check. */
const EACH_SESSION = eachSink<PushSession>((session, delivery) => session.write(delivery.entry))

/** How long a closing connection may take to flush its goodbye before it is destroyed. */
export const CLOSE_GRACE_MS = 5000

export class PushSession {
  readonly client: Client
  private readonly app: FastifyInstance
  private readonly out: PushOutput
  /** Made at its first message: a fresh bucket is a full one, and an idle member need not keep it. */
  private bucket: TokenBucket | undefined
  private ended = false

  /**
   * `opening` is the request that opened the stream (the SSE GET, the /ws
   * upgrade, Engine.IO's first request): its handshake is the one the
   * inspector shows for this client. `adopt` names a detached hub client (see
   * Hub.detach) to carry on as, when it is still there. `fanout` is how a
   * transport that leaves out `out.entry` is delivered to (Socket.IO's
   * adapter), with this connection's `sink` there.
   */
  constructor(
    app: FastifyInstance,
    transport: string,
    name: string,
    opening: IncomingMessage,
    out: PushOutput,
    adopt?: string,
    fanout?: { fanout: Fanout<never>; sink: unknown },
  ) {
    this.app = app
    this.out = out
    const connectionId = app.wire.opened(transport, opening)
    const push = fanout ?? (out.entry ? { fanout: EACH_SESSION, sink: this } : undefined)
    // An instructor's disconnect ends it like any other reason: hub.end calls this.end().
    const adopted =
      adopt !== undefined && push && app.hub.attach(adopt, push.sink, this) ? app.hub.client(adopt) : undefined
    if (adopted) app.hub.moved(adopted.clientId, connectionId)
    // The token it came with (authenticated where its connection started): the hub ends it when the token expires.
    const principal = app.auth.principalOf(opening)
    const credential = principal ? { id: principal.id, expiresAt: principal.expiresAt } : undefined
    this.client =
      adopted ??
      app.hub.connect({
        name,
        transport,
        fanout: push?.fanout,
        sink: push?.sink,
        end: this,
        connectionId,
        credential,
      })
  }

  /**
   * The connection its welcomes name, where the request that opened the stream came in: the hub's record of it
   * (set here, and moved only by a polling join), not a field of its own, 8 bytes of every idle connection.
   */
  private get connectionId(): string | undefined {
    return this.client.connectionId
  }

  /** Its output's logger: a field of its own would be 8 bytes more of every idle connection. */
  private get log(): FastifyBaseLogger {
    return this.out.log
  }

  /** The connection closed but its client may come back soon (an SSE reconnect): stay a member for `graceMs`. */
  detach(graceMs: number): void {
    this.ended = true
    this.app.hub.detach(this.client.clientId, graceMs)
  }

  get closed(): boolean {
    return this.ended
  }

  /**
   * Joins and sends the welcome with the backlog after `after`, at the moment
   * the client becomes a member (so no live entry comes before it); rejects
   * with a LabError (room limits, an unreachable shared log) before anything is sent.
   */
  async join(room: string, after?: Cursor, onWelcome?: (welcome: Welcome) => void): Promise<Welcome> {
    let sent: Welcome | undefined
    await this.app.hub.join(this.client.clientId, room, after, (joined) => {
      if (this.ended) return
      const named =
        this.connectionId === undefined ? joined.welcome : { ...joined.welcome, connectionId: this.connectionId }
      const { welcome, backlog } = fitBacklog(named, joined.backlog, this.app.config.sendBufferBytes / 2)
      this.out.welcome(welcome, backlog)
      onWelcome?.(welcome)
      sent = welcome
    })
    if (!sent) throw new LabError('LAB_ERR_UNKNOWN_CLIENT')
    this.log.info({ clientId: this.client.clientId, room, resumed: after?.seq, recovered: sent.recovered }, 'joined')
    return sent
  }

  leave(room: string): Promise<number> {
    return this.app.hub.leave(this.client.clientId, room)
  }

  send(
    room: string,
    message: { text: string; sentAt?: number; clientMsgId?: string },
    options?: { exceptSender?: boolean },
  ): Promise<ChatMessage> {
    const from = { clientId: this.client.clientId, name: this.client.name, transport: this.client.transport }
    return this.app.hub.publish(from, room, message, options)
  }

  /**
   * Counts one message from the client against its rate. Over the rate it
   * throws LAB_ERR_RATE_LIMIT; a client that keeps sending into the limit is
   * closed with the same code.
   */
  admit(): void {
    const { messageRate, messageBurst } = this.app.config
    this.bucket ??= newBucket({ ratePerSecond: messageRate, burst: messageBurst })
    const verdict = this.bucket?.take() ?? 'ok'
    if (verdict === 'ok') return
    const error = rateLimited(this.bucket!)
    if (verdict === 'abusive') this.end(error)
    throw error
  }

  async handle(message: ClientMessage): Promise<void> {
    switch (message.type) {
      case 'join':
        await this.join(message.room, message.after)
        return
      case 'leave':
        await this.leave(message.room)
        return
      case 'send':
        await this.send(message.room, message)
    }
  }

  /** Turns anything thrown while handling a message into the protocol's error message. */
  fail(error: unknown, ref?: string): ErrorMessage {
    const lab = isLabError(error) ? error : new LabError('LAB_ERR_INTERNAL')
    if (!isLabError(error)) this.log.error({ err: error }, 'unexpected error while handling a message')
    const message: ErrorMessage = { type: 'error', code: lab.code, message: lab.message }
    if (ref !== undefined) message.ref = ref
    if (!this.ended) this.out.error(message)
    return message
  }

  /** True when the connection has more unsent bytes than SEND_BUFFER_BYTES. */
  overBuffer(): boolean {
    return !this.ended && this.out.buffered() > this.app.config.sendBufferBytes
  }

  /** The slow-consumer policy, for transports that deliver without going through this session (Socket.IO's rooms). */
  checkBuffer(): void {
    if (this.ended) return
    const buffered = this.out.buffered()
    if (buffered > this.app.config.sendBufferBytes) {
      this.log.warn({ clientId: this.client.clientId, buffered }, 'client too slow; closing it')
      this.end(
        new LabError(
          'LAB_ERR_SLOW_CONSUMER',
          `${buffered} bytes were waiting for this client (the limit is ${this.app.config.sendBufferBytes}): reconnect and resume`,
        ),
      )
    }
  }

  /** Leaves every room at once and closes the connection, saying why. */
  end(error: LabError): void {
    if (this.ended) return
    this.ended = true
    this.app.hub.disconnect(this.client.clientId)
    try {
      this.out.close(error)
    } catch (closeError) {
      this.log.warn({ err: closeError }, 'error while closing a connection')
    }
  }

  /** The connection closed by itself: leave the rooms. */
  close(): void {
    this.ended = true
    this.app.hub.disconnect(this.client.clientId)
  }

  /** One live entry to this connection, then the slow-consumer policy. */
  write(entry: LogEntry): void {
    if (this.ended) return
    this.out.entry!(entry)
    this.checkBuffer()
  }
}

/**
 * A resume backlog bigger than half the send buffer would close the
 * connection as too slow before the client could read it: send the newest
 * entries that fit and say the history was not recovered.
 */
function fitBacklog(welcome: Welcome, backlog: LogEntry[], budget: number): { welcome: Welcome; backlog: LogEntry[] } {
  let bytes = 0
  for (let i = backlog.length - 1; i >= 0; i--) {
    bytes += encode(backlog[i]!).bytes
    if (bytes > budget) return { welcome: { ...welcome, recovered: false }, backlog: backlog.slice(i + 1) }
  }
  return { welcome, backlog }
}
