// The latest `npm run bench` results, for the UI's Benchmarks tab.
import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import fp from 'fastify-plugin'
import { LabError } from '../core/errors.ts'

const LATEST = fileURLToPath(new URL('../../benchmarks/results/latest.json', import.meta.url))

export const benchResults = fp(
  async (app) => {
    app.get('/api/bench', async (_request, reply) => {
      let text: string
      try {
        text = await readFile(LATEST, 'utf8')
      } catch {
        throw new LabError(
          'LAB_ERR_NOT_FOUND',
          'no benchmark results yet: run `npm run bench` (a complete default run writes them; a --quick run writes its own, in quick/)',
        )
      }
      return reply.type('application/json; charset=utf-8').send(text)
    })
  },
  { name: 'bench-results' },
)
