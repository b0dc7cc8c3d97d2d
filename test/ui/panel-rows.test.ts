import { describe, expect, it } from 'vitest'
import type { ChatMessage, Member, Notice } from '../../server/core/protocol.ts'
import { TRANSPORTS, type TransportName } from '../../server/core/names.ts'
import {
  NOTICE_FOLD_MS,
  PanelRows,
  ROWS_KEPT,
  allFiveGroup,
  describeNotices,
  fastestCopy,
  type ComparisonRow,
  type NoticeRow,
} from '../../ui/src/state/panel-rows.ts'
import { peopleOf } from '../../ui/src/state/people.ts'

let seq = 0
const notice = (name: string, transport: string, event: 'join' | 'leave', serverAt: number): Notice => ({
  type: 'notice',
  room: 'lobby',
  seq: ++seq,
  epoch: 'e',
  id: `e-${seq}`,
  event,
  who: { clientId: `${name}-${transport}`, name, transport },
  serverAt,
})
const message = (text: string, via: TransportName, clientMsgId?: string, name = 'ann'): ChatMessage => ({
  type: 'message',
  room: 'lobby',
  seq: ++seq,
  epoch: 'e',
  id: `e-${seq}`,
  from: { clientId: `${name}-${via}`, name, transport: via },
  text,
  serverAt: 0,
  ...(clientMsgId === undefined ? {} : { clientMsgId }),
})
const own = (ms: number) => ({ kind: 'own' as const, ms })

describe('a panel’s rows', () => {
  it('folds the five join notices of one page into one row that says so', () => {
    const rows = new PanelRows()
    for (const t of TRANSPORTS) rows.add({ entry: notice('ann', t, 'join', 1000), receivedAt: 0, backfilled: false })
    expect(rows.shown).toHaveLength(1)
    expect(describeNotices(rows.shown[0] as NoticeRow)).toBe('ann joined over 5 transports')
  })

  it('keeps one row per person when two people join at once', () => {
    const rows = new PanelRows()
    for (const t of TRANSPORTS) {
      rows.add({ entry: notice('ann', t, 'join', 1000), receivedAt: 0, backfilled: false })
      rows.add({ entry: notice('bob', t, 'join', 1000), receivedAt: 0, backfilled: false })
    }
    expect(rows.shown.map((row) => describeNotices(row as NoticeRow))).toEqual([
      'ann joined over 5 transports',
      'bob joined over 5 transports',
    ])
  })

  it('says a Drop (a leave and a join) is a reconnection, in the same row as the notices just before it', () => {
    const rows = new PanelRows()
    rows.add({ entry: notice('ann', 'sse', 'join', 1000), receivedAt: 0, backfilled: false })
    rows.add({ entry: notice('ann', 'websocket', 'leave', 1000 + NOTICE_FOLD_MS), receivedAt: 0, backfilled: false })
    rows.add({ entry: notice('ann', 'websocket', 'join', 1000 + NOTICE_FOLD_MS), receivedAt: 0, backfilled: false })
    expect(rows.shown).toHaveLength(1)
    expect(describeNotices(rows.shown[0] as NoticeRow)).toBe('ann joined over SSE; reconnected over WebSocket')
  })

  it('names up to two transports and counts more', () => {
    const rows = new PanelRows()
    for (const t of ['sse', 'websocket', 'socket.io', 'long-polling'] as const)
      rows.add({
        entry: notice('ann', t, t === 'long-polling' ? 'leave' : 'join', 1000),
        receivedAt: 0,
        backfilled: false,
      })
    expect(describeNotices(rows.shown[0] as NoticeRow)).toBe('ann left over long polling; joined over 3 transports')
  })

  it('starts a new row for notices that come long after the last', () => {
    const rows = new PanelRows()
    rows.add({ entry: notice('ann', 'sse', 'join', 1000), receivedAt: 0, backfilled: false })
    rows.add({ entry: notice('ann', 'sse', 'leave', 1001 + NOTICE_FOLD_MS), receivedAt: 0, backfilled: false })
    expect(rows.shown.map((row) => describeNotices(row as NoticeRow))).toEqual([
      'ann joined over SSE',
      'ann left over SSE',
    ])
  })

  it('shows a message sent over all five as one row with a latency per transport, the fastest marked', () => {
    const rows = new PanelRows()
    const figures = [9.5, 4.2, 3.1, 1.4, 2.8]
    TRANSPORTS.forEach((t, i) =>
      rows.add({
        entry: message('race', t, `ann-7-all-${t}`),
        receivedAt: 0,
        backfilled: false,
        latency: own(figures[i]!),
      }),
    )
    expect(rows.shown).toHaveLength(1)
    const row = rows.shown[0] as ComparisonRow
    expect(row.kind).toBe('comparison')
    expect(TRANSPORTS.map((t) => row.copies[t]?.latency?.ms)).toEqual(figures)
    expect(fastestCopy(row)).toBe('websocket')
  })

  it('keeps messages apart that only look alike: sent one at a time, by someone else, or another text', () => {
    const rows = new PanelRows()
    rows.add({ entry: message('hi', 'sse', 'ann-1-sse'), receivedAt: 0, backfilled: false })
    rows.add({ entry: message('hi', 'websocket', 'ann-2-websocket'), receivedAt: 0, backfilled: false })
    rows.add({ entry: message('hi', 'sse', 'x-1-all-sse', 'bob'), receivedAt: 0, backfilled: false })
    rows.add({ entry: message('hi', 'websocket', 'x-1-all-websocket', 'carl'), receivedAt: 0, backfilled: false })
    rows.add({ entry: message('other text', 'sse', 'x-1-all-websocket', 'bob'), receivedAt: 0, backfilled: false })
    expect(rows.shown.map((row) => row.kind)).toEqual(['message', 'message', 'comparison', 'comparison', 'message'])
    expect(allFiveGroup(message('hi', 'sse', 'x-1-all-websocket'))).toBeUndefined()
  })

  it('puts a divider where the panel moved to another room, and none at the start', () => {
    const rows = new PanelRows()
    rows.welcomed('lobby')
    rows.add({ entry: message('in the lobby', 'sse'), receivedAt: 0, backfilled: false })
    rows.welcomed('lobby')
    rows.welcomed('games')
    expect(rows.shown.map((row) => (row.kind === 'room' ? `room ${row.room}` : row.kind))).toEqual([
      'message',
      'room games',
    ])
  })

  it('holds a bounded number of rows however many messages come', () => {
    const rows = new PanelRows()
    for (let i = 0; i < 10 * ROWS_KEPT; i++)
      rows.add({ entry: message(`m${i}`, 'sse'), receivedAt: 0, backfilled: false })
    expect(rows.shown).toHaveLength(ROWS_KEPT)
    expect(rows.shown.at(-1)).toMatchObject({ entry: { text: `m${10 * ROWS_KEPT - 1}` } })
  })
})

describe('the people in a room', () => {
  it('are the members folded by name, each with their transports in the panels’ order', () => {
    const member = (name: string, transport: string): Member => ({ clientId: `${name}-${transport}`, name, transport })
    const members = [
      ...[...TRANSPORTS].reverse().map((t) => member('ann', t)),
      member('bob', 'sse'),
      member('ann', 'sse'),
    ]
    expect(peopleOf(members)).toEqual([
      { name: 'ann', transports: ['short-polling', 'long-polling', 'sse', 'sse', 'websocket', 'socket.io'] },
      { name: 'bob', transports: ['sse'] },
    ])
  })
})
