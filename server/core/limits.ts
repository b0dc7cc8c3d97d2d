// Limits that keep one client from hurting the others, the same on every
// transport: a message rate per connection (or HTTP session), and a count of
// clients per address. Each transport says "no" in its own idiom; the
// decisions and the codes are made here once.
import { LabError } from './errors.ts'

export type Verdict = 'ok' | 'refused' | 'abusive'

/** One clock for every bucket: each connection has a bucket, and a bound function each would be kept as long. */
const monotonicNow = (): number => performance.now()

/**
 * A token bucket: `ratePerSecond` sustained, `burst` at once. A client that
 * keeps sending into an empty bucket (more refusals in a row than the burst)
 * is abusive, and its transport may close it.
 */
export class TokenBucket {
  private tokens: number
  private refusedInARow = 0
  private updatedAt: number
  private readonly rate: number
  private readonly burst: number
  private readonly now: () => number

  constructor(ratePerSecond: number, burst: number, now: () => number = monotonicNow) {
    this.rate = ratePerSecond / 1000
    this.burst = Math.max(1, burst)
    this.tokens = this.burst
    this.now = now
    this.updatedAt = now()
  }

  take(): Verdict {
    const now = this.now()
    this.tokens = Math.min(this.burst, this.tokens + (now - this.updatedAt) * this.rate)
    this.updatedAt = now
    if (this.tokens >= 1) {
      this.tokens -= 1
      this.refusedInARow = 0
      return 'ok'
    }
    this.refusedInARow++
    return this.refusedInARow > this.burst ? 'abusive' : 'refused'
  }

  /** Gives back what the last take() took: for limits that count only failures (a wrong login code). */
  refund(): void {
    this.tokens = Math.min(this.burst, this.tokens + 1)
  }

  /** True once the bucket has refilled: nothing to remember about this client. */
  get full(): boolean {
    return this.tokens + (this.now() - this.updatedAt) * this.rate >= this.burst
  }

  /** Milliseconds until the next message would be accepted. */
  retryAfterMs(): number {
    return this.tokens >= 1 ? 0 : Math.ceil((1 - this.tokens) / this.rate)
  }
}

export interface RateOptions {
  /** Messages per second; 0 turns the limit off. */
  ratePerSecond: number
  burst: number
}

/** One bucket per key (a session, or an address for clients without one); idle keys are forgotten. */
export class RateLimiter {
  private readonly buckets = new Map<string, TokenBucket>()
  private readonly options: RateOptions
  private readonly sweep: NodeJS.Timeout

  constructor(options: RateOptions) {
    this.options = options
    this.sweep = setInterval(() => {
      for (const [key, bucket] of this.buckets) if (bucket.full) this.buckets.delete(key)
    }, 10_000)
    this.sweep.unref()
  }

  /** Throws LAB_ERR_RATE_LIMIT when `key` is over its rate (marked abusive when it keeps sending into the limit). */
  check(key: string): void {
    const bucket = this.bucket(key)
    const verdict = bucket?.take() ?? 'ok'
    if (verdict !== 'ok') throw rateLimited(bucket!, verdict === 'abusive')
  }

  bucket(key: string): TokenBucket | undefined {
    if (this.options.ratePerSecond <= 0) return undefined
    let bucket = this.buckets.get(key)
    if (!bucket) this.buckets.set(key, (bucket = new TokenBucket(this.options.ratePerSecond, this.options.burst)))
    return bucket
  }

  close(): void {
    clearInterval(this.sweep)
  }
}

/** A bucket for one connection, or undefined when the limit is off. */
export function newBucket(options: RateOptions): TokenBucket | undefined {
  return options.ratePerSecond > 0 ? new TokenBucket(options.ratePerSecond, options.burst) : undefined
}

export function rateLimited(bucket: TokenBucket, abusive = false): LabError {
  const seconds = Math.max(1, Math.ceil(bucket.retryAfterMs() / 1000))
  const error = new LabError('LAB_ERR_RATE_LIMIT', `too many messages: slow down (try again in ${seconds} s)`)
  error.retryAfterSeconds = seconds
  error.hangUp = abusive
  return error
}

/**
 * How many clients each address has on one transport. acquire() throws
 * LAB_ERR_TOO_MANY_CONNECTIONS over the limit, else returns the release
 * (enter() and leave() are the same without the closure).
 */
export class AddressCounter {
  private readonly counts = new Map<string, number>()
  private readonly limit: number
  private readonly what: string

  /** `what` names the thing counted in the error message, e.g. "WebSocket connections". */
  constructor(limit: number, what: string) {
    this.limit = limit
    this.what = what
  }

  acquire(address: string | undefined): () => void {
    const key = this.enter(address)
    let released = false
    return () => {
      if (released) return
      released = true
      this.leave(key)
    }
  }

  /**
   * acquire() without the closure: returns the key to leave() with, once. For a connection that keeps its
   * key for as long as it lives, where a closure each would cost more than the count itself.
   */
  enter(address: string | undefined): string {
    const key = address ?? 'unknown'
    const count = this.counts.get(key) ?? 0
    if (this.limit > 0 && count >= this.limit) {
      throw new LabError(
        'LAB_ERR_TOO_MANY_CONNECTIONS',
        `at most ${this.limit} ${this.what} per address: close one first`,
      )
    }
    this.counts.set(key, count + 1)
    return key
  }

  leave(key: string): void {
    const left = (this.counts.get(key) ?? 1) - 1
    if (left <= 0) this.counts.delete(key)
    else this.counts.set(key, left)
  }

  count(address: string): number {
    return this.counts.get(address) ?? 0
  }
}
