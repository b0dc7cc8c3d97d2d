// Long polling: the same question as short polling, but when there is nothing
// new the server holds the request until something arrives or the timeout
// passes. One request per delivered batch instead of one per interval.
import type { FastifyPluginAsync } from 'fastify'
import { TRANSPORT_INFO } from '../core/names.ts'
import { LabError } from '../core/errors.ts'
import { AddressCounter } from '../core/limits.ts'
import { acceptJsonAsText, handlePost, HttpSessions, replyBatch } from './http-common.ts'
import { readRoomQuery } from './query.ts'

const transport = 'long-polling'
const { path } = TRANSPORT_INFO[transport]
const TIMEOUT_MIN_MS = 100

export const longPolling: FastifyPluginAsync = async (app) => {
  const transportWire = app.wire.recorder(transport)
  acceptJsonAsText(app)
  const sessions = new HttpSessions(app, transport)
  const heldPerAddress = new AddressCounter(app.config.maxClientsPerAddress, 'held long polls')
  const held = new Set<() => void>()
  let closing = false

  app.get(path, async (request, reply) => {
    const wire = sessions.resolve(request)?.wire ?? transportWire
    const { room, cursor } = readRoomQuery(request.query)
    const timeoutMs = readTimeout((request.query as Record<string, unknown>).timeout, app.config.longPollTimeoutMs)
    const first = await app.hub.read(room, cursor)
    if (first.entries.length > 0 || !first.recovered || closing) {
      return replyBatch(wire, reply, room, first)
    }
    const releaseAddress = heldPerAddress.acquire(app.clientAddress(request.raw))
    return new Promise<string>((resolve, reject) => {
      const release = app.wire.hold(transport)
      const finish = (answer: boolean) => {
        if (!held.delete(onReady)) return
        clearTimeout(timer)
        stopWaiting()
        release()
        releaseAddress()
        if (answer) app.hub.read(room, cursor).then((batch) => resolve(replyBatch(wire, reply, room, batch)), reject)
      }
      const onReady = () => finish(true)
      held.add(onReady)
      const timer = setTimeout(onReady, timeoutMs)
      let stopWaiting = () => {}
      stopWaiting = app.hub.waitFor(room, first.seq, onReady)
      // The client went away while we held its request: stop waiting, answer nobody.
      reply.raw.once('close', () => {
        if (!reply.raw.writableFinished) finish(false)
      })
    })
  })

  app.post(
    path,
    handlePost(app, {
      transport,
      sessions,
      joinByPost: true,
      leaseMs: app.config.httpSessionTtlMs + app.config.longPollTimeoutMs,
    }),
  )

  // Fastify's close waits for in-flight requests, so held polls are answered first.
  app.addHook('preClose', async () => {
    closing = true
    for (const answer of [...held]) answer()
  })
}

function readTimeout(value: unknown, fallback: number): number {
  if (value === undefined || value === '') return fallback
  const ms = typeof value === 'string' && /^\d{1,9}$/.test(value) ? Number(value) : NaN
  if (!(ms >= TIMEOUT_MIN_MS && ms <= 600_000)) {
    throw new LabError(
      'LAB_ERR_BAD_MESSAGE',
      `timeout must be an integer number of ms from ${TIMEOUT_MIN_MS} to 600000`,
    )
  }
  return ms
}
