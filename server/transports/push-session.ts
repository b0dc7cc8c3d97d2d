// What the push transports (WebSocket and Socket.IO) share once a client is
// connected: one hub client, the join/leave/send conversation, and errors that
// answer a bad message without ending the connection. Each transport supplies
// only how a welcome, an entry and an error are framed.
import type { FastifyBaseLogger, FastifyInstance } from 'fastify'
import { isLabError, LabError } from '../core/errors.ts'
import type { ClientMessage, Cursor, ErrorMessage, LogEntry, Welcome } from '../core/protocol.ts'
import type { Client } from '../core/hub.ts'

export interface PushOutput {
  welcome(welcome: Welcome, backlog: LogEntry[]): void
  /** Each live entry of the client's rooms. Left out by a transport that broadcasts per room itself (Socket.IO). */
  entry?(entry: LogEntry): void
  error(error: ErrorMessage): void
}

export class PushSession {
  readonly client: Client
  private readonly app: FastifyInstance
  private readonly out: PushOutput
  private readonly log: FastifyBaseLogger

  constructor(app: FastifyInstance, transport: string, name: string, out: PushOutput, log: FastifyBaseLogger) {
    this.app = app
    this.out = out
    this.log = log
    this.client = app.hub.connect({ name, transport, deliver: out.entry?.bind(out) })
  }

  join(room: string, after?: Cursor): Welcome {
    const { welcome, backlog } = this.app.hub.join(this.client.clientId, room, after)
    this.out.welcome(welcome, backlog)
    this.log.info({ clientId: this.client.clientId, room, resumed: after?.seq, recovered: welcome.recovered }, 'joined')
    return welcome
  }

  leave(room: string): number {
    return this.app.hub.leave(this.client.clientId, room)
  }

  send(room: string, message: { text: string; sentAt?: number; clientMsgId?: string }) {
    const from = { clientId: this.client.clientId, name: this.client.name, transport: this.client.transport }
    return this.app.hub.publish(from, room, message)
  }

  handle(message: ClientMessage): void {
    switch (message.type) {
      case 'join':
        this.join(message.room, message.after)
        return
      case 'leave':
        this.leave(message.room)
        return
      case 'send':
        this.send(message.room, message)
    }
  }

  /** Turns anything thrown while handling a message into the protocol's error message. */
  fail(error: unknown, ref?: string): ErrorMessage {
    const lab = isLabError(error) ? error : new LabError('LAB_ERR_INTERNAL')
    if (!isLabError(error)) this.log.error({ err: error }, 'unexpected error while handling a message')
    const message: ErrorMessage = { type: 'error', code: lab.code, message: lab.message }
    if (ref !== undefined) message.ref = ref
    this.out.error(message)
    return message
  }

  close(): void {
    this.app.hub.disconnect(this.client.clientId)
  }
}
