// The instructor's view, like Socket.IO's Admin UI but over every transport:
// each room's members with their transport, connection, bytes and handshake,
// and a way to send one away. Everything here is for the instructor only
// (instructor-only.ts), checked once for every route below.
import type { FastifyPluginAsync } from 'fastify'
import { Type } from '@sinclair/typebox'
import { LabError } from '../core/errors.ts'
import { assertRoom, assertText } from '../core/validate.ts'
import { ackOf } from '../core/protocol.ts'
import { assertInstructor } from './instructor-only.ts'

const ConnectionParams = Type.Object({ connectionId: Type.String({ maxLength: 40 }) })
const DisconnectBody = Type.Object({ clientId: Type.String({ minLength: 1, maxLength: 64 }) })
const BroadcastBody = Type.Object({ room: Type.String(), text: Type.String() })
const HANDSHAKES = '/api/instructor/handshakes/'

export const instructorRoutes: FastifyPluginAsync = async (app) => {
  app.addHook('onRequest', async (request) =>
    assertInstructor(
      request,
      "the instructor's view is served to the server's own machine only (set INSTRUCTOR_CODE to log in " +
        'as the instructor from anywhere): open the workbench there, at http://localhost:PORT',
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
  // A client that came with a token loses it: every connection holding it ends, and it cannot come back on it.
  app.post('/api/instructor/disconnect', { schema: { body: DisconnectBody } }, async (request) => {
    const { clientId } = request.body as { clientId: string }
    const client = app.hub.client(clientId)
    if (!client) throw new LabError('LAB_ERR_NOT_FOUND', `no client ${JSON.stringify(clientId)} is connected`)
    const credential = client.credential
    let connections = 1
    if (credential) {
      app.auth.revoke({ ...credential, name: client.name })
      connections = app.hub.endCredential(credential.id, new LabError('LAB_ERR_DISCONNECTED'))
      // Its connections to the other servers end too, and none of them takes the token again.
      await app.shared
        ?.revoke({ ...credential, name: client.name, code: 'LAB_ERR_DISCONNECTED' })
        .catch((err: unknown) => request.log.warn({ err }, 'the other servers could not be told (Redis is away)'))
    } else app.hub.end(clientId, new LabError('LAB_ERR_DISCONNECTED'))
    request.log.info({ clientId, transport: client.transport, connections }, 'disconnected by the instructor')
    return {
      disconnected: { clientId, name: client.name, transport: client.transport },
      connections,
      tokenRevoked: credential !== undefined,
    }
  })

  // One message from the instructor into a room, over the hub like any other: every transport delivers it.
  app.post('/api/instructor/broadcast', { schema: { body: BroadcastBody } }, async (request) => {
    const { room, text } = request.body as { room: string; text: string }
    assertRoom(room)
    assertText(text, app.config)
    const principal = app.auth.principalOf(request.raw)
    const from = { clientId: 'instructor', name: principal?.name ?? 'instructor', transport: 'server' }
    const entry = await app.hub.publish(from, room, { text, sentAt: Date.now() })
    request.log.info({ room, seq: entry.seq }, 'broadcast by the instructor')
    return ackOf(entry)
  })
}
