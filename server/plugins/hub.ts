import fp from 'fastify-plugin'
import { Hub } from '../core/hub.ts'

export const hubPlugin = fp(async (app) => {
  const hub = new Hub({ historyLimit: app.config.historyLimit, maxRooms: app.config.maxRooms, maxRoomsPerClient: app.config.maxRoomsPerClient })
  app.decorate('hub', hub)
  app.addHook('onClose', async () => hub.close())
}, { name: 'hub' })
