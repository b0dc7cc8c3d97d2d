// Properties of the validator and the hub, checked on many generated cases
// (fast-check): what must hold whatever clients send and in whatever order.
import fc from 'fast-check'
import { TypeCompiler } from '@sinclair/typebox/compiler'
import { describe, expect, it } from 'vitest'
import { isLabError } from '../../server/core/errors.ts'
import { Hub } from '../../server/core/hub.ts'
import { ClientMessage, type LogEntry } from '../../server/core/protocol.ts'
import { MAX_DEPTH, parseClientMessage } from '../../server/core/validate.ts'

const isClientMessage = TypeCompiler.Compile(ClientMessage)

/** Values shaped like messages often enough to get past the first checks, and anything else too. */
const messageLike = fc.oneof(
  fc.jsonValue({ depthSize: 'large' }),
  fc.record(
    {
      type: fc.oneof(fc.constantFrom('join', 'leave', 'send'), fc.jsonValue()),
      room: fc.oneof(fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9_-]{0,40}$/), fc.jsonValue()),
      text: fc.oneof(fc.string({ unit: 'grapheme' }), fc.jsonValue()),
      name: fc.oneof(fc.string({ unit: 'binary', maxLength: 40 }), fc.jsonValue()),
      after: fc.oneof(
        fc.record({ seq: fc.oneof(fc.nat(), fc.integer(), fc.double()), epoch: fc.string() }),
        fc.jsonValue(),
      ),
    },
    { requiredKeys: ['type'] },
  ),
)

/** Whatever the validator says of `input`, it must be a message the schema accepts or a LabError. */
function assertParsesOrRefuses(input: unknown): void {
  try {
    const message = parseClientMessage(input)
    expect(isClientMessage.Check(message)).toBe(true)
  } catch (error) {
    expect(isLabError(error), String(error)).toBe(true)
  }
}

describe('parseClientMessage', () => {
  it('returns a message the schema accepts, or throws a LabError with a code; never anything else', () => {
    fc.assert(
      fc.property(messageLike, (value) => {
        assertParsesOrRefuses(value)
        assertParsesOrRefuses(JSON.stringify(value))
      }),
      { numRuns: 2000 },
    )
  })

  it('refuses nesting far deeper than any message, in any field, without overflowing the stack', () => {
    // The depth is generated, the value built here: fast-check would overflow printing a 5000-deep value.
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5000 }),
        fc.constantFrom('type', 'room', 'text', 'name', 'after', 'extra'),
        (depth, field) => {
          const raw = `{"type":"send","room":"r","text":"t",${JSON.stringify(field)}:${'['.repeat(depth)}${']'.repeat(depth)}}`
          for (const input of [raw, JSON.parse(raw) as unknown]) {
            assertParsesOrRefuses(input)
            // Past the limit, the answer says what is wrong: the nesting.
            if (depth >= MAX_DEPTH) expect(() => parseClientMessage(input)).toThrow(/nested at most/)
          }
        },
      ),
      { numRuns: 300 },
    )
  })

  it('does the same for any text at all, however it is broken', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (text) => assertParsesOrRefuses(text)),
      { numRuns: 2000 },
    )
  })
})

type Op =
  | { op: 'connect'; client: number; push: boolean }
  | { op: 'join'; client: number; room: number }
  | { op: 'leave'; client: number; room: number }
  | { op: 'disconnect'; client: number }
  | { op: 'publish'; room: number }

const CLIENTS = 6
const ROOMS = 3
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant('connect' as const), client: fc.nat({ max: CLIENTS - 1 }), push: fc.boolean() }),
  fc.record({
    op: fc.constant('join' as const),
    client: fc.nat({ max: CLIENTS - 1 }),
    room: fc.nat({ max: ROOMS - 1 }),
  }),
  fc.record({
    op: fc.constant('leave' as const),
    client: fc.nat({ max: CLIENTS - 1 }),
    room: fc.nat({ max: ROOMS - 1 }),
  }),
  fc.record({ op: fc.constant('disconnect' as const), client: fc.nat({ max: CLIENTS - 1 }) }),
  fc.record({ op: fc.constant('publish' as const), room: fc.nat({ max: ROOMS - 1 }) }),
)

/** Plays the operations against a hub; what each push client received, and every entry appended, in order. */
async function play(ops: Op[], historyLimit: number) {
  const hub = new Hub({ historyLimit, maxRooms: ROOMS })
  const ids = new Map<number, string>()
  const received = new Map<string, LogEntry[]>()
  const appended: LogEntry[] = []
  hub.onAppend((entry) => appended.push(entry))
  const sender = { clientId: 's', name: 's', transport: 'test' }
  for (const op of ops) {
    const id = 'client' in op ? ids.get(op.client) : undefined
    switch (op.op) {
      case 'connect': {
        if (id) break
        const got: LogEntry[] = []
        const client = hub.connect({
          name: `c${op.client}`,
          transport: 'test',
          deliver: op.push ? (e) => got.push(e) : undefined,
        })
        ids.set(op.client, client.clientId)
        received.set(client.clientId, got)
        break
      }
      case 'join':
        if (id) await hub.join(id, `r${op.room}`)
        break
      case 'leave':
        if (id) await hub.leave(id, `r${op.room}`)
        break
      case 'disconnect':
        if (id) hub.disconnect(id)
        ids.delete(op.client)
        break
      case 'publish':
        await hub.publish(sender, `r${op.room}`, { text: `m${appended.length}` })
    }
  }
  hub.close()
  return { hub, received, appended }
}

describe('the hub', () => {
  it("numbers each room's entries 1, 2, 3... with no gap and no repeat", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { maxLength: 200 }), async (ops) => {
        const { appended } = await play(ops, 50)
        for (let room = 0; room < ROOMS; room++) {
          const seqs = appended.filter((e) => e.room === `r${room}`).map((e) => e.seq)
          expect(seqs).toEqual(seqs.map((_, i) => i + 1))
        }
      }),
      { numRuns: 300 },
    )
  })

  it('hands every push member the entries of its rooms in the one order the log has', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { maxLength: 200 }), async (ops) => {
        const { appended, received } = await play(ops, 50)
        const position = new Map(appended.map((e, i) => [e, i]))
        for (const got of received.values()) {
          const order = got.map((e) => position.get(e)!)
          expect(order).toEqual([...order].sort((a, b) => a - b))
          for (const entry of got) expect(position.has(entry)).toBe(true)
        }
      }),
      { numRuns: 300 },
    )
  })

  it('answers a resume with exactly the messages after the cursor, or says recovered: false', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(opArb, { maxLength: 300 }),
        fc.nat({ max: 15 }),
        fc.nat({ max: 400 }),
        fc.boolean(),
        async (ops, limit, cursorSeq, sameEpoch) => {
          const historyLimit = limit + 1
          const { hub, appended } = await play(ops, historyLimit)
          for (let room = 0; room < ROOMS; room++) {
            const all = appended.filter((e) => e.room === `r${room}`)
            const epoch = all[0]?.epoch ?? ''
            const cursor = { seq: cursorSeq % (all.length + 2), epoch: sameEpoch ? epoch : 'another' }
            const read = await hub.read(`r${room}`, cursor, { entries: 10_000, textChars: 1e9 })
            const missing = all.filter((e) => e.type === 'message' && e.seq > cursor.seq)
            const got = read.entries.filter((e) => e.type === 'message')
            if (read.recovered) {
              expect(got).toEqual(missing)
              expect(read.entries.every((e) => e.seq > cursor.seq)).toBe(true)
            } else {
              // Not recovered is only said when something is really out of reach.
              const keptMessages: LogEntry[] = all.filter((e) => e.type === 'message').slice(-historyLimit)
              const reachable =
                cursor.seq <= all.length &&
                (cursor.seq === 0 || cursor.epoch === epoch) &&
                missing.every((m) => keptMessages.includes(m))
              expect(reachable && all.length > 0).toBe(false)
            }
          }
        },
      ),
      { numRuns: 500 },
    )
  })
})
