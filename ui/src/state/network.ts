// Which network this page is behind. Each shaped network is a port of its own
// (server/network/relay.ts), so the page's origin is the setting: a reload or
// a link keeps it, and choosing another loads the page through that port.
import type { NetworkProfile } from '../../../server/network/profiles.ts'

export interface ShapedNetwork extends NetworkProfile {
  port: number
}

interface NetworkAnswer {
  directPort: number
  current: string | null
  profiles: ShapedNetwork[]
}

export class NetworkStore extends EventTarget {
  /** The networks on offer; empty until the server has answered (or when it opens none). */
  profiles: ShapedNetwork[] = []
  /** The network this page came through; undefined when it is straight on the server's port. */
  current: ShapedNetwork | undefined
  directPort: number | undefined
  private readonly baseUrl: string
  private loading: Promise<void> | undefined

  constructor(baseUrl: string) {
    super()
    this.baseUrl = baseUrl
  }

  /** Asks the server once; a page that cannot reach it offers no choice and says nothing shaped. */
  load(): Promise<void> {
    this.loading ??= (async () => {
      try {
        const res = await fetch(`${this.baseUrl}/api/network`, { cache: 'no-store' })
        if (!res.ok) return
        const answer = (await res.json()) as NetworkAnswer
        this.profiles = answer.profiles
        this.directPort = answer.directPort
        this.current = answer.profiles.find((p) => p.id === answer.current)
        this.dispatchEvent(new Event('change'))
      } catch {
        this.loading = undefined
      }
    })()
    return this.loading
  }

  /** The server's own origin when this page came through a shaped port; undefined when it is already there. */
  directBaseUrl(baseUrl: string): string | undefined {
    if (!this.current || this.directPort === undefined) return undefined
    const url = new URL(baseUrl)
    url.port = String(this.directPort)
    return url.origin
  }

  /** This page's address with the port of `id` (undefined: the server's own port), its route kept. */
  addressFor(id: string | undefined, page: URL): string | undefined {
    const port = id === undefined ? this.directPort : this.profiles.find((p) => p.id === id)?.port
    if (port === undefined) return undefined
    const url = new URL(page)
    url.port = String(port)
    return url.href
  }
}
