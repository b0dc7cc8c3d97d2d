// The lines `npm run chat` prints. Lessons show them verbatim and tests compare
// them, so each kind of line has one shape, written here and nowhere else
// (lessons/tools/README.md documents the same shapes).
import type { Cursor, ErrorMessage, Welcome } from '../../server/core/protocol.ts'
import type { Received } from '../../ui/src/clients/chat-client.ts'
import { NAME_FORBIDDEN } from '../../server/core/names.ts'

export function welcomeLine(welcome: Welcome): string {
  const members = `${welcome.memberCount} member${welcome.memberCount === 1 ? '' : 's'}`
  return (
    `joined ${welcome.room} as ${welcome.name} over ${welcome.transport} ` +
    `(epoch ${welcome.epoch}, seq ${welcome.seq}, ${members}, recovered ${welcome.recovered})`
  )
}

/**
 * A latency is only a latency for what arrived live: an entry filled in after
 * a resume was sent long before it was asked for, so it says so instead.
 */
export function entryLine({ entry, receivedAt, backfilled }: Received): string {
  const tail = backfilled ? '  [filled in]' : ''
  if (entry.type === 'presence')
    return `#${entry.seq} * ${entry.joins} joined, ${entry.leaves} left (${entry.memberCount} here)${tail}`
  if (entry.type === 'notice')
    return `#${entry.seq} * ${entry.who.name} ${entry.event === 'join' ? 'joined' : 'left'} (${entry.who.transport})${tail}`
  const latency = !backfilled && entry.sentAt !== undefined ? `  [${(receivedAt - entry.sentAt).toFixed(1)} ms]` : tail
  return `#${entry.seq} ${entry.from.name} (${entry.from.transport}): ${visible(entry.text)}${latency}`
}

export function historyLostLine(cursor: Cursor | undefined): string {
  if (!cursor) return 'history lost: the server could not resume (recovered false)'
  const where = cursor.epoch ? `of epoch ${cursor.epoch}` : 'without an epoch'
  return `history lost: the server could not resume after seq ${cursor.seq} ${where} (recovered false)`
}

export function errorLine(error: ErrorMessage): string {
  return `error ${error.code}: ${error.message}`
}

const INVISIBLE = new RegExp(`[${NAME_FORBIDDEN}]`, 'g')
const NAMED_ESCAPES: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' }

/**
 * Anyone in the room chooses the text: a newline would forge a second line,
 * and escape sequences or bidi overrides would rewrite the reader's terminal.
 * They print as escapes instead, so every entry stays one honest line.
 */
function visible(text: string): string {
  return text.replace(INVISIBLE, (c) => NAMED_ESCAPES[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
}
