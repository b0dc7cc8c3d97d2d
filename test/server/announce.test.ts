// The start-up banner comes after the log line that says where the server is,
// in one destination: pino writes from a thread pool, and a banner written to
// stdout beside it once came first, which put the cluster's own banner above
// an instance's last line (lesson 17 failed on it in CI).
import { PassThrough } from 'node:stream'
import { afterEach, describe, expect, it } from 'vitest'
import { announce } from '../../server/announce.ts'
import { startServerProcess, type ServerProcess } from '../support/process.ts'
import { startServer, type RunningServer } from '../support/server.ts'

let server: RunningServer | undefined
let process_: ServerProcess | undefined
afterEach(async () => {
  await server?.close()
  server = undefined
  process_?.child.kill('SIGKILL')
  process_ = undefined
})

describe('the start-up banner', () => {
  it('is written to the log destination after the "serving" line', async () => {
    const destination = new PassThrough()
    let written = ''
    destination.on('data', (chunk: Buffer) => (written += chunk.toString()))
    server = await startServer({ logLevel: 'info' }, { logStream: destination })
    announce(server.app, { host: '127.0.0.1', classCode: '', instructorCode: '' }, server.port, (text) =>
      destination.write(text),
    )
    const serving = written.indexOf(`"msg":"Transport Lab is serving at http://127.0.0.1:${server.port}/"`)
    const banner = written.indexOf(`\n  Transport Lab: http://127.0.0.1:${server.port}/\n  Open: anyone`)
    expect(serving).toBeGreaterThan(0)
    expect(banner).toBeGreaterThan(serving)
  })

  it('is the last thing `npm start` prints: its log lines are all out before it', async () => {
    process_ = await startServerProcess({ LOG_LEVEL: 'info' })
    // What had arrived when the banner was seen, as the cluster runner reads an instance.
    const printed = process_.output()
    const serving = printed.indexOf('"msg":"Transport Lab is serving at')
    expect(serving, printed).toBeGreaterThanOrEqual(0)
    expect(printed.indexOf('  Transport Lab: http')).toBeGreaterThan(serving)
  })
})
