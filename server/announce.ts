// What a started server tells the terminal: one log line, then the banner a
// person reads. pino writes in the background, so the banner waits for the
// line to be out: it is then always the last thing on the terminal, and the
// cluster runner, which takes an instance's banner as its sign of life, has
// every line that instance wrote before it.
import type { FastifyBaseLogger, FastifyInstance } from 'fastify'
import { servedUrls } from './addresses.ts'
import type { Config } from './config.ts'

export async function announce(
  app: FastifyInstance,
  config: Pick<Config, 'host' | 'classCode' | 'instructorCode'>,
  port: number,
  write: (text: string) => void = (text) => process.stdout.write(text),
): Promise<void> {
  const [first, ...others] = servedUrls(config.host, port)
  // The other addresses only when there are some: the usual line stays as lesson 13 reads it.
  app.log.info(others.length > 0 ? { urls: [first, ...others] } : {}, `Transport Lab is serving at ${first}`)
  // Fastify's logger type leaves out flush(); the logger itself is pino's, which has it.
  const log = app.log as FastifyBaseLogger & { flush(done: () => void): void }
  await new Promise<void>((resolve) => log.flush(() => resolve()))
  const network = others.map((url) => `  On your network: ${url}\n`).join('')
  // The codes themselves are never printed: the banner may be on the projector.
  const access = config.classCode
    ? `  Class code required: students log in with it at ${first}\n`
    : '  Open: anyone who can reach it joins (set CLASS_CODE to ask for a code)\n'
  const instructor = config.instructorCode ? '  Instructor actions need the instructor code\n' : ''
  write(`\n  Transport Lab: ${first}\n${network}${access}${instructor}\n`)
}
