// Socket.IO's packet encoder, with one difference: an event whose last
// argument is a log entry the hub has already serialized (every entry it
// delivers is, once, for every transport) carries that JSON as it is instead
// of serializing the entry again. The packet is byte for byte what
// socket.io-parser writes; only the second JSON.stringify per entry is gone.
import * as parser from 'socket.io-parser'
import { encodedOf } from './payload.ts'

class EntryEncoder extends parser.Encoder {
  override encode(packet: parser.Packet): unknown[] {
    const args: unknown = packet.data
    if (packet.type === parser.PacketType.EVENT && packet.id === undefined && Array.isArray(args) && args.length > 1) {
      const json = encodedOf(args[args.length - 1])?.json
      if (json !== undefined) {
        let head = String(parser.PacketType.EVENT)
        if (packet.nsp && packet.nsp !== '/') head += `${packet.nsp},`
        let list = '['
        for (let i = 0; i < args.length - 1; i++) list += `${JSON.stringify(args[i])},`
        return [`${head}${list}${json}]`]
      }
    }
    return super.encode(packet)
  }
}

/** For `new Server({ parser })`: the standard decoder, this encoder. */
export const entryParser = { ...parser, Encoder: EntryEncoder }
