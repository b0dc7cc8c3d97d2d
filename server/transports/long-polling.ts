// Long polling: the same question as short polling, but when there is nothing
// new the server holds the request until something arrives or the timeout
// passes. One request per delivered batch instead of one per interval.
import type { ServerResponse } from 'node:http'
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import type { Cursor } from '../core/protocol.ts'
import type { PageResult } from '../core/hub.ts'
import type { WireRecorder } from '../wire/meter.ts'
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
  const sessions = new HttpSessions(app, transport, true)
  const heldPerAddress = new AddressCounter(app.config.maxClientsPerAddress, 'held long polls')
  // Nothing reads the held count without a limit: an idle client holds a poll all the time, so each one kept
  // here (and its release) would be memory per idle connection for no answer anyone asks.
  const countHeld = app.config.maxClientsPerAddress > 0
  const held = new Set<HeldPoll>()
  let closing = false

  /** The poll's text when it is answered now; undefined when it is held (its HeldPoll sends the reply). */
  const answerOrHold = (
    request: FastifyRequest,
    reply: FastifyReply,
    wire: WireRecorder,
    query: PollQuery,
    first: PageResult,
  ) => {
    if (first.entries.length > 0 || !first.recovered || closing) return replyBatch(wire, reply, query.room, first)
    const releaseAddress = countHeld ? heldPerAddress.acquire(app.clientAddress(request.raw)) : undefined
    new HeldPoll(app, held, reply, wire, query.room, query.cursor, releaseAddress).hold(first.seq, query.timeoutMs)
    return undefined
  }

  // Not async: a poll answered or held at once makes no promise, nor a closure of its own.
  app.get(path, (request, reply) => {
    const wire = sessions.resolve(request)?.wire ?? transportWire
    const query = readPollQuery(request.query, app.config.longPollTimeoutMs)
    const now = app.hub.readNow(query.room, query.cursor)
    if (now) return answerOrHold(request, reply, wire, query, now)
    // A room of a shared log is followed first; a held poll's promise waits for its reply (a FastifyReply is a thenable).
    return app.hub
      .read(query.room, query.cursor)
      .then((first) => answerOrHold(request, reply, wire, query, first) ?? reply)
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
    for (const poll of [...held]) poll.finish(true)
  })
}

const kHeldPoll = Symbol('heldPoll')

/**
 * A poll held until its room has something after its cursor, its timeout
 * passes or its client goes away: one object with its methods on the
 * prototype, so an idle client's held poll keeps no closures of its own.
 */
class HeldPoll {
  private timer: NodeJS.Timeout | undefined
  private readonly app: FastifyInstance
  private readonly held: Set<HeldPoll>
  private readonly reply: FastifyReply
  private readonly wire: WireRecorder
  private readonly room: string
  private readonly cursor: Cursor | undefined
  private readonly releaseAddress: (() => void) | undefined

  constructor(
    app: FastifyInstance,
    held: Set<HeldPoll>,
    reply: FastifyReply,
    wire: WireRecorder,
    room: string,
    cursor: Cursor | undefined,
    releaseAddress: (() => void) | undefined,
  ) {
    this.app = app
    this.held = held
    this.reply = reply
    this.wire = wire
    this.room = room
    this.cursor = cursor
    this.releaseAddress = releaseAddress
    // Left in finish(), which runs once: no closure kept for as long as the poll is held.
    app.wire.enterHold(transport)
  }

  hold(afterSeq: number, timeoutMs: number): void {
    this.held.add(this)
    this.timer = setTimeout(answerHeld, timeoutMs, this)
    this.app.hub.waitFor(this.room, afterSeq, this)
    const res = this.reply.raw as HeldResponse
    res[kHeldPoll] = this
    res.on('close', heldClientLeft)
  }

  /** The room has a new entry (the hub's Waiter). */
  woken(): void {
    this.finish(true)
  }

  /** Answers the client with what the room has now (`answer`), or just lets go of the poll; only the first call counts. */
  finish(answer: boolean): void {
    if (!this.held.delete(this)) return
    clearTimeout(this.timer)
    this.app.hub.unwait(this.room, this)
    this.app.wire.leaveHold(transport)
    this.releaseAddress?.()
    if (!answer) return
    try {
      const now = this.app.hub.readNow(this.room, this.cursor)
      if (now) return this.answer(now)
    } catch (error) {
      return this.fail(error)
    }
    // A room of a shared log is followed first.
    this.app.hub.read(this.room, this.cursor).then(
      (batch) => this.answer(batch),
      (error: unknown) => this.fail(error),
    )
  }

  private answer(batch: PageResult): void {
    this.reply.send(replyBatch(this.wire, this.reply, this.room, batch))
  }

  /** Answered by the error handler, as a throw from the route would be. */
  private fail(error: unknown): void {
    this.reply.send(error instanceof Error ? error : new LabError('LAB_ERR_INTERNAL'))
  }
}

type HeldResponse = ServerResponse & { [kHeldPoll]?: HeldPoll }

function answerHeld(poll: HeldPoll): void {
  poll.finish(true)
}

// The client went away while we held its request: stop waiting, answer nobody.
function heldClientLeft(this: HeldResponse): void {
  if (!this.writableFinished) this[kHeldPoll]?.finish(false)
}

interface PollQuery {
  room: string
  cursor: Cursor | undefined
  timeoutMs: number
}

function readPollQuery(query: unknown, fallbackTimeoutMs: number): PollQuery {
  const { room, cursor } = readRoomQuery(query)
  return { room, cursor, timeoutMs: readTimeout((query as Record<string, unknown>).timeout, fallbackTimeoutMs) }
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
