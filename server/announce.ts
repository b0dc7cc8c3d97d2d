// What a started server tells the terminal: one log line, then the banner a
// person reads, written after it to the same destination. pino writes from a
// thread pool, so a banner written to stdout beside it could come first; the
// cluster runner, which takes an instance's banner as its sign of life, then
// printed its own banner above that instance's last line (lesson 17 saw it).
import type { FastifyInstance } from 'fastify'
import { servedUrls } from './addresses.ts'
import type { Config } from './config.ts'

/** Logs where the server is, then writes the banner with `write`: the log's own destination. */
export function announce(
  app: FastifyInstance,
  config: Pick<Config, 'host' | 'classCode' | 'instructorCode'>,
  port: number,
  write: (text: string) => void,
): void {
  const [first, ...others] = servedUrls(config.host, port)
  // The other addresses only when there are some: the usual line stays as lesson 13 reads it.
  app.log.info(others.length > 0 ? { urls: [first, ...others] } : {}, `Transport Lab is serving at ${first}`)
  const network = others.map((url) => `  On your network: ${url}\n`).join('')
  // The codes themselves are never printed: the banner may be on the projector.
  const access = config.classCode
    ? `  Class code required: students log in with it at ${first}\n`
    : '  Open: anyone who can reach it joins (set CLASS_CODE to ask for a code)\n'
  const instructor = config.instructorCode ? '  Instructor actions need the instructor code\n' : ''
  write(`\n  Transport Lab: ${first}\n${network}${access}${instructor}\n`)
}
