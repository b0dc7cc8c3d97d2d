// Which servers are behind this page (GET /api/cluster). A server alone (no
// REDIS_URL) answers with no instances, and the page shows nothing of a
// cluster; behind the cluster's balancer the list of instances alive is read
// again every few seconds, so a killed one drops out of the view and a pin.

/** GET /api/cluster's answer, as server/plugins/cluster.ts's ClusterView says (that file is Fastify's, not the page's). */
interface ClusterView {
  instance: string | null
  redis: string | null
  instances: string[]
}

/** How often the instances alive are read again: an instance's alive key lasts 5 s, so 2 s shows a death within 7. */
export const CLUSTER_READ_MS = 2000
/** The first answer is waited for before the panels join (lab.ts): no longer than this. */
const FIRST_READ_TIMEOUT_MS = 3000

export class ClusterStore extends EventTarget {
  /** The servers alive, by INSTANCE_ID; empty when the server runs alone or has not answered. */
  instances: string[] = []
  /** Where the shared log is, as the server names it (no credentials). */
  redis: string | null = null
  /** The instance that answered the latest reading (the one this page's own requests are hashed to). */
  answeredBy: string | null = null
  /** Whether the server has answered at all: until then the page cannot tell a cluster from a server alone. */
  answered = false
  private readonly baseUrl: string
  private timer: ReturnType<typeof setTimeout> | undefined
  private first: Promise<void> | undefined

  constructor(baseUrl: string) {
    super()
    this.baseUrl = baseUrl
  }

  /** Behind a balancer: the server answered with an instance id of its own. */
  get clustered(): boolean {
    return this.answeredBy !== null
  }

  /**
   * Reads once, then again every CLUSTER_READ_MS while the servers form a cluster (or have not answered yet).
   * Resolves after the first reading, or FIRST_READ_TIMEOUT_MS, whichever comes first.
   */
  start(): Promise<void> {
    this.first ??= Promise.race([
      this.readAndSchedule(),
      new Promise<void>((resolve) => setTimeout(resolve, FIRST_READ_TIMEOUT_MS)),
    ])
    return this.first
  }

  stop(): void {
    clearTimeout(this.timer)
    this.timer = undefined
  }

  private async readAndSchedule(): Promise<void> {
    await this.read()
    // A server alone stays alone until it is restarted with REDIS_URL, which reloads no page: stop asking.
    if (this.answered && !this.clustered) return
    this.timer = setTimeout(() => void this.readAndSchedule(), CLUSTER_READ_MS)
  }

  private async read(): Promise<void> {
    try {
      const res = await fetch(`${this.baseUrl}/api/cluster`, {
        cache: 'no-store',
        signal: AbortSignal.timeout(FIRST_READ_TIMEOUT_MS),
      })
      // A server from before the cluster has no such route: it is alone. A balancer's 502 is a moment of failover.
      if (res.status === 404) {
        this.answered = true
        return
      }
      if (!res.ok) return
      const view = (await res.json()) as ClusterView
      this.answered = true
      this.answeredBy = view.instance
      this.redis = view.redis
      this.instances = [...view.instances].sort()
      this.dispatchEvent(new Event('change'))
    } catch {
      // The balancer or the instance is away for now: the last list stands until the next reading.
    }
  }
}
