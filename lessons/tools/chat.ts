// `npm run chat`: a terminal chat client for Transport Lab, over any of the
// five transports (lessons/tools/README.md). The flags are read before the
// client stack is loaded, so that --help and a mistyped flag answer at once.
import { EXIT, parseChatArgs, USAGE } from './chat-args.ts'

/** Pipes can be asynchronous (macOS): exit only once what was printed has gone out. */
function exitWhenWritten(code: number): void {
  process.stdout.write('', () => process.stderr.write('', () => process.exit(code)))
}

const parsed = parseChatArgs(process.argv.slice(2))
if (parsed.kind === 'help') {
  process.stdout.write(USAGE)
  exitWhenWritten(EXIT.ok)
} else if (parsed.kind === 'usage-error') {
  process.stderr.write(`error: ${parsed.message}\n\n${USAGE}`)
  exitWhenWritten(EXIT.usage)
} else {
  const { TerminalChat } = await import('./chat-session.ts')
  exitWhenWritten(await new TerminalChat(parsed.options).run())
}
