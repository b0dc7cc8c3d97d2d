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
  private readonly ownPorts: () => number[]

  /**
   * `allowed`: ALLOWED_ORIGINS as set (comma-separated origins, or `*`); empty
   * for the default, any origin on this machine's own names and addresses, at
   * any port (its shaped network ports, `npm run dev`'s Vite). `ownPorts`: the
   * ports this server answers on (its own and its shaped networks'): its own
   * pages are never foreign, whatever the list says.
   */
  constructor(
    allowed: string,
    ownPorts: () => number[] = () => [],
    interfaces: () => NodeJS.Dict<NetworkInterfaceInfo[]> = networkInterfaces,
  ) {
    const list = allowed
      .split(',')
      .map((origin) => origin.trim().replace(/\/$/, ''))
      .filter(Boolean)
    this.listed = list.length === 0 ? undefined : list.includes('*') ? 'any' : new Set(list)
    this.interfaces = interfaces
    this.ownPorts = ownPorts
  }

  /** What the start banner and the README call the policy. */
  describe(): string {
    if (this.listed === 'any') return 'any origin (ALLOWED_ORIGINS=*)'
    if (this.listed) return `${[...this.listed].join(', ')}, and this server's own pages`
    return "this machine's own names and addresses, any port"
  }

  allows(origin: string): boolean {
    if (this.listed === 'any' || this.listed?.has(origin)) return true
    let url: URL
    try {
      url = new URL(origin)
    } catch {
      return false
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return false
    if (!this.isOwnHost(url.hostname)) return false
    if (!this.listed) return true
    const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80))
    return this.ownPorts().includes(port)
  }

  private isOwnHost(urlHost: string): boolean {
    const host = urlHost.replace(/^\[|\]$/g, '').toLowerCase()
    if (isLoopbackHost(host)) return true
    const own = hostname().toLowerCase()
    if (host === own || host === `${own}.local`) return true
    // Read now, not at start: a laptop moves between networks during a class.
    return Object.values(this.interfaces())
      .flatMap((list) => list ?? [])
      .some((i) => i.address.toLowerCase() === host)
  }
}
