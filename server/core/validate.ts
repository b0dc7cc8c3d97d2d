// Validation at the edge: every transport hands what it received to
// parseClientMessage and gets back either a typed message or a LabError with
// a stable code. The schema is the single source of truth; the checks here only
// pick the most helpful code for what the schema rejected.
import { TypeCompiler } from '@sinclair/typebox/compiler'
import { Cursor, JoinMessage, LeaveMessage, RoomName, SendMessage, TEXT_MAX_BYTES, UserName } from './protocol.ts'
import type { ClientMessage as ClientMessageT } from './protocol.ts'
import { LabError } from './errors.ts'

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
  const type = (value as { type?: unknown }).type
  if (type !== 'join' && type !== 'leave' && type !== 'send') {
    throw new LabError('LAB_ERR_UNKNOWN_TYPE', `unknown message type ${JSON.stringify(type ?? null)} (expected join, leave or send)`)
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
  return value as ClientMessageT
}

export function assertRoom(room: unknown): asserts room is string {
  if (!roomCheck.Check(room)) throw new LabError('LAB_ERR_ROOM_NAME', `bad room name ${JSON.stringify(room ?? null)}: room names are 1-32 letters, digits, - or _, starting with a letter or digit`)
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
    throw new LabError('LAB_ERR_TEXT_TOO_LONG', `text is ${bytes} bytes; the limit is ${limits.textMaxBytes} bytes (UTF-8)`)
  }
}

/** Cursor fields arrive as strings on HTTP (query, Last-Event-ID) and as numbers elsewhere. */
export function parseCursor(seq: unknown, epoch: unknown): { seq: number; epoch?: string } | undefined {
  if (seq === undefined || seq === null || seq === '') return undefined
  const n = typeof seq === 'string' && /^\d{1,15}$/.test(seq) ? Number(seq) : seq
  const cursor = epoch === undefined || epoch === '' ? { seq: n } : { seq: n, epoch }
  if (!cursorCheck.Check(cursor)) throw new LabError('LAB_ERR_CURSOR')
  return cursor as { seq: number; epoch?: string }
}
