// What a server alone keeps in memory that it never uses: every module loaded
// is code on the heap that each full GC marks, an idle server's included.
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { beforeAll, describe, expect, it } from 'vitest'

const root = fileURLToPath(new URL('../..', import.meta.url))
const run = promisify(execFile)

/** Builds the app as `npm start` does, in a process of its own, and lists the packages it loaded. */
async function packagesLoaded(env: Record<string, string>): Promise<string[]> {
  const script = `
    import { createRequire } from 'node:module'
    const { buildApp } = await import('./server/app.ts')
    const { loadConfig } = await import('./server/config.ts')
    const app = await buildApp(loadConfig([]))
    await app.ready()
    const loaded = new Set(Object.keys(createRequire(import.meta.url).cache)
      .map((file) => /node_modules\\/((?:@[^/]+\\/)?[^/]+)/.exec(file)?.[1]).filter(Boolean))
    await app.close()
    console.log(JSON.stringify([...loaded]))
  `
  const { stdout } = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: root,
    env: { ...process.env, LOG_LEVEL: 'warn', ...env },
    timeout: 60_000,
  })
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as string[]
}

// One server built alone, without REDIS_URL, read by both tests.
let loaded: string[]
beforeAll(async () => {
  loaded = await packagesLoaded({ REDIS_URL: '' })
}, 70_000)

describe('a server alone', () => {
  it('does not load the Redis client, which only REDIS_URL needs', () => {
    // The packages it does load are listed, so that the absence below is not an empty list's.
    expect(loaded).toEqual(expect.arrayContaining(['fastify', 'socket.io', 'ws']))
    expect(loaded).not.toContain('ioredis')
  })

  it('checks its routes’ schemas with TypeBox, so it never loads Ajv', () => {
    expect(loaded).toEqual(expect.arrayContaining(['fastify', 'find-my-way']))
    expect(loaded).not.toContain('ajv')
  })
})
