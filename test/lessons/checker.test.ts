// The checker that keeps the lessons honest must itself catch a lesson that no
// longer holds, name where, and let through only the variation a lesson marks.
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { describeDifference, outputMatches } from './expect.ts'
import { parseLesson } from './lesson.ts'
import { isClusterCommand, missingBinaries, parseServerCommand, root, runLesson } from './run.ts'

const fixture = (name: string) => join(root, 'test', 'lessons', 'fixtures', name)

describe('expected output', () => {
  it('matches a {{placeholder}} to any text on one line', () => {
    expect(outputMatches('joined lobby (epoch {{epoch}})', 'joined lobby (epoch k3x9)')).toBe(true)
    expect(outputMatches('joined lobby (epoch {{epoch}})', 'joined lobby (epoch )')).toBe(false)
    expect(outputMatches('a {{x}} c', 'a b\nc')).toBe(false)
  })

  it('matches a ... line to any number of lines, none included', () => {
    expect(outputMatches('first\n...\nlast', 'first\nlast')).toBe(true)
    expect(outputMatches('first\n...\nlast', 'first\none\ntwo\nlast')).toBe(true)
    expect(outputMatches('first\n...\nlast', 'first\none\ntwo')).toBe(false)
  })

  it('holds every other character to what is written', () => {
    expect(outputMatches('seq 12', 'seq 13')).toBe(false)
    expect(outputMatches('a.b', 'axb')).toBe(false)
    expect(outputMatches('one\ntwo', 'one\ntwo\nthree')).toBe(false)
  })

  it('ignores colours, carriage returns, trailing spaces and a blank tail', () => {
    expect(outputMatches('ok\ndone', '\u001b[32mok\u001b[39m  \r\ndone\n\n')).toBe(true)
  })

  it('marks only the lines that really differ', () => {
    const diff = describeDifference('joined ({{epoch}})\n...\nseq 12\nend', 'joined (k3x9)\nnoise\nseq 13\nend')
    expect(diff.split('\n')).toEqual(['  joined (k3x9)', '  noise', '- seq 12', '+ seq 13', '  end'])
  })
})

describe('reading a lesson', () => {
  it('pairs each runnable block with the text block after it and skips what is only shown', () => {
    const steps = parseLesson(readFileSync(fixture('01-passing.md'), 'utf8'))
    expect(steps.map((step) => [step.kind, step.line, step.expected?.line])).toEqual([
      ['file', 7, undefined],
      ['shell', 19, 23],
      ['shell', 28, 32],
      ['server', 38, 42],
      ['shell', 48, 52],
    ])
    expect(steps[1]!.meta).toEqual({ terminal: '2', ready: 'joined' })
  })

  it('reads the settings of a server step', () => {
    expect(parseServerCommand('WS_COMPRESSION=true TICKER_HZ=10 npm start -- --log-level warn')).toEqual({
      env: { WS_COMPRESSION: 'true', TICKER_HZ: '10' },
      args: ['--log-level', 'warn'],
    })
    expect(() => parseServerCommand('node server/main.ts')).toThrow(/npm start/)
  })

  it('tells a server step that starts the cluster from one that starts the server', () => {
    expect(isClusterCommand('npm run cluster | tee cluster.txt')).toBe(true)
    expect(isClusterCommand('CLUSTER_INSTANCES=3 npm run cluster -- --instances 3')).toBe(true)
    expect(isClusterCommand('npm start')).toBe(false)
    expect(isClusterCommand('npm run clusters')).toBe(false)
  })

  it('names the system package of each binary a lesson runs that this machine lacks', () => {
    const steps = parseLesson('```sh\nredis-cli -p 1 ping\n```\n\n```sh server\nnpm run cluster\n```\n')
    expect(missingBinaries(steps, () => false)).toEqual([
      'redis-server (apt-get install redis-server)',
      'redis-cli (apt-get install redis-tools)',
      'nginx (apt-get install nginx)',
    ])
    expect(missingBinaries(steps, (binary) => binary !== 'nginx')).toEqual(['nginx (apt-get install nginx)'])
    expect(missingBinaries(parseLesson('```sh\ncurl -s http://localhost:3000/\n```\n'), () => false)).toEqual([])
  })
})

describe('running a lesson', () => {
  it('passes a lesson whose every step prints what it shows, across two terminals and a restart', async () => {
    await runLesson(fixture('01-passing.md'))
  }, 60_000)

  it('fails a lesson the server no longer bears out, naming the file, the line and a diff', async () => {
    const error = await runLesson(fixture('02-broken.md')).then(
      () => undefined,
      (e: unknown) => e as Error,
    )
    expect(error?.message).toContain('test/lessons/fixtures/02-broken.md:12: the output of the step at line 7 differs')
    expect(error?.message).toContain('- 404\n+ 200')
  }, 60_000)

  it('writes what was printed into a block that differs when asked to update', async () => {
    const dir = join(root, 'test-artifacts', 'lesson-update')
    mkdirSync(dir, { recursive: true })
    const copy = join(dir, '02-broken.md')
    copyFileSync(fixture('02-broken.md'), copy)
    await expect(runLesson(copy, { update: true })).rejects.toThrow(/differs/)
    await runLesson(copy)
    expect(readFileSync(copy, 'utf8')).toContain('```text\n200\n"epoch":""\n```')
  }, 60_000)
})
