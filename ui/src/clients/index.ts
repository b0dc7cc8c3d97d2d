// The registry: transport name -> client class, in the order the panels show them.
import type { TransportName } from '../../../server/core/protocol.ts'
import type { ChatClient, ClientOptions } from './chat-client.ts'
import { LongPollingClient, ShortPollingClient } from './polling.ts'
import { SocketIoClient } from './socket-io.ts'
import { SseClient } from './sse.ts'
import { WebSocketClient } from './websocket.ts'

export const CLIENTS: Record<TransportName, new (options: ClientOptions) => ChatClient> = {
  'short-polling': ShortPollingClient,
  'long-polling': LongPollingClient,
  sse: SseClient,
  websocket: WebSocketClient,
  'socket.io': SocketIoClient,
}

export function createChatClient(transport: TransportName, options: ClientOptions): ChatClient {
  return new CLIENTS[transport](options)
}

export type { ChatClient, ClientOptions } from './chat-client.ts'
