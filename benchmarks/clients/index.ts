// The registry: transport -> its load clients. A scenario asks for a receiver
// or a sender of a subject and never names a class.
import type { Receiver, ReceiverOptions, Sender, SenderOptions } from './common.ts'
import { HttpSender, PollingReceiver, SseReceiver } from './http.ts'
import { SocketIoReceiver, SocketIoSender } from './socket-io.ts'
import { WsReceiver, WsSender } from './ws.ts'

export function createReceiver(options: ReceiverOptions): Receiver {
  switch (options.endpoint.transport) {
    case 'short-polling':
    case 'long-polling':
      return new PollingReceiver(options)
    case 'sse':
      return new SseReceiver(options)
    case 'websocket':
      return new WsReceiver(options)
    case 'socket.io':
      return new SocketIoReceiver(options)
  }
}

export function createSender(options: SenderOptions): Sender {
  switch (options.endpoint.transport) {
    case 'short-polling':
    case 'long-polling':
    case 'sse':
      return new HttpSender(options)
    case 'websocket':
      return new WsSender(options)
    case 'socket.io':
      return new SocketIoSender(options)
  }
}

export type { Receiver, ReceiverOptions, Sender, SenderOptions, SendBody } from './common.ts'
