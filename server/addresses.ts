// Where a class can reach the server. Bound to every interface (HOST=0.0.0.0
// or ::), the server is reachable at each of the machine's network addresses,
// and those are what students on the same network type in: the banner lists
// them, not only localhost, which on a student's laptop is the laptop itself.
import { networkInterfaces, type NetworkInterfaceInfo } from 'node:os'

const WILDCARDS = new Set(['0.0.0.0', '::'])

/**
 * The URLs the server answers at: the host it is bound to, or for a wildcard
 * bind localhost first and then every external address of the machine (IPv4,
 * and IPv6 too when bound to ::). Link-local IPv6 addresses are left out: a
 * browser needs a zone id to reach them.
 */
export function servedUrls(
  host: string,
  port: number,
  interfaces: NodeJS.Dict<NetworkInterfaceInfo[]> = networkInterfaces(),
): string[] {
  const url = (address: string) => `http://${address.includes(':') ? `[${address}]` : address}:${port}/`
  if (!WILDCARDS.has(host)) return [url(host)]
  const external = Object.values(interfaces)
    .flatMap((list) => list ?? [])
    .filter((i) => !i.internal)
    .filter((i) => i.family === 'IPv4' || (host === '::' && !i.address.toLowerCase().startsWith('fe80:')))
    .map((i) => url(i.address))
  return [url('localhost'), ...new Set(external)]
}

/** This machine's own names: a URL with one of them opens the lab only on the machine it is typed on. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '').toLowerCase()
  const ipv4 = bare.startsWith('::ffff:') ? bare.slice(7) : bare
  return bare === 'localhost' || bare === '::1' || /^127\./.test(ipv4)
}

/**
 * The URLs a class can open from other machines: the served URLs without
 * this machine's own names. Empty when the server is bound to a loopback
 * address (the default, 127.0.0.1) or has no network address at all.
 */
export function classUrls(
  host: string,
  port: number,
  interfaces: NodeJS.Dict<NetworkInterfaceInfo[]> = networkInterfaces(),
): string[] {
  if (isLoopbackHost(host)) return []
  return servedUrls(host, port, interfaces).filter((url) => !isLoopbackHost(new URL(url).hostname))
}
