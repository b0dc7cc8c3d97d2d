// What the Invite card tells the class: the URL to open, from the server's
// answer (GET /api/join) and the address this page itself was opened at.

/** GET /api/join: the address the server is bound to and the URLs other machines can open. */
export interface JoinAnswer {
  host: string
  port: number
  urls: string[]
}

export type Invitation =
  /** `url` in large type and as the QR code; `others` are the machine's other addresses. */
  | { kind: 'open'; url: string; others: string[] }
  /** Bound to a loopback address: only this machine can open the lab. */
  | { kind: 'this-machine-only'; host: string; port: number }
  /** Bound to every interface, but the machine has no network address. */
  | { kind: 'no-network'; port: number }

const WILDCARDS = new Set(['0.0.0.0', '::'])

/**
 * The URL to give the class. A page opened at a name other machines can use
 * (a classroom's IP, a DNS name, a proxy in front of the server) offers its
 * own address first: it is known to reach this server. A page opened at
 * localhost offers the server's network addresses instead.
 */
export function invitation(pageOrigin: string, answer: JoinAnswer): Invitation {
  const own = new URL(pageOrigin)
  const candidates = isLoopbackName(own.hostname) ? answer.urls : [`${own.origin}/`, ...answer.urls]
  const [url, ...others] = [...new Set(candidates)]
  if (url !== undefined) return { kind: 'open', url, others }
  if (WILDCARDS.has(answer.host)) return { kind: 'no-network', port: answer.port }
  return { kind: 'this-machine-only', host: answer.host, port: answer.port }
}

export async function fetchInvitation(baseUrl: string): Promise<Invitation> {
  const response = await fetch(new URL('/api/join', baseUrl), { cache: 'no-store' })
  if (!response.ok) throw new Error(`the server answered ${response.status}`)
  return invitation(baseUrl, (await response.json()) as JoinAnswer)
}

/** A name that means "this machine" wherever it is typed. */
function isLoopbackName(hostname: string): boolean {
  const bare = hostname.replace(/^\[|\]$/g, '')
  return bare === 'localhost' || bare === '::1' || /^127\./.test(bare)
}
