// The command line of `npm run chat`: flags in, options or a usage error out.
// Names and rooms are checked by the server's own rules, so a typo is a usage
// error here rather than a refusal (on Socket.IO, a connect_error whose
// reason the client does not pass on).
import { randomBytes } from 'node:crypto'
import { parseArgs } from 'node:util'
import type { Cursor, TransportName } from '../../server/core/protocol.ts'
import {
  DEFAULT_ROOM,
  isRoomName,
  NAME_MAX_LENGTH,
  NAME_PATTERN,
  ROOM_RULE,
  TRANSPORTS,
} from '../../server/core/names.ts'

export const EXIT = {
  ok: 0,
  /** The server refused something this client sent, or could not be reached. */
  failed: 1,
  usage: 2,
  /** --timeout passed without a chat message. */
  timedOut: 3,
} as const

export const DEFAULT_URL = 'http://localhost:3000'
/** Set once for a class (export LAB_URL=http://10.0.0.5:3000) instead of --url on every command. */
export const URL_VARIABLE = 'LAB_URL'
/** A class with a code: the token from POST /api/login, exported once (export LAB_TOKEN=eyJ...) instead of --token. */
export const TOKEN_VARIABLE = 'LAB_TOKEN'

export const USAGE = `Usage: npm run chat -- --transport <${TRANSPORTS.join('|')}> [options]

Joins a room of a Transport Lab server and chats from the terminal: each line
typed (or piped in) is sent, and messages print as they arrive.

  --transport T      how to connect (required): ${TRANSPORTS.join(', ')}
  --room R           the room (default ${DEFAULT_ROOM})
  --name N           your name in the room (default cli-XXXX, random)
  --url URL          the server (default: $${URL_VARIABLE} if set, else ${DEFAULT_URL})
  --token TOKEN      for a class with a code: the token POST /api/login answers (default: $${TOKEN_VARIABLE});
                     your name is then the token's
  --say TEXT         send TEXT once, then exit once it has come back (stdin is not read)
  --count N          exit after receiving N chat messages (notices do not count)
  --since EPOCH:SEQ  resume after seq SEQ of epoch EPOCH
  --timeout MS       give up when no chat message arrives within MS
  --json             print each server message as one JSON line, nothing else
  -h, --help         print this help

Exit codes: 0 done, 1 refused or unreachable, 2 usage, 3 timed out.
`

export interface ChatOptions {
  transport: TransportName
  room: string
  name: string
  url: string
  say?: string
  count?: number
  since?: Cursor
  timeoutMs?: number
  json: boolean
  token?: string
}

export type ParsedArgs =
  { kind: 'run'; options: ChatOptions } | { kind: 'help' } | { kind: 'usage-error'; message: string }

export function randomName(): string {
  return `cli-${randomBytes(2).toString('hex')}`
}

class UsageError extends Error {}

export function parseChatArgs(argv: string[]): ParsedArgs {
  try {
    return readArgs(argv)
  } catch (error) {
    // parseArgs reports unknown flags and missing values with a TypeError whose message is already clear.
    if (error instanceof UsageError || (error instanceof TypeError && 'code' in error))
      return { kind: 'usage-error', message: error.message }
    throw error
  }
}

function readArgs(argv: string[]): ParsedArgs {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      transport: { type: 'string' },
      room: { type: 'string' },
      name: { type: 'string' },
      url: { type: 'string' },
      token: { type: 'string' },
      say: { type: 'string' },
      count: { type: 'string' },
      since: { type: 'string' },
      timeout: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  })
  if (values.help) return { kind: 'help' }

  const transport = values.transport
  if (transport === undefined) throw new UsageError(`missing --transport: choose one of ${TRANSPORTS.join(', ')}`)
  if (!isTransport(transport))
    throw new UsageError(`unknown transport "${transport}": choose one of ${TRANSPORTS.join(', ')}`)

  const room = values.room ?? DEFAULT_ROOM
  if (!isRoomName(room)) throw new UsageError(`--room "${room}" is not a room name: ${ROOM_RULE}`)
  const token = values.token ?? (process.env[TOKEN_VARIABLE] || undefined)
  if (token !== undefined && !/^[\w-]+\.[\w-]+\.[\w-]+$/.test(token))
    throw new UsageError('--token takes the token POST /api/login answers: three base64url parts joined by dots')
  // A token carries its name (the server accepts no other): read it from the payload, which is not secret.
  const name = values.name ?? (token && nameInToken(token)) ?? randomName()
  if (name.length > NAME_MAX_LENGTH || !new RegExp(NAME_PATTERN).test(name))
    throw new UsageError(
      `--name "${name}" is not a name: 1-32 characters, not only spaces, no control or invisible characters`,
    )

  const options: ChatOptions = {
    transport,
    room,
    name,
    url: readUrl(values.url ?? (process.env[URL_VARIABLE] || DEFAULT_URL)),
    json: values.json ?? false,
  }
  if (values.say !== undefined) {
    if (values.say.trim() === '') throw new UsageError('--say needs some text')
    options.say = values.say
  }
  if (token !== undefined) options.token = token
  if (values.count !== undefined) options.count = positiveInteger('--count', values.count)
  if (values.timeout !== undefined) options.timeoutMs = positiveInteger('--timeout', values.timeout)
  if (values.since !== undefined) options.since = readCursor(values.since)
  return { kind: 'run', options }
}

function nameInToken(token: string): string | undefined {
  try {
    const payload = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as { sub?: unknown }
    return typeof payload.sub === 'string' ? payload.sub : undefined
  } catch {
    return undefined
  }
}

function isTransport(value: string): value is TransportName {
  return (TRANSPORTS as readonly string[]).includes(value)
}

function readUrl(value: string): string {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw new UsageError(`--url "${value}" is not a URL: e.g. ${DEFAULT_URL}`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new UsageError(`--url must start with http:// or https:// (got "${value}")`)
  return url.origin
}

function positiveInteger(flag: string, value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1 || !Number.isSafeInteger(Number(value)))
    throw new UsageError(`${flag} takes a whole number of 1 or more (got "${value}")`)
  return Number(value)
}

/** EPOCH:SEQ as the joined line and /poll show them; a bare SEQ has no epoch, which the server trusts only at 0. */
function readCursor(value: string): Cursor {
  const match = /^(?:([^:]*):)?(\d+)$/.exec(value)
  if (!match || !Number.isSafeInteger(Number(match[2])))
    throw new UsageError(`--since takes EPOCH:SEQ, e.g. --since 5f3a9c1e:12 (got "${value}")`)
  const epoch = match[1]
  if (epoch !== undefined && epoch.length > 64)
    throw new UsageError(`--since: an epoch is at most 64 characters (got ${epoch.length})`)
  return epoch ? { seq: Number(match[2]), epoch } : { seq: Number(match[2]) }
}
