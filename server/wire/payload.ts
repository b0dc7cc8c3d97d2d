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
  const holder = message as { [kEncoded]?: Encoded }
  return (holder[kEncoded] ??= new Encoded(JSON.stringify(message)))
}

/**
 * Lets go of the message's encoding; the next encode() makes it again. For an entry that stays in a room's log but
 * is rarely read again once delivered (a join or leave notice: a crowd keeps one per member).
 */
export function forgetEncoding(message: object): void {
  const holder = message as { [kEncoded]?: Encoded }
  if (holder[kEncoded] !== undefined) holder[kEncoded] = undefined
}

/** The entry's encoding when something has already made it (the hub, for every entry it delivers); never makes one. */
export function encodedOf(message: unknown): Encoded | undefined {
  return typeof message === 'object' && message !== null ? (message as { [kEncoded]?: Encoded })[kEncoded] : undefined
}
