// The registry: transport name -> the path it owns and the plugin that serves
// it. Adding a transport is one new file and one line here.
import type { FastifyPluginAsync } from 'fastify'
import type { TransportName } from '../core/protocol.ts'
import { OTHER } from '../wire/meter.ts'
import { longPolling } from './long-polling.ts'
import { shortPolling } from './short-polling.ts'
import { socketIo } from './socket-io.ts'
import { sse } from './sse.ts'
import { websocket } from './websocket.ts'

export interface TransportEntry {
  name: TransportName
  /** Every URL under this path belongs to the transport (for the wire meter and the logs). */
  path: string
  plugin: FastifyPluginAsync
}

export const transports: readonly TransportEntry[] = [
  { name: 'short-polling', path: '/poll', plugin: shortPolling },
  { name: 'long-polling', path: '/long-poll', plugin: longPolling },
  { name: 'sse', path: '/sse', plugin: sse },
  { name: 'websocket', path: '/ws', plugin: websocket },
  { name: 'socket.io', path: '/socket.io', plugin: socketIo },
]

export function transportForUrl(url: string): string {
  for (const { name, path } of transports) {
    if (url.startsWith(path) && (url.length === path.length || '/?'.includes(url[path.length]!))) return name
  }
  return OTHER
}
