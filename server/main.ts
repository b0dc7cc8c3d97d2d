// Process entry: read the config, listen, and shut down gracefully on
// SIGINT/SIGTERM: held long polls answered, SSE streams ended, WebSockets
// closed with 1001, Socket.IO clients disconnected.
import pino from 'pino'
import { announce } from './announce.ts'
import { buildApp } from './app.ts'
import { ConfigError, helpText, loadConfig } from './config.ts'
import { SharedLogUnavailable } from './scale/redis-log.ts'

async function main(): Promise<void> {
  let config
  try {
    config = loadConfig()
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`transport-lab: ${error.message}\n`)
      process.exit(2)
    }
    throw error
  }
  if (config === 'help') {
    process.stdout.write(`${helpText()}\n`)
    return
  }

  // The log's destination is made here, as Fastify would make it (pino's, on stdout, written from a thread pool),
  // so that the banner can go to it too, after the line before it (see announce).
  const output = pino.destination({ dest: 1, sync: false })
  let app
  try {
    app = await buildApp(config, { logStream: output })
  } catch (error) {
    // Redis named in REDIS_URL cannot be reached: say so and stop, rather than serve half a cluster.
    if (error instanceof SharedLogUnavailable) {
      process.stderr.write(`transport-lab: ${error.message}\n`)
      process.exit(1)
    }
    throw error
  }
  await app.listen({ port: config.port, host: config.host })
  const address = app.server.address()
  const port = typeof address === 'object' && address ? address.port : config.port
  announce(app, config, port, (text) => output.write(text))

  let stopping = false
  const stop = (signal: string) => {
    if (stopping) return
    stopping = true
    app.log.info({ signal }, 'shutting down')
    // Whatever is still open after the grace period does not hold the process.
    setTimeout(() => {
      app.log.warn('shutdown took too long; exiting anyway')
      process.exit(1)
    }, config.shutdownGraceMs).unref()
    app.close().then(
      () => process.exit(0),
      (error: unknown) => {
        app.log.error({ err: error }, 'error while shutting down')
        process.exit(1)
      },
    )
  }
  process.once('SIGINT', () => stop('SIGINT'))
  process.once('SIGTERM', () => stop('SIGTERM'))
}

main().catch((error: unknown) => {
  process.stderr.write(`transport-lab: ${error instanceof Error ? error.stack : String(error)}\n`)
  process.exit(1)
})
