import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { ConfigError, loadConfig, SETTINGS } from '../../server/config.ts'
import { runServerCommand, startServerProcess } from '../support/process.ts'

describe('configuration', () => {
  it('defaults to port 3000 on 127.0.0.1', () => {
    expect(loadConfig([], {})).toMatchObject({ port: 3000, host: '127.0.0.1', wsCompression: false })
  })

  it('takes the environment, and flags over the environment', () => {
    expect(loadConfig([], { PORT: '4000', HOST: '0.0.0.0' })).toMatchObject({ port: 4000, host: '0.0.0.0' })
    expect(loadConfig(['--port', '5000'], { PORT: '4000' })).toMatchObject({ port: 5000 })
    expect(loadConfig(['--ws-compression', 'on'], {})).toMatchObject({ wsCompression: true })
  })

  it('rejects a bad value with a message that names the setting and what it expects', () => {
    expect(() => loadConfig([], { PORT: 'eighty' })).toThrow(ConfigError)
    expect(() => loadConfig([], { PORT: 'eighty' })).toThrow(
      /PORT=eighty is invalid: expected an integer from 0 to 65535/,
    )
    expect(() => loadConfig(['--nope'], {})).toThrow(/--help/)
    expect(() => loadConfig([], { LOG_LEVEL: 'loud' })).toThrow(/LOG_LEVEL=loud/)
  })

  it('--help lists every setting with its variable and default', async () => {
    const { code, output } = await runServerCommand(['--help'])
    expect(code).toBe(0)
    for (const s of SETTINGS) {
      expect(output).toContain(`--${s.flag}`)
      expect(output).toContain(s.env)
    }
  })

  it('is documented in the README, every setting', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8')
    for (const s of SETTINGS)
      expect(readme).toContain(`\`${s.env}\` (\`--${s.flag}\`) | ${s.default === '' ? '(empty)' : s.default} |`)
  })

  it('exits with status 2 and a clear message on a bad setting', async () => {
    const { code, output } = await runServerCommand([], { PORT: '99999' })
    expect(code).toBe(2)
    expect(output).toMatch(/PORT=99999 is invalid/)
  })

  it('prints the URL it serves at when it starts', async () => {
    const server = await startServerProcess()
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    const page = await fetch(`${server.url}/`)
    expect(page.headers.get('content-type')).toMatch(/text\/html/)
    expect(await page.text()).toMatch(/Transport Lab/)
    server.child.kill('SIGINT')
    expect((await server.exited).code).toBe(0)
  })
})
