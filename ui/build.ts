// `npm start` runs this first: it builds ui/dist when it is missing or older
// than any source it is made from, and does nothing otherwise.
import { existsSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const built = join(root, 'ui/dist/index.html')
// package-lock.json: the page bundles its dependencies (lit, chart.js, marked, dompurify), so an upgrade rebuilds it too.
const sources = [
  'ui/src',
  'ui/index.html',
  'ui/vite.config.ts',
  'server/core',
  'benchmarks/schema.ts',
  'benchmarks/subjects.ts',
  'benchmarks/report',
  'package-lock.json',
].map((p) => join(root, p))

function newestMtime(path: string): number {
  if (!existsSync(path)) return 0
  const stat = statSync(path)
  if (!stat.isDirectory()) return stat.mtimeMs
  return Math.max(0, ...readdirSync(path).map((name) => newestMtime(join(path, name))))
}

export function uiIsStale(): boolean {
  return !existsSync(built) || Math.max(...sources.map(newestMtime)) > statSync(built).mtimeMs
}

export async function buildUi(): Promise<void> {
  const { build } = await import('vite')
  await build({ configFile: join(root, 'ui/vite.config.ts'), logLevel: 'warn' })
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const force = process.argv.includes('--force')
  if (force || uiIsStale()) {
    process.stdout.write('Building the workbench UI (ui/dist)...\n')
    await buildUi()
    process.stdout.write('UI built.\n')
  }
}
