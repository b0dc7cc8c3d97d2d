// The lessons API that the workbench's Lessons tab reads, served from a
// temporary lessons folder so the test never depends on (or touches) lessons/.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startServer, type RunningServer } from '../support/server.ts'

const SAMPLE = `# 02 · Polling, short and long

**Goal**: see why asking again costs a request every time.

\`\`\`sh
# a shell comment is not a heading
curl 'http://localhost:3000/poll?room=l02'
\`\`\`
`

describe('GET /api/lessons', () => {
  let root: string
  let dir: string
  let server: RunningServer

  beforeAll(async () => {
    // A secret file beside the lessons folder: the target of every traversal attempt below.
    root = mkdtempSync(join(tmpdir(), 'lab-lessons-'))
    dir = join(root, 'lessons')
    writeFileSync(join(root, 'secret.md'), 'not a lesson')
    mkdirSync(dir)
    writeFileSync(join(dir, '02-polling.md'), SAMPLE)
    writeFileSync(join(dir, '01-hello.md'), '```sh\n# not the title\n```\n\n# 01 · Hello, transports\n\nText.\n')
    writeFileSync(join(dir, '03-untitled.md'), 'No heading at all.\n')
    writeFileSync(join(dir, 'FORMAT.md'), '# How a lesson is written\n')
    writeFileSync(join(dir, '4-bad-number.md'), '# Not listed\n')
    writeFileSync(join(dir, '05-Upper.md'), '# Not listed either\n')
    server = await startServer({}, { lessonsDir: dir })
  })

  afterAll(async () => {
    await server?.close()
    rmSync(root, { recursive: true, force: true })
  })

  it('lists the NN-topic.md files in order, each with its number and the title of its first heading', async () => {
    const res = await fetch(`${server.url}/api/lessons`)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/^application\/json/)
    expect(await res.json()).toEqual([
      { slug: '01-hello', number: 1, title: 'Hello, transports' },
      { slug: '02-polling', number: 2, title: 'Polling, short and long' },
      { slug: '03-untitled', number: 3, title: 'untitled' },
    ])
  })

  it('reads the folder on every request, so a new lesson shows without a restart', async () => {
    writeFileSync(join(dir, '09-late.md'), '# 09 · Written later\n')
    try {
      const slugs = ((await (await fetch(`${server.url}/api/lessons`)).json()) as Array<{ slug: string }>).map(
        (l) => l.slug,
      )
      expect(slugs).toContain('09-late')
    } finally {
      rmSync(join(dir, '09-late.md'))
    }
  })

  it('serves one lesson as markdown, exactly as written', async () => {
    const res = await fetch(`${server.url}/api/lessons/02-polling`)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('text/markdown; charset=utf-8')
    expect(await res.text()).toBe(SAMPLE)
  })

  it('answers an unknown lesson with the JSON 404 error', async () => {
    for (const slug of ['08-missing', 'FORMAT', '4-bad-number', '05-Upper', '02-polling.md']) {
      const res = await fetch(`${server.url}/api/lessons/${encodeURIComponent(slug)}`)
      expect(res.status, slug).toBe(404)
      expect(await res.json(), slug).toMatchObject({ type: 'error', code: 'LAB_ERR_NOT_FOUND' })
    }
  })

  it('refuses paths that try to leave the lessons folder', async () => {
    for (const path of [
      '..%2Fsecret',
      '..%2F..%2Fsecret',
      '%2E%2E%2Fsecret',
      '02-polling%2F..%2F..%2Fsecret',
      '..%5Csecret',
    ]) {
      const res = await fetch(`${server.url}/api/lessons/${path}`)
      expect(res.status, path).toBe(404)
      const body = await res.text()
      expect(body, path).not.toContain('not a lesson')
      expect(JSON.parse(body), path).toMatchObject({ type: 'error', code: 'LAB_ERR_NOT_FOUND' })
    }
    // Unencoded, the URL is normalized before it reaches the server: still nothing outside the folder.
    const res = await server.app.inject({ method: 'GET', url: '/api/lessons/../../secret.md' })
    expect(res.statusCode).toBe(404)
    expect(res.body).not.toContain('not a lesson')
  })

  it('lists nothing when the folder does not exist', async () => {
    const empty = await startServer({}, { lessonsDir: join(root, 'nowhere') })
    try {
      expect(await (await fetch(`${empty.url}/api/lessons`)).json()).toEqual([])
    } finally {
      await empty.close()
    }
  })
})
