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

  it('takes the class code, the instructor code, the secret, the token lifetime and the origins from env and flags', () => {
    const env = {
      CLASS_CODE: 'lumen-42',
      INSTRUCTOR_CODE: 'teach-9',
      AUTH_SECRET: 'sixteen-chars-or-more',
      TOKEN_TTL_MS: '60000',
      ALLOWED_ORIGINS: 'http://a.example:8080, https://b.example',
    }
    expect(loadConfig([], env)).toMatchObject({
      classCode: 'lumen-42',
      instructorCode: 'teach-9',
      authSecret: 'sixteen-chars-or-more',
      tokenTtlMs: 60000,
      allowedOrigins: 'http://a.example:8080, https://b.example',
    })
    const flags = ['--class-code', 'c2', '--instructor-code', 'i2', '--auth-secret', 'another-secret-of-16+']
    expect(loadConfig([...flags, '--token-ttl-ms', '1000', '--allowed-origins', '*'], env)).toMatchObject({
      classCode: 'c2',
      instructorCode: 'i2',
      authSecret: 'another-secret-of-16+',
      tokenTtlMs: 1000,
      allowedOrigins: '*',
    })
    // Empty is the embedded default: open, a random secret, four hours, this machine's own origins.
    expect(loadConfig([], {})).toMatchObject({
      classCode: '',
      instructorCode: '',
      authSecret: '',
      tokenTtlMs: 14_400_000,
      allowedOrigins: '',
    })
  })

  it('refuses a short AUTH_SECRET, a tiny TOKEN_TTL_MS and a bad ALLOWED_ORIGINS, without printing the secret', () => {
    const short = 'hunter2-secret'
    for (const attempt of [
      () => loadConfig([], { AUTH_SECRET: short }),
      () => loadConfig(['--auth-secret', short], {}),
    ]) {
      expect(attempt).toThrow(ConfigError)
      expect(attempt).toThrow(/(AUTH_SECRET|--auth-secret) is invalid: expected at least 16 characters/)
      expect(attempt).not.toThrow(new RegExp(short))
    }
    expect(() => loadConfig([], { TOKEN_TTL_MS: '999' })).toThrow(
      /TOKEN_TTL_MS=999 is invalid: expected an integer from 1000/,
    )
    for (const origins of ['localhost:3000', 'http://a.example/path', 'ftp://a.example', 'http://a.example,,']) {
      expect(() => loadConfig([], { ALLOWED_ORIGINS: origins })).toThrow(
        /ALLOWED_ORIGINS is invalid: .* is not an origin: expected e\.g\. http:\/\/192\.168\.1\.20:3000 or \*/,
      )
    }
  })

  it('exits with status 2 on a short AUTH_SECRET and never prints it', async () => {
    const secret = 'tiny-s3cret'
    const { code, output } = await runServerCommand([], { AUTH_SECRET: secret, CLASS_CODE: 'lumen-42' })
    expect(code).toBe(2)
    expect(output).toMatch(/AUTH_SECRET is invalid: expected at least 16 characters/)
    expect(output).not.toContain(secret)
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
