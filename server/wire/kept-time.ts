// A time an object keeps for as long as a connection lives, as milliseconds
// after this process started rather than since 1970. Date.now() is past 2^31,
// so V8 boxes it: every object that keeps one holds a 16-byte number of its
// own besides its field (npm run bench:heap counts them). A time since the
// start is a small integer, kept in the field itself, for a server's first
// 24 days; later ones are boxed again, and still right.
const START = Date.now()

/** Now, as a kept time. */
export const keptNow = (): number => smallInteger(Date.now() - START)

/** A kept time as Date.now() would have read it. */
export const wallClock = (kept: number): number => START + kept

/**
 * `ms` as V8's small integer where it is one. A difference of two Date.now()s is a whole number, but V8 boxes
 * the result of arithmetic on boxed numbers; `| 0` hands back the same value unboxed (up to 2^31).
 */
export const smallInteger = (ms: number): number => (ms >= 0 && ms <= 0x7fffffff ? ms | 0 : ms)
