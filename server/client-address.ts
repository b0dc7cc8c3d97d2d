// Who a request comes from. Behind a load balancer (`npm run cluster`'s nginx) every connection reaches the
// server from the balancer's address, so the per-address limits would count the whole class as one client and
// the instructor rule would take every student for the server's own machine. TRUST_PROXY names the proxies
// whose X-Forwarded-For is believed; from anyone else the header is only something a client wrote.
import { BlockList, isIPv4, isIPv6 } from 'node:net'
import type { IncomingMessage } from 'node:http'

/** TRUST_PROXY's shorthand for this machine: what a balancer on the same host connects from. */
const LOOPBACK = 'loopback'

export class TrustedProxies {
  /** Undefined when nobody is trusted: then the header is never even read. */
  private readonly proxies: BlockList | undefined

  /** `setting`: TRUST_PROXY as written. Throws an Error naming the first entry that is not an address or CIDR. */
  constructor(setting: string) {
    const entries = setting
      .split(',')
      .map((entry) => entry.trim())
      .filter((entry) => entry !== '')
    if (entries.length === 0) return
    const proxies = new BlockList()
    for (const entry of entries) addProxy(proxies, entry)
    this.proxies = proxies
  }

  /** Whether `address` (as a socket or X-Forwarded-For names it) is one of the trusted proxies. */
  trusts(address: string | undefined): boolean {
    if (!this.proxies || !address) return false
    const family = familyOf(address)
    if (!family) return false
    try {
      return this.proxies.check(address, family)
    } catch {
      return false
    }
  }

  /**
   * The client's address: the socket's, unless the socket is a trusted
   * proxy; then the right-most X-Forwarded-For entry that is not itself a
   * trusted proxy. Each proxy appends the address it was connected from, so
   * reading from the right walks back through hops that someone we trust
   * wrote; the first untrusted one is the client, and whatever lies left of
   * it is what that client chose to write, believed by no one. A header that
   * is missing, or malformed before that client is reached, leaves the
   * socket's address.
   */
  clientAddress(req: IncomingMessage): string {
    const socketAddress = req.socket?.remoteAddress ?? 'unknown'
    if (!this.trusts(socketAddress)) return socketAddress
    const header = req.headers['x-forwarded-for']
    if (typeof header !== 'string') return socketAddress
    const hops = header.split(',')
    let client: string | undefined
    for (let i = hops.length - 1; i >= 0; i--) {
      const hop = hopAddress(hops[i]!)
      if (!hop) return socketAddress
      client = hop
      if (!this.trusts(hop)) return hop
    }
    // Every hop was a trusted proxy: the first of them opened the chain, on this side of every proxy.
    return client ?? socketAddress
  }
}

/** What is wrong with a TRUST_PROXY value, or undefined when it is fine (config.ts's check). */
export function checkTrustProxy(value: string): string | undefined {
  try {
    new TrustedProxies(value)
    return undefined
  } catch (error) {
    return (error as Error).message
  }
}

function addProxy(proxies: BlockList, entry: string): void {
  if (entry.toLowerCase() === LOOPBACK) {
    proxies.addSubnet('127.0.0.0', 8, 'ipv4')
    proxies.addAddress('::1', 'ipv6')
    return
  }
  const slash = entry.indexOf('/')
  const address = slash < 0 ? entry : entry.slice(0, slash)
  const family = familyOf(address)
  const bits = slash < 0 ? undefined : entry.slice(slash + 1)
  const maxBits = family === 'ipv4' ? 32 : 128
  if (!family || (bits !== undefined && (!/^\d{1,3}$/.test(bits) || Number(bits) > maxBits)))
    throw new Error(
      `${JSON.stringify(entry)} is not a proxy address: expected an IPv4 or IPv6 address, a CIDR such as 10.0.0.0/8 or fd00::/8, or loopback`,
    )
  if (bits === undefined) proxies.addAddress(address, family)
  else proxies.addSubnet(address, Number(bits), family)
}

function familyOf(address: string): 'ipv4' | 'ipv6' | undefined {
  if (isIPv4(address)) return 'ipv4'
  // A zone (fe80::1%eth0) names an interface of the machine that wrote it, not a client: never an address here.
  if (isIPv6(address) && !address.includes('%')) return 'ipv6'
  return undefined
}

/**
 * One X-Forwarded-For entry as an address, or undefined when it is none:
 * `192.0.2.7`, `2001:db8::7`, and the forms with a port some proxies write
 * (`192.0.2.7:5123`, `[2001:db8::7]:5123`).
 */
function hopAddress(entry: string): string | undefined {
  const withPort = /^\[([^\]]+)\](?::(\d{1,5}))?$|^([\d.]+):(\d{1,5})$/.exec(entry.trim())
  const port = withPort ? Number(withPort[2] ?? withPort[4] ?? 0) : 0
  if (port > 65535) return undefined
  const hop = withPort ? (withPort[1] ?? withPort[3]!) : entry.trim()
  const family = familyOf(hop)
  if (!family) return undefined
  return family === 'ipv6' ? hop.toLowerCase() : hop
}
