// The workbench's hash routes and where a lesson's links lead, as plain
// functions (the browser side is in lessons.test.ts).
import { describe, expect, it } from 'vitest'
import { commandHost, linkTarget } from '../../ui/src/lessons/lesson-markdown.ts'
import { formatRoute, parseRoute, workbenchHash } from '../../ui/src/state/route.ts'

const PAGE = 'http://192.168.1.20:3000'

describe('parseRoute', () => {
  it('reads each view and its settings', () => {
    expect(parseRoute('')).toEqual({ view: 'race' })
    expect(parseRoute('#/')).toEqual({ view: 'race' })
    expect(parseRoute('#/race?room=ticker&deflate=on')).toEqual({ view: 'race', room: 'ticker', deflate: true })
    expect(parseRoute('#/race?deflate=off')).toEqual({ view: 'race', deflate: false })
    expect(parseRoute('#/inspector?transport=websocket')).toEqual({ view: 'inspector', transport: 'websocket' })
    expect(parseRoute('#/inspector?transport=socket.io')).toEqual({ view: 'inspector', transport: 'socket.io' })
    expect(parseRoute('#/charts')).toEqual({ view: 'charts' })
    expect(parseRoute('#/bench')).toEqual({ view: 'bench' })
    expect(parseRoute('#/lessons')).toEqual({ view: 'lessons' })
    expect(parseRoute('#/lessons/07-raw-websocket-chat?room=l07')).toEqual({
      view: 'lessons',
      lesson: '07-raw-websocket-chat',
      room: 'l07',
    })
    expect(parseRoute('#/lessons/07-raw-websocket-chat.md')).toEqual({
      view: 'lessons',
      lesson: '07-raw-websocket-chat',
    })
  })

  it('drops a setting it cannot take and refuses what is not a route', () => {
    expect(parseRoute('#/race?room=two%20words&deflate=maybe&transport=carrier-pigeon')).toEqual({ view: 'race' })
    expect(parseRoute('#top')).toBeUndefined()
    expect(parseRoute('#/nowhere')).toBeUndefined()
    expect(parseRoute('#/race/extra')).toBeUndefined()
    expect(parseRoute('#/lessons/..%2F..%2Fpackage')).toBeUndefined()
    expect(parseRoute('#/lessons/07-x/more')).toBeUndefined()
  })

  it('reads back what formatRoute writes', () => {
    const routes = [
      { view: 'race', room: 'ticker', deflate: true },
      { view: 'inspector', transport: 'long-polling' },
      { view: 'lessons', lesson: '01-hello' },
    ] as const
    for (const route of routes) expect(parseRoute(formatRoute(route))).toEqual(route)
    expect(formatRoute({ view: 'race', room: 'lobby', deflate: false })).toBe('#/race')
  })

  it('reads and writes presenter mode, a setting of the whole page like deflate', () => {
    expect(parseRoute('#/race?presenter=on')).toEqual({ view: 'race', presenter: true })
    expect(parseRoute('#/charts?presenter=off')).toEqual({ view: 'charts', presenter: false })
    expect(parseRoute('#/race?presenter=loud')).toEqual({ view: 'race' })
    expect(formatRoute({ view: 'race', room: 'ticker', presenter: true })).toBe('#/race?room=ticker&presenter=on')
    expect(formatRoute({ view: 'race', presenter: false })).toBe('#/race')
  })
})

describe('where a lesson link leads', () => {
  it('opens a workbench view in place from the page origin or a loopback one, whatever its port', () => {
    expect(workbenchHash('http://localhost:3000/#/inspector?transport=websocket', PAGE)).toBe(
      '#/inspector?transport=websocket',
    )
    expect(workbenchHash('http://127.0.0.1:4000/#/race', PAGE)).toBe('#/race')
    expect(workbenchHash(`${PAGE}/#/charts`, PAGE)).toBe('#/charts')
    expect(workbenchHash('/#/bench', PAGE)).toBe('#/bench')
    expect(workbenchHash('#/lessons', PAGE)).toBe('#/lessons')
    expect(workbenchHash('https://example.com/#/race', PAGE)).toBeUndefined()
    expect(workbenchHash('http://localhost:3000/endpoints#/race', PAGE)).toBeUndefined()
  })

  it('turns relative links into lessons or source paths, and the rest into outside links', () => {
    expect(linkTarget('08-socket-io.md', PAGE)).toEqual({ kind: 'view', hash: '#/lessons/08-socket-io' })
    expect(linkTarget('./08-socket-io.md', PAGE)).toEqual({ kind: 'view', hash: '#/lessons/08-socket-io' })
    expect(linkTarget('../server/transports/sse.ts', PAGE)).toEqual({
      kind: 'source',
      path: 'server/transports/sse.ts',
    })
    expect(linkTarget('FORMAT.md', PAGE)).toEqual({ kind: 'source', path: 'lessons/FORMAT.md' })
    expect(linkTarget('/api/wire', PAGE)).toEqual({ kind: 'external', href: `${PAGE}/api/wire` })
    expect(linkTarget('http://localhost:3000/endpoints', PAGE)).toEqual({ kind: 'external', href: `${PAGE}/endpoints` })
    expect(linkTarget('https://developer.mozilla.org/', PAGE)).toEqual({
      kind: 'external',
      href: 'https://developer.mozilla.org/',
    })
    expect(linkTarget('#common-mistakes', PAGE)).toEqual({ kind: 'none' })
  })

  it("points commands at the lab the page came from, unless that is the learner's own localhost:3000", () => {
    expect(commandHost('http://localhost:3000')).toBeUndefined()
    expect(commandHost('http://127.0.0.1:3000')).toBeUndefined()
    expect(commandHost('http://10.0.0.5:3000')).toBe('10.0.0.5:3000')
    expect(commandHost('http://localhost:8080')).toBe('localhost:8080')
  })
})
