// The README's dependency table says why each package is installed. It stays
// true only if a package cannot be added or dropped without the table.
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'

const root = new URL('../../', import.meta.url)
const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as {
  dependencies: Record<string, string>
  devDependencies: Record<string, string>
}
const readme = readFileSync(new URL('README.md', root), 'utf8')

/** The packages named in the first column of the table under "## Dependencies". */
function tabled(): string[] {
  const section = readme.split(/^## Dependencies$/m)[1]?.split(/^## /m)[0] ?? ''
  return section
    .split('\n')
    .filter((line) => line.startsWith('| ') && !line.startsWith('| package') && !line.startsWith('| ---'))
    .flatMap((line) => line.split('|')[1]!.split(','))
    .map((name) => name.trim())
}

describe("the README's dependency table", () => {
  const installed = [...Object.keys(pkg.dependencies), ...Object.keys(pkg.devDependencies)].sort()

  it('says why every installed package is there', () => {
    expect(installed.filter((name) => !tabled().includes(name))).toEqual([])
  })

  it('names no package that is not installed', () => {
    expect(tabled().filter((name) => !installed.includes(name))).toEqual([])
  })
})
