// The workbench's hash routes: `#/view/rest?param=value`. A link can open a
// view with its settings (a lesson's "open the Inspector on the WebSocket"),
// Back returns to the previous view and a reload stays where it was. The hash
// keeps the route out of the server's way: every route is the same page, /.
import type { ReactiveController, ReactiveControllerHost } from 'lit'
import { DEFAULT_ROOM, isRoomName, TRANSPORTS, type TransportName } from '../../../server/core/names.ts'

export const VIEWS = ['race', 'inspector', 'charts', 'bench', 'lessons', 'instructor', 'cluster'] as const
export type ViewId = (typeof VIEWS)[number]

/** A lesson's file name without .md, as the server lists it (server/plugins/lessons.ts). */
export const LESSON_SLUG = /^\d\d-[a-z0-9-]+$/

/**
 * What a route says. A parameter left out leaves that setting as it is, so a
 * lesson's link to the Inspector does not move a page out of its room.
 */
export interface Route {
  view: ViewId
  /** `#/lessons/07-raw-websocket-chat`: the lesson open in the Lessons view. */
  lesson?: string
  /** `?room=ticker`: the room every panel is in. */
  room?: string
  /** `?deflate=on|off`: permessage-deflate on the raw WebSocket panel. */
  deflate?: boolean
  /** `?transport=websocket`: the transport the Inspector shows. */
  transport?: TransportName
  /** `?presenter=on|off`: large type, definitions in view and fewer numbers, for a projector. */
  presenter?: boolean
}

const ON = ['on', 'true', '1', 'yes']
const OFF = ['off', 'false', '0', 'no']

/**
 * Reads `#/inspector?transport=websocket`. No hash (or `#/`) is the race, the
 * home view; a hash that is not a route (`#top`, `#/nowhere`) gives undefined.
 * A parameter with a value it cannot take is dropped, not fatal.
 */
export function parseRoute(hash: string): Route | undefined {
  const raw = hash.replace(/^#/, '')
  if (raw === '' || raw === '/') return { view: 'race' }
  if (!raw.startsWith('/')) return undefined
  const queryAt = raw.indexOf('?')
  const path = queryAt === -1 ? raw : raw.slice(0, queryAt)
  const params = new URLSearchParams(queryAt === -1 ? '' : raw.slice(queryAt + 1))
  const [view, lesson, ...extra] = path.split('/').filter(Boolean).map(safeDecode)
  if (!(VIEWS as readonly string[]).includes(view ?? '') || extra.length > 0) return undefined
  const route: Route = { view: view as ViewId }
  if (route.view === 'lessons' && lesson !== undefined) {
    // The file name is an easy slip for the slug: 07-raw-websocket-chat.md opens 07-raw-websocket-chat.
    const slug = lesson.replace(/\.md$/, '')
    if (!LESSON_SLUG.test(slug)) return undefined
    route.lesson = slug
  } else if (lesson !== undefined) {
    return undefined
  }
  const room = params.get('room')
  if (room !== null && isRoomName(room)) route.room = room
  const deflate = params.get('deflate')?.toLowerCase()
  if (deflate !== undefined && ON.includes(deflate)) route.deflate = true
  if (deflate !== undefined && OFF.includes(deflate)) route.deflate = false
  const presenter = params.get('presenter')?.toLowerCase()
  if (presenter !== undefined && ON.includes(presenter)) route.presenter = true
  if (presenter !== undefined && OFF.includes(presenter)) route.presenter = false
  const transport = params.get('transport')
  if (transport !== null && (TRANSPORTS as readonly string[]).includes(transport))
    route.transport = transport as TransportName
  return route
}

/** The hash for a route; settings that are at their defaults are left out. */
export function formatRoute(route: Route): string {
  const path = route.view === 'lessons' && route.lesson ? `/lessons/${route.lesson}` : `/${route.view}`
  const params = new URLSearchParams()
  if (route.transport) params.set('transport', route.transport)
  if (route.room && route.room !== DEFAULT_ROOM) params.set('room', route.room)
  if (route.deflate) params.set('deflate', 'on')
  if (route.presenter) params.set('presenter', 'on')
  const query = params.toString()
  return `#${path}${query ? `?${query}` : ''}`
}

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]'])

/**
 * The route a link points at, when it is a link into the workbench: a bare
 * `#/...`, `/#/...`, or an absolute `http://host/#/...` on the page's own
 * origin or on a loopback host. Lessons write `http://localhost:3000/#/...`
 * so the link also works from a plain markdown viewer; a class that opened
 * the page at http://<ip>:3000 means this same workbench by it.
 */
export function workbenchHash(href: string, pageOrigin: string): string | undefined {
  let url: URL
  try {
    url = new URL(href, pageOrigin)
  } catch {
    return undefined
  }
  if (url.pathname !== '/' || url.search !== '' || !url.hash.startsWith('#/')) return undefined
  return url.origin === pageOrigin || isLoopbackLabUrl(url) ? url.hash : undefined
}

/** Whether an absolute URL names the lab as lessons write it (localhost), so it can be pointed at this page's server. */
export function isLoopbackLabUrl(url: URL): boolean {
  return (url.protocol === 'http:' || url.protocol === 'https:') && LOOPBACK_HOSTS.has(url.hostname)
}

/**
 * Follows location.hash while the host is in the page: the route at load,
 * then every change (a link, Back and Forward, an edited address bar).
 */
export class HashRouteController implements ReactiveController {
  private readonly onRoute: (route: Route) => void

  constructor(host: ReactiveControllerHost, onRoute: (route: Route) => void) {
    this.onRoute = onRoute
    host.addController(this)
  }

  hostConnected(): void {
    window.addEventListener('hashchange', this._onHashChange)
    this._onHashChange()
  }

  hostDisconnected(): void {
    window.removeEventListener('hashchange', this._onHashChange)
  }

  /** Writes the page's own state into the address bar: a new history entry for a move, in place for a setting. */
  write(route: Route, mode: 'push' | 'replace'): void {
    const hash = formatRoute(route)
    if (hash === location.hash) return
    // pushState and replaceState do not fire hashchange: the page already shows this state.
    if (mode === 'push') history.pushState(null, '', hash)
    else history.replaceState(null, '', hash)
  }

  private _onHashChange = (): void => {
    const route = parseRoute(location.hash)
    if (route) this.onRoute(route)
  }
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment)
  } catch {
    return segment
  }
}
