// The cluster runner polls the same way: one loop for both.
import { waitFor } from '../../cluster/children.ts'

/** Polls a condition (read at once, or asked of the server) until it holds; tests wait for events, never for fixed sleeps. */
export function until<T>(
  read: () => T | undefined | false | Promise<T | undefined | false>,
  what: string,
  timeoutMs = 5000,
): Promise<T> {
  return waitFor(read, what, timeoutMs, 5)
}
