// What websocket.ts undoes of @fastify/websocket's routing, through things the
// plugin keeps private. Verified against @fastify/websocket 11.3.7 (ws 8.23.0,
// Node 20.20); test/transports/fastify-websocket-internals.test.ts checks each
// on a real plugin, so that a release that changes one fails there by name.
//
// The plugin routes an upgrade through Fastify like a request: it attaches a
// stand-in ServerResponse to the TCP socket (socket._httpMessage) and gives
// the WebSocket an 'error' listener that closes over Fastify's Request and
// Reply. Both would live as long as the connection, a few kilobytes per idle
// client that the idle-cost figures would then include.
import type { FastifyRequest } from 'fastify'
import type { WebSocket } from 'ws'

type PluginSocket = FastifyRequest['raw']['socket'] & { _httpMessage?: { detachSocket(socket: unknown): void } | null }

/**
 * Detaches the stand-in response from the TCP socket and removes the plugin's
 * 'error' listener; the caller must add its own 'error' listener at once.
 */
export function releaseUpgradeRequest(request: FastifyRequest, socket: WebSocket): void {
  const tcp = request.raw.socket as PluginSocket
  tcp._httpMessage?.detachSocket(tcp)
  socket.removeAllListeners('error')
}
