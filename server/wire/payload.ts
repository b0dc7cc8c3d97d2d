// A log entry is serialized once, however many receivers it fans out to; the
// byte length is what the wire meter counts as payload.
import type { LogEntry } from '../core/protocol.ts'

export interface Encoded {
  json: string
  bytes: number
  /** The UTF-8 bytes, made on first use and shared by every receiver: sockets write it without copying. */
  readonly buffer: Buffer
}

const cache = new WeakMap<object, Encoded>()

export function encode(message: object): Encoded {
  let encoded = cache.get(message)
  if (!encoded) {
    const json = JSON.stringify(message)
    let buffer: Buffer | undefined
    encoded = {
      json,
      bytes: Buffer.byteLength(json),
      get buffer() {
        return (buffer ??= Buffer.from(json))
      },
    }
    cache.set(message, encoded)
  }
  return encoded
}

export function encodeEntry(entry: LogEntry): Encoded {
  return encode(entry)
}
