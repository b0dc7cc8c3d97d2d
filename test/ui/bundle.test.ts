// What the browser downloads: ui/dist as `npm start` builds it. The page
// takes its names and limits from server/core/names.ts, never the schemas,
// so the validator stays on the server; and Lit runs its production build.
import { readdirSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { beforeAll, describe, expect, it } from 'vitest'
import { buildUi, uiIsStale } from '../../ui/build.ts'

const assets = fileURLToPath(new URL('../../ui/dist/assets/', import.meta.url))

describe('the built workbench bundle', () => {
  let code = ''

  beforeAll(async () => {
    if (uiIsStale()) await buildUi()
    code = readdirSync(assets)
      .filter((f) => f.endsWith('.js'))
      .map((f) => readFileSync(assets + f, 'utf8'))
      .join('\n')
  }, 120_000)

  it('does not ship TypeBox: the UI imports plain values, not schemas', () => {
    expect(code.length).toBeGreaterThan(0)
    expect(code.includes('TypeBox.Kind'), 'TypeBox is in ui/dist').toBe(false)
  })

  it("ships Lit's production build, which does not warn that Lit is in dev mode", () => {
    expect(code.includes('lit-html'), 'Lit is in ui/dist').toBe(true)
    expect(code.includes('Lit is in dev mode'), "Lit's development build is in ui/dist").toBe(false)
  })
})
