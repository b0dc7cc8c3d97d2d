// Starts the real app on a free port, as the tests' one way to get a server.
import type { FastifyInstance } from 'fastify'
import { buildApp, type BuildOptions } from '../../server/app.ts'
import { defaultConfig, type Config } from '../../server/config.ts'

export interface RunningServer {
  app: FastifyInstance
  url: string
  port: number
  close(): Promise<void>
}

export async function startServer(overrides: Partial<Config> = {}, options: BuildOptions = {}): Promise<RunningServer> {
  const config: Config = {
    ...defaultConfig,
    port: 0,
    host: '127.0.0.1',
    logLevel: process.env.LOG_LEVEL ?? 'silent',
    ...overrides,
  }
  const app = await buildApp(config, options)
  // Port 0 unless a test asks for a given one (to restart a server where its clients will reconnect).
  await app.listen({ port: config.port, host: '127.0.0.1' })
  const address = app.server.address()
  if (!address || typeof address !== 'object') throw new Error('server has no address')
  const url = `http://127.0.0.1:${address.port}`
  return { app, url, port: address.port, close: () => app.close() }
}
