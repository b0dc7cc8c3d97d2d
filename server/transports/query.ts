// What every transport reads from a client's opening request: the room, the
// cursor to resume from and the display name, whether they arrive as a query
// string (polling, SSE, /ws) or as Socket.IO's handshake auth. One reading,
// so the same bad value gets the same error code on all five.
import { randomBytes } from 'node:crypto'
import { LabError } from '../core/errors.ts'
import { DEFAULT_ROOM, type Cursor } from '../core/protocol.ts'
import { assertName, assertRoom, parseCursor, parseEventId } from '../core/validate.ts'

export interface RoomQuery {
  room: string
  cursor: Cursor | undefined
}

/** The room (DEFAULT_ROOM when absent) and the cursor: Last-Event-ID when SSE sent one, else ?since and ?epoch. */
export function readRoomQuery(query: unknown, lastEventId?: string): RoomQuery {
  const q = (query ?? {}) as Record<string, unknown>
  const room = q.room === undefined || q.room === '' ? DEFAULT_ROOM : q.room
  assertRoom(room)
  const cursor = lastEventId !== undefined ? parseEventId(lastEventId) : parseCursor(q.since, q.epoch)
  return { room, cursor }
}

/**
 * The name to show: a token's own (a client with a token joins under no
 * other), else the one given, or a made-up guest name when none was.
 */
export function readName(value: unknown, token?: { name: string }): string {
  if (token) {
    if (value !== undefined && value !== '' && value !== token.name)
      throw new LabError(
        'LAB_ERR_AUTH',
        `this token is ${JSON.stringify(token.name)}'s: it cannot join as ${JSON.stringify(value).slice(0, 40)}`,
      )
    return token.name
  }
  if (value === undefined || value === '') return anonymousName()
  assertName(value)
  return value
}

export function anonymousName(): string {
  return `guest-${randomBytes(2).toString('hex')}`
}
