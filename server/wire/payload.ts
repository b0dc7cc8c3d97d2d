// A log entry is serialized once, however many receivers it fans out to; the
// byte length is what the wire meter counts as payload.
export class Encoded {
  readonly json: string
  readonly bytes: number
  private utf8: Buffer | undefined

  constructor(json: string) {
    this.json = json
    this.bytes = Buffer.byteLength(json)
  }

  /**
   * The UTF-8 bytes, made on first use and shared by every receiver: sockets
   * write them without copying. Let go once the turn that made them is over
   * (a fan-out is one turn): an entry stays in its room's log for resumes and
   * polls, which read `json`, and a small Buffer is a slice of Node's shared
   * 8 KiB pool, which one long-lived slice keeps whole: kept, these held a
   * pool per few idle connections (their join notices).
   */
  get buffer(): Buffer {
    if (this.utf8) return this.utf8
    this.utf8 = Buffer.from(this.json)
    madeThisTurn.push(this)
    if (madeThisTurn.length === 1) setImmediate(letGo)
    return this.utf8
  }

  /** For letGo only. */
  forgetBuffer(): void {
    this.utf8 = undefined
  }
}

const madeThisTurn: Encoded[] = []

function letGo(): void {
  for (const encoded of madeThisTurn) encoded.forgetBuffer()
  madeThisTurn.length = 0
}

// Kept on the message itself under a symbol: JSON.stringify and for-in never
// see it, and it is cheaper on the hot path than a WeakMap entry per message.
const kEncoded = Symbol('encoded')

export function encode(message: object): Encoded {
  const holder = message as { [kEncoded]?: Encoded; type?: unknown }
  const kept = holder[kEncoded]
  if (kept !== undefined) return kept
  const encoded = new Encoded(JSON.stringify(message))
  // Join and leave notices and presence batches stay in their room's log, one per member of a crowd, and are
  // seldom read again once delivered: their JSON is made again by each read instead of kept on them (kept, the
  // polls of a room of 50 left about 200 bytes on every member's notice: npm run bench:heap). A delivery still
  // makes it once for all its receivers (the hub hands it to every transport).
  if (holder.type !== 'notice' && holder.type !== 'presence') holder[kEncoded] = encoded
  return encoded
}

/** The entry's encoding when something has already made it (the hub, for every entry it delivers); never makes one. */
export function encodedOf(message: unknown): Encoded | undefined {
  return typeof message === 'object' && message !== null ? (message as { [kEncoded]?: Encoded })[kEncoded] : undefined
}
