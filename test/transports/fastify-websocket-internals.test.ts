// The WebSocket transport undoes two things @fastify/websocket does when it
// routes an upgrade through Fastify, through properties the plugin keeps
// private (server/transports/fastify-websocket-internals.ts). Each is checked
// here on a real plugin with a real client, so that a release that changes
// one fails here, by name, instead of quietly keeping every idle connection's
// Request and Reply alive.
import { ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import Fastify, { type FastifyInstance } from 'fastify'
import fastifyWebsocket from '@fastify/websocket'
import { afterEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { releaseUpgradeRequest } from '../../server/transports/fastify-websocket-internals.ts'
import { startServer, type RunningServer } from '../support/server.ts'

interface Seen {
  standIn: unknown
  pluginErrorListeners: number
  afterRelease: { standIn: unknown; errorListeners: number }
}

let app: FastifyInstance | undefined
let server: RunningServer | undefined
afterEach(async () => {
  await app?.close()
  await server?.close()
  app = server = undefined
})

/** A bare Fastify with the plugin and one route that records what it was handed, then releases it. */
async function pluginRoute(): Promise<{ url: string; seen: Promise<Seen> }> {
  app = Fastify()
  await app.register(fastifyWebsocket)
  let report: (seen: Seen) => void = () => {}
  const seen = new Promise<Seen>((resolve) => (report = resolve))
  app.get('/ws', { websocket: true }, (socket, request) => {
    const tcp = request.raw.socket as typeof request.raw.socket & { _httpMessage?: unknown }
    const standIn = tcp._httpMessage
    const pluginErrorListeners = socket.listenerCount('error')
    releaseUpgradeRequest(request, socket)
    report({
      standIn,
      pluginErrorListeners,
      afterRelease: { standIn: tcp._httpMessage, errorListeners: socket.listenerCount('error') },
    })
    socket.on('error', () => {})
    socket.close()
  })
  await app.listen({ port: 0, host: '127.0.0.1' })
  return { url: `ws://127.0.0.1:${(app.server.address() as AddressInfo).port}/ws`, seen }
}

describe('@fastify/websocket, beyond its public API', () => {
  it('hands the route a TCP socket that carries a stand-in ServerResponse, which releasing detaches', async () => {
    const { url, seen } = await pluginRoute()
    const client = new WebSocket(url)
    client.on('error', () => {})
    const { standIn, afterRelease } = await seen
    expect(standIn).toBeInstanceOf(ServerResponse)
    expect(afterRelease.standIn).toBeNull()
  })

  it("gives the WebSocket exactly one 'error' listener of its own, which releasing removes", async () => {
    const { url, seen } = await pluginRoute()
    const client = new WebSocket(url)
    client.on('error', () => {})
    const { pluginErrorListeners, afterRelease } = await seen
    expect(pluginErrorListeners).toBe(1)
    expect(afterRelease.errorListeners).toBe(0)
  })

  it("leaves the lab's open WebSockets with neither: one 'error' listener, the transport's own, and no stand-in", async () => {
    server = await startServer()
    const client = new WebSocket(`${server.url.replace('http', 'ws')}/ws?room=lobby&name=probe`)
    await new Promise((resolve) => client.once('message', resolve))
    const [socket] = [...server.app.websocketServer.clients]
    const tcp = (socket as unknown as { _socket: { _httpMessage?: unknown } })._socket
    expect(socket!.listenerCount('error')).toBe(1)
    expect(tcp._httpMessage ?? null).toBeNull()
    client.close()
  })
})
