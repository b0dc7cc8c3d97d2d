import fp from 'fastify-plugin'
import { Hub } from '../core/hub.ts'
import { Ticker } from '../core/ticker.ts'

export const hubPlugin = fp(
  async (app) => {
    const hub = new Hub({
      historyLimit: app.config.historyLimit,
      maxRooms: app.config.maxRooms,
      maxRoomsPerClient: app.config.maxRoomsPerClient,
    })
    app.decorate('hub', hub)
    // The ticker room lives with the hub: it only needs the hub, and stops with it.
    const ticker = new Ticker({
      hub,
      hz: app.config.tickerHz,
      onError: (err) => app.log.error({ err }, 'the ticker stopped after an error'),
    })
    app.addHook('onClose', async () => {
      ticker.close()
      hub.close()
    })
  },
  { name: 'hub' },
)
