// The wire protocol, defined once. Every transport validates what it receives
// against these schemas and sends only what they describe; ui/ and
// benchmarks/ import the same types. Values the UI needs at run time (names,
// patterns, limits) live in names.ts, so that the UI bundle has no TypeBox.
import { Type, type Static, type TSchema } from '@sinclair/typebox'
import { NAME_MAX_LENGTH, NAME_PATTERN, ROOM_PATTERN } from './names.ts'

export {
  DEFAULT_ROOM,
  NAME_FORBIDDEN,
  NAME_MAX_LENGTH,
  TEXT_MAX_BYTES,
  TRANSPORTS,
  WELCOME_MEMBERS_MAX,
  type TransportName,
} from './names.ts'

export const RoomName = Type.String({ pattern: ROOM_PATTERN })
/** 1-32 characters, none of NAME_FORBIDDEN, not only spaces. */
export const UserName = Type.String({ minLength: 1, maxLength: NAME_MAX_LENGTH, pattern: NAME_PATTERN })
/** "Give me room R after seq N of epoch E": the same resume idea on every transport. */
export const Cursor = Type.Object({
  seq: Type.Integer({ minimum: 0 }),
  epoch: Type.Optional(Type.String({ maxLength: 64 })),
})

// Client -> server
export const JoinMessage = Type.Object(
  {
    type: Type.Literal('join'),
    room: RoomName,
    name: Type.Optional(UserName),
    after: Type.Optional(Cursor),
  },
  { additionalProperties: false },
)

export const LeaveMessage = Type.Object(
  {
    type: Type.Literal('leave'),
    room: RoomName,
  },
  { additionalProperties: false },
)

export const SendMessage = Type.Object(
  {
    type: Type.Literal('send'),
    room: RoomName,
    text: Type.String(),
    /** The sender's clock (ms, fractional), echoed back so any receiver on the same clock can compute latency. */
    sentAt: Type.Optional(Type.Number()),
    /** Lets a sender match its own message when it comes back. */
    clientMsgId: Type.Optional(Type.String({ maxLength: 64 })),
    /** For clients without a session (curl): who is speaking. */
    name: Type.Optional(UserName),
  },
  { additionalProperties: false },
)

export const ClientMessage = Type.Union([JoinMessage, LeaveMessage, SendMessage])

// Server -> client
export const Sender = Type.Object({
  clientId: Type.String(),
  name: Type.String(),
  transport: Type.String(),
  /** With REDIS_URL: the server (INSTANCE_ID) the message was sent to. */
  instance: Type.Optional(Type.String()),
})

export const ChatMessage = Type.Object({
  type: Type.Literal('message'),
  room: Type.String(),
  seq: Type.Integer(),
  epoch: Type.String(),
  id: Type.String(),
  from: Sender,
  text: Type.String(),
  sentAt: Type.Optional(Type.Number()),
  clientMsgId: Type.Optional(Type.String()),
  serverAt: Type.Number(),
})

export const Notice = Type.Object({
  type: Type.Literal('notice'),
  room: Type.String(),
  seq: Type.Integer(),
  epoch: Type.String(),
  id: Type.String(),
  event: Type.Union([Type.Literal('join'), Type.Literal('leave')]),
  who: Sender,
  serverAt: Type.Number(),
})

export const Member = Type.Object({
  clientId: Type.String(),
  name: Type.String(),
  transport: Type.String(),
  /** With REDIS_URL: the server (INSTANCE_ID) this member is connected to. */
  instance: Type.Optional(Type.String()),
})

/**
 * Several joins and leaves in one entry: what a crowded room gets instead of
 * one notice per join, once its notices would cost more deliveries a second
 * than PRESENCE_RATE (see server/core/presence.ts). The lists name at most
 * WELCOME_MEMBERS_MAX members each; `joins` and `leaves` count them all.
 */
export const Presence = Type.Object({
  type: Type.Literal('presence'),
  room: Type.String(),
  seq: Type.Integer(),
  epoch: Type.String(),
  id: Type.String(),
  joined: Type.Array(Member),
  left: Type.Array(Member),
  joins: Type.Integer(),
  leaves: Type.Integer(),
  /** Members in the room once these joins and leaves are applied: on this server, or with Redis on every server. */
  memberCount: Type.Integer(),
  serverAt: Type.Number(),
})

/** What a room's log holds: messages, join/leave notices and presence batches, in one seq order. */
export const LogEntry = Type.Union([ChatMessage, Notice, Presence])

export const Welcome = Type.Object({
  type: Type.Literal('welcome'),
  clientId: Type.String(),
  name: Type.String(),
  transport: Type.String(),
  room: Type.String(),
  epoch: Type.String(),
  /** The room's latest seq when the welcome was written. */
  seq: Type.Integer(),
  /** False when the requested cursor could not be honoured (another epoch, or older than the kept history). */
  recovered: Type.Boolean(),
  /**
   * The first WELCOME_MEMBERS_MAX members; the whole list is at /api/rooms/:room/presence.
   * Empty in the welcome of a renewed SSE stream: that member never left, and the notices since are in its backlog.
   */
  members: Type.Array(Member),
  memberCount: Type.Integer(),
  /**
   * The TCP connection whose request opened this client's stream (the SSE GET, the /ws upgrade, a
   * polling join, Socket.IO's first request): GET /api/wire/handshakes/:connectionId shows that
   * request and its answer, to the address that made it.
   */
  connectionId: Type.Optional(Type.String()),
  /** With REDIS_URL: the server (INSTANCE_ID) this client is connected to. */
  instance: Type.Optional(Type.String()),
  /** HTTP transports only: send it back as the X-Lab-Session header (or ?session=) to act as this client. */
  session: Type.Optional(Type.String()),
  /** Short polling only: how often the server suggests polling, in ms. */
  pollIntervalMs: Type.Optional(Type.Integer()),
})

/** The server accepted a send: the seq it got. HTTP responses and Socket.IO acks carry it. */
export const Ack = Type.Object({
  type: Type.Literal('ack'),
  room: Type.String(),
  seq: Type.Integer(),
  id: Type.String(),
  clientMsgId: Type.Optional(Type.String()),
})

export const ErrorMessage = Type.Object({
  type: Type.Literal('error'),
  code: Type.String(),
  message: Type.String(),
  /** The client's clientMsgId or message type, when the error answers one. */
  ref: Type.Optional(Type.String()),
})

/**
 * A polling response: what came after the cursor, a page at a time. `seq` is
 * where to ask from next: the room's latest seq, or the last entry's when
 * `more` is true.
 */
export const Batch = Type.Object({
  type: Type.Literal('batch'),
  room: Type.String(),
  epoch: Type.String(),
  seq: Type.Integer(),
  recovered: Type.Boolean(),
  entries: Type.Array(LogEntry),
  /** True when the answer is one page of a longer backlog: ask again at once from the last entry's seq. */
  more: Type.Optional(Type.Boolean()),
})

export const ServerMessage = Type.Union([Welcome, ChatMessage, Notice, Presence, ErrorMessage, Ack])

export type JoinMessage = Static<typeof JoinMessage>
export type LeaveMessage = Static<typeof LeaveMessage>
export type SendMessage = Static<typeof SendMessage>
export type ClientMessage = Static<typeof ClientMessage>
export type Cursor = Static<typeof Cursor>
export type Sender = Static<typeof Sender>
export type ChatMessage = Static<typeof ChatMessage>
export type Notice = Static<typeof Notice>
export type Presence = Static<typeof Presence>
export type LogEntry = Static<typeof LogEntry>
export type Member = Static<typeof Member>
export type Welcome = Static<typeof Welcome>
export type ErrorMessage = Static<typeof ErrorMessage>
export type Batch = Static<typeof Batch>
export type Ack = Static<typeof Ack>
export type ServerMessage = Static<typeof ServerMessage>
export type { TSchema }

/**
 * What a transport that answers a send (an HTTP response, a Socket.IO ack) answers with: where the message
 * went in its room's log, and the sender's own clientMsgId back whenever it gave one, an empty one included,
 * so that every transport matches a send to its answer the same way.
 */
export function ackOf(entry: ChatMessage): Ack {
  const ack: Ack = { type: 'ack', room: entry.room, seq: entry.seq, id: entry.id }
  if (entry.clientMsgId !== undefined) ack.clientMsgId = entry.clientMsgId
  return ack
}
