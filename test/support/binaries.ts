// System packages some tests need (redis-server, nginx). Like Chromium in
// browser.ts: missing locally, the test file is skipped with a message naming
// the package; with CI=true it is an error, so CI cannot pass without them.
import { findBinary } from '../../cluster/children.ts'

const inCI = process.env.CI === 'true'

/**
 * Whether `name` is installed (on PATH or in Debian's sbin directories). Use as
 * `describe.skipIf(!requireBinary('redis-server', 'redis-server'))`.
 */
export function requireBinary(name: string, aptPackage: string, needs = 'these tests'): boolean {
  if (findBinary(name)) return true
  const message = `${name} not found: ${needs} ${inCI ? 'are required in CI' : 'are skipped'} (apt-get install ${aptPackage})`
  if (inCI) throw new Error(message)
  console.warn(message)
  return false
}
