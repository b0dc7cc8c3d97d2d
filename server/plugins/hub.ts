import { hostname } from 'node:os'
import fp from 'fastify-plugin'
import { Hub } from '../core/hub.ts'
import { Ticker } from '../core/ticker.ts'
import { RedisLog } from '../scale/redis-log.ts'

export const INSTANCE_HEADER = 'Lab-Instance'

export const hubPlugin = fp(
  async (app) => {
    // With REDIS_URL, the log lives in Redis and this server is one of several: it names itself on every answer.
    const instance = app.config.instanceId || `${hostname()}:${process.pid}`
    const shared = app.config.redisUrl
      ? await RedisLog.connect({
          url: app.config.redisUrl,
          instance,
          historyLimit: app.config.historyLimit,
          presenceRate: app.config.presenceRate,
          log: {
            info: (msg) => app.log.info(msg),
            warn: (obj, msg) => app.log.warn(obj, msg),
          },
        })
      : undefined
    const hub = new Hub({
      historyLimit: app.config.historyLimit,
      maxRooms: app.config.maxRooms,
      maxRoomsPerClient: app.config.maxRoomsPerClient,
      presenceRate: app.config.presenceRate,
      shared,
    })
    app.decorate('hub', hub)
    app.decorate('shared', shared)
    if (shared) app.edge.responseHeaders.push([INSTANCE_HEADER, instance])
    // The ticker room lives with the hub: it only needs the hub, and stops with it.
    const ticker = new Ticker({
      hub,
      hz: app.config.tickerHz,
      onError: (err) => app.log.error({ err }, 'the ticker stopped after an error'),
    })
    app.addHook('onClose', async () => {
      ticker.close()
      hub.close()
      await shared?.close()
    })
  },
  { name: 'hub' },
)
