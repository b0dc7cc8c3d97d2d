// The lessons for the workbench's Lessons tab: the list and each lesson's
// markdown, read from disk on every request so that an edited lesson shows on
// the next reload, without a restart. Only names of the lesson form are ever
// opened, so a request can never reach another file.
import { readFile, readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import fp from 'fastify-plugin'
import { Type, type Static } from '@sinclair/typebox'
import { LabError } from '../core/errors.ts'

export const LESSONS_DIR = fileURLToPath(new URL('../../lessons/', import.meta.url))

const LESSON_FILE = /^\d\d-[a-z0-9-]+\.md$/
const LESSON_SLUG = /^\d\d-[a-z0-9-]+$/

export const LessonSummary = Type.Object({
  slug: Type.String({ description: 'the file name without .md, e.g. 07-raw-websocket-chat' }),
  number: Type.Integer({ description: 'NN from the file name' }),
  title: Type.String({ description: 'the first "# " heading, without its "NN ·" prefix' }),
})
export type LessonSummary = Static<typeof LessonSummary>

const ErrorReply = Type.Object({ type: Type.Literal('error'), code: Type.String(), message: Type.String() })

export interface LessonsOptions {
  /** Where the NN-topic.md files are; tests point it at a temporary folder. */
  dir?: string
}

export const lessonRoutes = fp<LessonsOptions>(
  async (app, options) => {
    const dir = options.dir ?? LESSONS_DIR

    // The class notes' chat page (lesson 08), served as the notes serve theirs from public/.
    // One named route, not a static folder: see ui.ts on wildcards and upgrades.
    app.get('/class-notes/', async (_request, reply) => {
      const page = await readFile(join(LESSONS_DIR, 'public', 'class-notes.html'), 'utf8')
      return reply.type('text/html; charset=utf-8').header('cache-control', 'no-cache').send(page)
    })

    app.get(
      '/api/lessons',
      {
        schema: { response: { 200: Type.Array(LessonSummary) } },
      },
      async (_request, reply) => {
        void reply.header('cache-control', 'no-cache')
        const files = await lessonFiles(dir)
        return Promise.all(files.map(async (file) => summarize(file, await readFile(join(dir, file), 'utf8'))))
      },
    )

    app.get(
      '/api/lessons/:slug',
      {
        schema: { params: Type.Object({ slug: Type.String() }), response: { 404: ErrorReply } },
      },
      async (request, reply) => {
        const { slug } = request.params as { slug: string }
        const file = `${slug}.md`
        if (!LESSON_SLUG.test(slug) || !(await lessonFiles(dir)).includes(file))
          throw new LabError(
            'LAB_ERR_NOT_FOUND',
            `no lesson named ${JSON.stringify(slug)}: GET /api/lessons lists them`,
          )
        const markdown = await readFile(join(dir, file), 'utf8')
        return reply.type('text/markdown; charset=utf-8').header('cache-control', 'no-cache').send(markdown)
      },
    )
  },
  { name: 'lesson-routes', dependencies: ['error-replies'] },
)

/** Lesson file names in order; a missing folder is an empty course, not an error. */
async function lessonFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => [])
  return entries
    .filter((e) => e.isFile() && LESSON_FILE.test(e.name))
    .map((e) => e.name)
    .sort()
}

function summarize(file: string, markdown: string): LessonSummary {
  const slug = file.slice(0, -'.md'.length)
  const heading = firstHeading(markdown)
  // The number is its own field, so "07 · Raw WebSocket chat" lists as "Raw WebSocket chat".
  const title = heading?.replace(/^\d+\s*[·.:\-–—]\s*/, '').trim() || slug.slice(3).replace(/-/g, ' ')
  return { slug, number: Number(slug.slice(0, 2)), title }
}

/** The first level-1 heading outside code blocks, where "# " starts a shell comment. */
function firstHeading(markdown: string): string | undefined {
  let fence: string | undefined
  for (const line of markdown.split(/\r?\n/)) {
    const marker = /^ {0,3}(`{3,}|~{3,})/.exec(line)?.[1]
    if (marker && (fence === undefined || (marker[0] === fence[0] && marker.length >= fence.length))) {
      fence = fence === undefined ? marker : undefined
      continue
    }
    if (fence !== undefined) continue
    const heading = /^ {0,3}# +(.*?)(?: +#+)? *$/.exec(line)?.[1]
    if (heading) return heading
  }
  return undefined
}
