// A request's logger, made only when the request writes a line. Fastify asks
// for a child logger on every request; pino's child() serializes its bindings
// at once, and a poll at LOG_LEVEL=warn never writes a line: that was a tenth
// of the server's CPU on a short poll (the bare baseline has no logger).
// The bindings are read when the request starts, so a line written after the
// connection closed still names it.
import type { FastifyBaseLogger } from 'fastify'
import type { Bindings, ChildLoggerOptions, Level, LogFn } from 'pino'

export class RequestLogger {
  private readonly parent: FastifyBaseLogger
  // The one binding its maker gives (Fastify's request id, Socket.IO's sid) as a name and a value, not as the
  // maker's object: a WebSocket or an SSE stream keeps its logger as long as it is open, and that object was
  // 56 bytes of every idle connection (npm run bench:heap).
  private readonly label: string
  private readonly id: unknown
  private readonly conn: string
  private readonly transport: string
  private made: FastifyBaseLogger | undefined

  /** Lines name `label` (Fastify's reqId, Socket.IO's sid) as `id`, with the request's connection and transport. */
  constructor(parent: FastifyBaseLogger, label: string, id: unknown, conn: string, transport: string) {
    this.parent = parent
    this.label = label
    this.id = id
    this.conn = conn
    this.transport = transport
  }

  /** The parent's level: a request logger never sets its own (a route-level logLevel makes a real child instead). */
  get level(): string {
    return this.logger().level
  }

  set level(level: string) {
    this.logger().level = level
  }

  fatal(...args: LogArgs): void {
    this.write('fatal', args)
  }

  error(...args: LogArgs): void {
    this.write('error', args)
  }

  warn(...args: LogArgs): void {
    this.write('warn', args)
  }

  info(...args: LogArgs): void {
    this.write('info', args)
  }

  debug(...args: LogArgs): void {
    this.write('debug', args)
  }

  trace(...args: LogArgs): void {
    this.write('trace', args)
  }

  silent(): void {}

  isLevelEnabled(level: string): boolean {
    return ((this.made ?? this.parent) as PinoLogger).isLevelEnabled(level)
  }

  child(bindings: Bindings, options?: ChildLoggerOptions): FastifyBaseLogger {
    return this.logger().child(bindings, options)
  }

  /** Typed as what Fastify expects of a request's logger. */
  asLogger(): FastifyBaseLogger {
    return this
  }

  private write(level: Level, args: LogArgs): void {
    if (this.isLevelEnabled(level)) this.logger()[level](...args)
  }

  private logger(): FastifyBaseLogger {
    if (!this.made) {
      this.made = this.parent.child({ [this.label]: this.id, conn: this.conn, transport: this.transport })
      flattenBindings(this.made)
    }
    return this.made
  }
}

type LogArgs = Parameters<LogFn>
/** Fastify's logger is pino's, which can say whether a level writes (its type leaves that out). */
type PinoLogger = FastifyBaseLogger & { isLevelEnabled(level: string): boolean }

/** Whether `log` writes lines at `level`: asked before building a line's fields on a path every request takes. */
export function writes(log: FastifyBaseLogger, level: Level): boolean {
  return (log as PinoLogger).isLevelEnabled(level)
}

/**
 * pino keeps a child's bindings as one string built by concatenation: a rope
 * of a dozen small strings. A WebSocket or an SSE stream keeps its request's
 * logger for as long as it is open, so the rope is made one flat string (about
 * 500 bytes less per idle connection). Found by its description, since pino
 * is Fastify's and not imported here; nothing changes if it is not there.
 */
export function flattenBindings(logger: object): void {
  const holder = logger as Record<symbol, unknown>
  chindings ??= Object.getOwnPropertySymbols(logger).find((symbol) => symbol.description === 'pino.chindings') ?? null
  if (chindings === null) return
  const rope = holder[chindings]
  if (typeof rope === 'string') holder[chindings] = JSON.parse(JSON.stringify(rope)) as string
}
let chindings: symbol | null | undefined
