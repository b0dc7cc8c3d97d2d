// The instructor's view, like Socket.IO's Admin UI but over every transport:
// each room's members with their transport, connection, bytes and handshake,
// and a way to send one away. Everything here is for the instructor only
// (instructor-only.ts), checked once for every route below.
import type { FastifyPluginAsync } from 'fastify'
import { Type } from '@sinclair/typebox'
import { LabError } from '../core/errors.ts'
import { assertInstructor } from './instructor-only.ts'

const ConnectionParams = Type.Object({ connectionId: Type.String({ maxLength: 40 }) })
const DisconnectBody = Type.Object({ clientId: Type.String({ minLength: 1, maxLength: 64 }) })
const HANDSHAKES = '/api/instructor/handshakes/'

export const instructorRoutes: FastifyPluginAsync = async (app) => {
  app.addHook('onRequest', async (request) =>
    assertInstructor(
      request,
      "the instructor's view is served to the server's own machine only, until class codes exist: " +
        'open the workbench there, at http://localhost:PORT',
    ),
  )

  app.get('/api/instructor/rooms', async () => {
    const rooms = app.hub.roomSummaries().map((summary) => ({ ...summary, members: app.hub.members(summary.room) }))
    const ids = new Set(rooms.flatMap((room) => room.members.flatMap((m) => m.connectionId ?? [])))
    const tallies = app.wire.connectionTallies(ids, undefined)
    return {
      at: Date.now(),
      rooms: rooms.map((room) => ({
        ...room,
        members: room.members.map((member) => {
          const id = member.connectionId
          return {
            ...member,
            bytes: (id !== undefined && tallies[id]?.[member.transport]) || null,
            handshake: id === undefined ? null : HANDSHAKES + id,
          }
        }),
      })),
    }
  })

  app.get(`${HANDSHAKES}:connectionId`, { schema: { params: ConnectionParams } }, async (request) => {
    const { connectionId } = request.params as { connectionId: string }
    const handshakes = app.wire.connectionHandshakes(connectionId, undefined)
    if (!handshakes)
      throw new LabError('LAB_ERR_NOT_FOUND', `no handshake is kept for connection ${JSON.stringify(connectionId)}`)
    return handshakes
  })

  // The client's transport ends it in its own idiom with LAB_ERR_DISCONNECTED; the room sees it leave.
  app.post('/api/instructor/disconnect', { schema: { body: DisconnectBody } }, async (request) => {
    const { clientId } = request.body as { clientId: string }
    const client = app.hub.client(clientId)
    if (!client) throw new LabError('LAB_ERR_NOT_FOUND', `no client ${JSON.stringify(clientId)} is connected`)
    app.hub.end(clientId, new LabError('LAB_ERR_DISCONNECTED'))
    request.log.info({ clientId, transport: client.transport }, 'disconnected by the instructor')
    return { disconnected: { clientId, name: client.name, transport: client.transport } }
  })
}
