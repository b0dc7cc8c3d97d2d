// Short polling: the client asks "anything after seq N?" every interval and
// the server answers at once, usually with nothing. Simple, and every empty
// answer costs a full request and response.
import type { FastifyPluginAsync } from 'fastify'
import { TRANSPORT_INFO } from '../core/names.ts'
import { acceptJsonAsText, handlePost, HttpSessions, replyBatch } from './http-common.ts'
import { readRoomQuery } from './query.ts'

const transport = 'short-polling'
const { path } = TRANSPORT_INFO[transport]

export const shortPolling: FastifyPluginAsync = async (app) => {
  const transportWire = app.wire.recorder(transport)
  acceptJsonAsText(app)
  const sessions = new HttpSessions(app, transport, true)

  // Not async: a poll read at once is answered without a promise.
  app.get(path, (request, reply) => {
    const wire = sessions.resolve(request)?.wire ?? transportWire
    const { room, cursor } = readRoomQuery(request.query)
    const now = app.hub.readNow(room, cursor)
    if (now) return replyBatch(wire, reply, room, now)
    // A room of a shared log is followed first.
    return app.hub.read(room, cursor).then((read) => replyBatch(wire, reply, room, read))
  })

  app.post(
    path,
    handlePost(app, {
      transport,
      sessions,
      joinByPost: true,
      pollIntervalMs: app.config.shortPollIntervalMs,
      leaseMs: app.config.httpSessionTtlMs,
    }),
  )
}
