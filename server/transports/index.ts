// The registry: the plugin that serves each transport. Its path comes from
// core/names.ts, which the UI and the benchmarks read too. Adding a transport
// is a name in core/names.ts, a file here with a line below, and a client in
// ui/src/clients/ with a line in its registry; the compiler points at every
// other table keyed by TransportName (the benchmarks' baselines among them).
import type { FastifyPluginAsync } from 'fastify'
import { TRANSPORT_INFO, TRANSPORTS, type TransportName } from '../core/names.ts'
import { OTHER } from '../wire/meter.ts'
import { longPolling } from './long-polling.ts'
import { shortPolling } from './short-polling.ts'
import { socketIo } from './socket-io.ts'
import { sse } from './sse.ts'
import { websocket } from './websocket.ts'

const PLUGINS: Record<TransportName, FastifyPluginAsync> = {
  'short-polling': shortPolling,
  'long-polling': longPolling,
  sse,
  websocket,
  'socket.io': socketIo,
}

export interface TransportEntry {
  name: TransportName
  /** Every URL under this path belongs to the transport (for the wire meter and the logs). */
  path: string
  plugin: FastifyPluginAsync
}

export const transports: readonly TransportEntry[] = TRANSPORTS.map((name) => ({
  name,
  path: TRANSPORT_INFO[name].path,
  plugin: PLUGINS[name],
}))

export function transportForUrl(url: string): string {
  for (const { name, path } of transports) {
    if (url.startsWith(path) && (url.length === path.length || '/?'.includes(url[path.length]!))) return name
  }
  return OTHER
}
