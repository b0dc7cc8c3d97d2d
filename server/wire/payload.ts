// A log entry is serialized once, however many receivers it fans out to; the
// byte length is what the wire meter counts as payload.
import type { LogEntry } from '../core/protocol.ts'

export interface Encoded {
  json: string
  bytes: number
}

const cache = new WeakMap<object, Encoded>()

export function encode(message: object): Encoded {
  let encoded = cache.get(message)
  if (!encoded) {
    const json = JSON.stringify(message)
    encoded = { json, bytes: Buffer.byteLength(json) }
    cache.set(message, encoded)
  }
  return encoded
}

export function encodeEntry(entry: LogEntry): Encoded {
  return encode(entry)
}
