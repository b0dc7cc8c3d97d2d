// Validation at the edge: every transport hands what it received to
// parseClientMessage and gets back either a typed message or a LabError with
// a stable code. The schema is the single source of truth; the checks here only
// pick the most helpful code for what the schema rejected.
import { TypeCompiler } from '@sinclair/typebox/compiler'
import { Cursor, JoinMessage, LeaveMessage, RoomName, SendMessage, TEXT_MAX_BYTES, UserName } from './protocol.ts'
import type { ClientMessage as ClientMessageT } from './protocol.ts'
import { LabError } from './errors.ts'
import { ROOM_RULE } from './names.ts'

const byType = {
  join: TypeCompiler.Compile(JoinMessage),
  leave: TypeCompiler.Compile(LeaveMessage),
  send: TypeCompiler.Compile(SendMessage),
} as const
const roomCheck = TypeCompiler.Compile(RoomName)
const nameCheck = TypeCompiler.Compile(UserName)
const cursorCheck = TypeCompiler.Compile(Cursor)

export interface Limits {
  textMaxBytes: number
}

const defaultLimits: Limits = { textMaxBytes: TEXT_MAX_BYTES }
/** The protocol's messages are two levels deep (a join's cursor); anything far deeper is not a message. */
export const MAX_DEPTH = 8
const QUOTED_MAX = 40

/** Accepts raw text (WebSocket frames, request bodies) or an already-decoded value (Socket.IO arguments). */
export function parseClientMessage(input: unknown, limits: Limits = defaultLimits): ClientMessageT {
  let value = input
  if (typeof input === 'string' || Buffer.isBuffer(input)) {
    try {
      value = JSON.parse(input.toString())
    } catch {
      throw new LabError('LAB_ERR_BAD_JSON')
    }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new LabError('LAB_ERR_BAD_MESSAGE', 'a message is a JSON object with a "type" field')
  }
  // The schema checker and the error messages recurse: a value nested thousands deep would overflow the stack.
  if (depthOver(value, MAX_DEPTH))
    throw new LabError('LAB_ERR_BAD_MESSAGE', `a message is nested at most ${MAX_DEPTH} levels deep`)
  const type = (value as { type?: unknown }).type
  if (type !== 'join' && type !== 'leave' && type !== 'send') {
    throw new LabError('LAB_ERR_UNKNOWN_TYPE', `unknown message type ${quote(type)} (expected join, leave or send)`)
  }
  const fields = value as Record<string, unknown>
  const check = byType[type]
  if (!check.Check(value)) {
    // Rejected: find the most helpful code before falling back to the schema's own words.
    assertRoom(fields.room)
    if (fields.name !== undefined) assertName(fields.name)
    if (type === 'send') assertText(fields.text, limits)
    const first = check.Errors(value).First()
    const where = first ? `${first.path || '/'}: ${first.message}` : 'schema mismatch'
    throw new LabError('LAB_ERR_BAD_MESSAGE', `invalid ${type} message at ${where}`)
  }
  // What a schema cannot say: text that is only spaces, and the limit in UTF-8 bytes.
  if (type === 'send') assertText(fields.text, limits)
  return value
}

export function assertRoom(room: unknown): asserts room is string {
  if (!roomCheck.Check(room))
    throw new LabError('LAB_ERR_ROOM_NAME', `bad room name ${quote(room)}: room names are ${ROOM_RULE}`)
}

export function assertName(name: unknown): asserts name is string {
  if (!nameCheck.Check(name)) throw new LabError('LAB_ERR_NAME')
}

export function assertText(text: unknown, limits: Limits = defaultLimits): asserts text is string {
  if (typeof text !== 'string') throw new LabError('LAB_ERR_BAD_MESSAGE', 'text must be a string')
  if (text.trim().length === 0) throw new LabError('LAB_ERR_TEXT_EMPTY')
  // A UTF-16 unit is at most 3 UTF-8 bytes: most texts are under the limit without counting.
  if (text.length * 3 <= limits.textMaxBytes) return
  const bytes = Buffer.byteLength(text)
  if (bytes > limits.textMaxBytes) {
    throw new LabError(
      'LAB_ERR_TEXT_TOO_LONG',
      `text is ${bytes} bytes; the limit is ${limits.textMaxBytes} bytes (UTF-8)`,
    )
  }
}

/**
 * An SSE event id (and so Last-Event-ID) is the entry's id, EPOCH-SEQ, so
 * that a browser's automatic reconnect names the log it was reading. A bare
 * number (an older id, or typed by hand) is a cursor without an epoch.
 */
export function parseEventId(id: string): { seq: number; epoch?: string } | undefined {
  const match = /^(?:([A-Za-z0-9]{1,64})-)?(\d{1,15})$/.exec(id.trim())
  if (!match) throw new LabError('LAB_ERR_CURSOR', 'Last-Event-ID is EPOCH-SEQ, the id of the last event received')
  return parseCursor(match[2], match[1])
}

/** Cursor fields arrive as strings on HTTP (query, Last-Event-ID) and as numbers elsewhere. */
export function parseCursor(seq: unknown, epoch: unknown): { seq: number; epoch?: string } | undefined {
  if (seq === undefined || seq === null || seq === '') return undefined
  const n = typeof seq === 'string' && /^\d{1,15}$/.test(seq) ? Number(seq) : seq
  const cursor = epoch === undefined || epoch === '' ? { seq: n } : { seq: n, epoch }
  if (!cursorCheck.Check(cursor)) throw new LabError('LAB_ERR_CURSOR')
  return cursor
}

/**
 * Iterative, so that the check itself cannot overflow the stack. Only objects
 * are stacked: a message is mostly strings and numbers, and this runs for every one.
 */
function depthOver(root: object, max: number): boolean {
  const objects: object[] = [root]
  const depths: number[] = [1]
  while (objects.length > 0) {
    const value = objects.pop()! as Record<string, unknown>
    const depth = depths.pop()!
    if (depth > max) return true
    for (const key in value) {
      if (!Object.hasOwn(value, key)) continue
      const child = value[key]
      if (typeof child === 'object' && child !== null) {
        objects.push(child)
        depths.push(depth + 1)
      }
    }
  }
  return false
}

/** A client's value echoed in an error message: short, and never a problem to serialize. */
function quote(value: unknown): string {
  if (typeof value === 'object' && value !== null) return Array.isArray(value) ? 'an array' : 'an object'
  const text = JSON.stringify(value ?? null) ?? String(value)
  return text.length > QUOTED_MAX ? `${text.slice(0, QUOTED_MAX)}…` : text
}
