// Which pages may open a connection or POST. A browser names the page that
// makes a request in its Origin header and a page cannot forge it, so the
// check stops a page on another site from joining the chat as its visitor
// (cross-site WebSocket hijacking: WebSockets are not bound by CORS). A
// client that is not a browser (curl, the terminal client) sends no Origin,
// or any it likes: only its token speaks for it.
import { hostname, networkInterfaces, type NetworkInterfaceInfo } from 'node:os'
import { isLoopbackHost } from '../addresses.ts'

export class OriginPolicy {
  private readonly listed: Set<string> | 'any' | undefined
  private readonly interfaces: () => NodeJS.Dict<NetworkInterfaceInfo[]>

  /**
   * `allowed`: ALLOWED_ORIGINS as set (comma-separated origins, or `*`); empty
   * for the default, any origin on this machine's own names and addresses, at
   * any port (its shaped network ports, `npm run dev`'s Vite).
   */
  constructor(allowed: string, interfaces: () => NodeJS.Dict<NetworkInterfaceInfo[]> = networkInterfaces) {
    const list = allowed
      .split(',')
      .map((origin) => origin.trim().replace(/\/$/, ''))
      .filter(Boolean)
    this.listed = list.length === 0 ? undefined : list.includes('*') ? 'any' : new Set(list)
    this.interfaces = interfaces
  }

  /** What the start banner and the README call the policy. */
  describe(): string {
    if (this.listed === 'any') return 'any origin (ALLOWED_ORIGINS=*)'
    if (this.listed) return [...this.listed].join(', ')
    return "this machine's own names and addresses, any port"
  }

  allows(origin: string): boolean {
    if (this.listed === 'any') return true
    if (this.listed) return this.listed.has(origin)
    let url: URL
    try {
      url = new URL(origin)
    } catch {
      return false
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return false
    const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase()
    if (isLoopbackHost(host)) return true
    const own = hostname().toLowerCase()
    if (host === own || host === `${own}.local`) return true
    // Read now, not at start: a laptop moves between networks during a class.
    return Object.values(this.interfaces())
      .flatMap((list) => list ?? [])
      .some((i) => i.address.toLowerCase() === host)
  }
}
