// GET /api/cluster: which server answered, and (with REDIS_URL) the servers
// alive beside it, for the workbench's multi-node view. Alone, the answer
// says so: no Redis, one server.
import type { FastifyPluginAsync } from 'fastify'
import { redisAddress } from '../scale/redis-log.ts'

export interface ClusterView {
  /** This server's INSTANCE_ID; null when it runs alone (no REDIS_URL). */
  instance: string | null
  /** Where the shared log is, without credentials; null when alone. */
  redis: string | null
  /** Every server alive now, by name, this one included. */
  instances: string[]
}

export const clusterRoutes: FastifyPluginAsync = async (app) => {
  app.get('/api/cluster', async (): Promise<ClusterView> => {
    const shared = app.shared
    if (!shared) return { instance: null, redis: null, instances: [] }
    let instances: string[]
    try {
      instances = await shared.instances()
    } catch {
      // Redis is away: this one at least is alive.
      instances = [shared.instance]
    }
    return { instance: shared.instance, redis: redisAddress(app.config.redisUrl), instances }
  })
}
