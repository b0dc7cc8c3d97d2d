// The start-up banner is the last thing a started server prints: pino writes
// its lines in the background, and a banner that overtook the "serving" line
// left that line below it on the terminal and, in the cluster, after the
// cluster's own banner (lesson 17 read it in the wrong order).
import { Writable } from 'node:stream'
import { afterEach, describe, expect, it } from 'vitest'
import { announce } from '../../server/announce.ts'
import { startServer, type RunningServer } from '../support/server.ts'

/** A log destination like pino's own: it holds what it is given until it is flushed. */
class DeferredLog extends Writable {
  private held: string[] = []
  private readonly printed: string[]
  constructor(printed: string[]) {
    super()
    this.printed = printed
  }
  override _write(chunk: Buffer, _encoding: string, done: () => void): void {
    this.held.push(chunk.toString())
    done()
  }
  flush(done: () => void): void {
    setImmediate(() => {
      this.printed.push(...this.held.splice(0).map((line) => (JSON.parse(line) as { msg: string }).msg))
      done()
    })
  }
}

let server: RunningServer | undefined
afterEach(async () => {
  await server?.close()
  server = undefined
})

describe('the start-up banner', () => {
  it('comes after the "serving" log line has been written out, never before it', async () => {
    const printed: string[] = []
    server = await startServer({ logLevel: 'info' }, { logStream: new DeferredLog(printed) })
    await announce(server.app, { host: '127.0.0.1', classCode: '', instructorCode: '' }, server.port, (text) =>
      printed.push(text),
    )
    // Fastify's own "listening" line is held too, and goes out with it.
    expect(printed.slice(-2)).toEqual([
      `Transport Lab is serving at http://127.0.0.1:${server.port}/`,
      `\n  Transport Lab: http://127.0.0.1:${server.port}/\n  Open: anyone who can reach it joins (set CLASS_CODE to ask for a code)\n\n`,
    ])
  })
})
