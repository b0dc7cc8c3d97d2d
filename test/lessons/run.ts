// Runs a lesson as a learner would: a server started with `npm start`'s entry
// point, a terminal (bash) in a scratch folder inside the project, a second
// terminal for readers that wait, node for snippets and Chromium for page
// scripts. Each step's output is compared with the lesson's expected block.
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { basename, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Browser } from 'playwright-core'
import { findBinary } from '../../cluster/children.ts'
import { startServerProcess, type ServerProcess } from '../support/process.ts'
import { describeDifference, normalizeOutput, outputMatches } from './expect.ts'
import { parseLesson, type Expected, type Step } from './lesson.ts'

export const root = fileURLToPath(new URL('../..', import.meta.url))
/** The port every lesson is written for; the checker swaps in its own server's. */
export const LESSON_PORT = 3000
const STEP_TIMEOUT_MS = 15_000
/** Generous: on a loaded machine tsx compiling the server is slow. */
const SERVER_START_TIMEOUT_MS = 60_000
const OUTPUT_MAX = 1 << 20
/** A cluster starts redis-server, nginx and two servers compiled by tsx at once. */
const CLUSTER_START_TIMEOUT_MS = 120_000
/** Its runner stops the instances gracefully (2 s each), then nginx and Redis. */
const CLUSTER_STOP_GRACE_MS = 20_000
/** What a lesson's steps may run that is not part of the project, and the Debian package that has it. */
const SYSTEM_BINARIES = [
  { binary: 'redis-server', aptPackage: 'redis-server', used: /\bredis-server\b|\bnpm run cluster\b/ },
  { binary: 'redis-cli', aptPackage: 'redis-tools', used: /\bredis-cli\b/ },
  { binary: 'nginx', aptPackage: 'nginx', used: /\bnpm run cluster\b/ },
] as const

export class LessonError extends Error {}

export interface LessonOptions {
  /** Rewrite expected blocks that differ with what was printed (for lesson authors). */
  update?: boolean
  /** Chromium for ```js browser``` steps; without one those steps are skipped. */
  browser?: () => Promise<Browser | undefined>
  /** Called for steps that could not run here, with the reason. */
  onSkip?: (where: string, reason: string) => void
}

interface Running {
  child: ChildProcess
  output: () => string
  exited: Promise<number | null>
  step: Step
  started: number
}

/** The environment of the learner's terminal, without what the test runner adds. */
function learnerEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [key, value] of Object.entries(process.env)) {
    if (/^(VITEST|NODE_ENV$|TEST$|npm_)/.test(key)) continue
    env[key] = value
  }
  return { ...env, NO_COLOR: '1', FORCE_COLOR: '0', npm_config_update_notifier: 'false', npm_config_fund: 'false' }
}

function spawnShell(
  command: string,
  cwd: string,
  port: number,
  settings: Record<string, string> = {},
): Running['child'] {
  // One pipe for both streams keeps their order, as a terminal shows it.
  // LAB_URL is where `npm run chat` connects without --url (localhost:3000 for the learner).
  const env = { ...learnerEnv(), LAB_URL: `http://localhost:${port}`, ...settings }
  return spawn('bash', ['-c', `exec 2>&1\n${command}`], {
    cwd,
    env,
    stdio: ['ignore', 'pipe', 'ignore'],
    detached: true,
  })
}

function watch(child: ChildProcess, step: Step): Running {
  let output = ''
  child.stdout!.on('data', (chunk: Buffer) => {
    if (output.length < OUTPUT_MAX) output += chunk.toString()
  })
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? (signal ? 128 : null))),
  )
  return { child, output: () => output, exited, step, started: Date.now() }
}

function stop(child: ChildProcess, signal: NodeJS.Signals = 'SIGINT'): void {
  try {
    process.kill(-child.pid!, signal)
  } catch {
    // already gone
  }
}

/**
 * A free port with as many digits as 3000: a learner's `Host: localhost:3000`
 * is a byte shorter than `localhost:41234`, and lessons count header bytes.
 * Below 3659, the first of the ports fetch() and browsers refuse ("bad port").
 */
async function freeFourDigitPort(): Promise<number> {
  for (;;) {
    const candidate = 3001 + Math.floor(Math.random() * 650)
    const free = await new Promise<boolean>((resolve) => {
      const probe = createServer()
      probe.once('error', () => resolve(false))
      probe.listen(candidate, '127.0.0.1', () => probe.close(() => resolve(true)))
    })
    if (free) return candidate
  }
}

/** A server step that starts the cluster (redis-server, the instances, nginx) in the server's place. */
export function isClusterCommand(command: string): boolean {
  return /\bnpm run cluster\b/.test(command)
}

/** The system binaries a lesson's steps run that this machine lacks, with the package that has each. */
export function missingBinaries(
  steps: Step[],
  installed: (binary: string) => boolean = (binary) => !!findBinary(binary),
): string[] {
  return SYSTEM_BINARIES.filter(
    ({ binary, used }) => steps.some((step) => used.test(step.code)) && !installed(binary),
  ).map(({ binary, aptPackage }) => `${binary} (apt-get install ${aptPackage})`)
}

/** `WS_COMPRESSION=true npm start -- --ticker-hz 10` → the settings a server step asks for. */
export function parseServerCommand(command: string): { env: Record<string, string>; args: string[] } {
  const words = command.trim().split(/\s+/)
  const env: Record<string, string> = {}
  while (words[0] && /^[A-Z_][A-Z0-9_]*=/.test(words[0])) {
    const [key, ...value] = words.shift()!.split('=')
    env[key!] = value.join('=')
  }
  if (words[0] !== 'npm' || words[1] !== 'start')
    throw new LessonError(
      `a server step must be \`[VAR=value ...] npm start [-- --flag value ...]\`, not \`${command.trim()}\``,
    )
  const args = words.slice(2)
  if (args[0] === '--') args.shift()
  return { env, args }
}

export async function runLesson(file: string, options: LessonOptions = {}): Promise<void> {
  const markdown = readFileSync(file, 'utf8')
  const name = relative(root, file)
  const steps = parseLesson(markdown)
  const missing = missingBinaries(steps)
  if (missing.length > 0) {
    const reason = `it needs ${missing.join(', ')}`
    if (process.env.CI === 'true') throw new LessonError(`${relative(root, file)}: ${reason}, which CI must have`)
    options.onSkip?.(relative(root, file), reason)
    return
  }
  const scratch = join(root, 'test-artifacts', 'lessons', basename(file, '.md'))
  rmSync(scratch, { recursive: true, force: true })
  mkdirSync(scratch, { recursive: true })

  let server: ServerProcess | undefined
  /** `npm run cluster` in the server's place: its runner, in a terminal (a process group) of its own. */
  let cluster: Running | undefined
  let port = 0
  const background = new Map<string, Running>()
  const failures: string[] = []
  const updates: Array<{ expected: Expected; actual: string }> = []

  const toServer = (code: string) =>
    code
      .replaceAll(`localhost:${LESSON_PORT}`, `localhost:${port}`)
      .replaceAll(`127.0.0.1:${LESSON_PORT}`, `127.0.0.1:${port}`)
  // Only where it is the port (`host:3123`, curl's `port 3123`): a byte count may happen to equal it.
  const fromServer = (output: string) => output.replace(new RegExp(`(?<=:|port )${port}\\b`, 'g'), String(LESSON_PORT))
  const where = (line: number) => `${name}:${line}`

  const check = (step: Step, output: string, code: number | null) => {
    const printed = normalizeOutput(fromServer(output))
    const wantExit = Number(step.meta.exit ?? 0)
    if (code !== wantExit) {
      failures.push(`${where(step.line)}: exited with ${code}, the lesson expects ${wantExit}; it printed:\n${printed}`)
      return
    }
    if (!step.expected || outputMatches(step.expected.text, printed)) return
    if (options.update) updates.push({ expected: step.expected, actual: printed })
    failures.push(
      `${where(step.expected.line)}: the output of the step at line ${step.line} differs (- lesson, + printed):\n` +
        describeDifference(step.expected.text, printed),
    )
  }

  const stopCluster = async () => {
    if (!cluster) return
    const running = cluster
    cluster = undefined
    // Ctrl-C, as the learner stops it: the runner stops the instances, nginx and Redis in turn.
    stop(running.child, 'SIGINT')
    let timer: NodeJS.Timeout | undefined
    const ended = await Promise.race([
      running.exited.then(() => true),
      new Promise<false>((resolve) => {
        timer = setTimeout(() => resolve(false), CLUSTER_STOP_GRACE_MS)
      }),
    ])
    clearTimeout(timer)
    if (!ended) stop(running.child, 'SIGKILL')
    // Each of the cluster's processes leads a group of its own, which a killed runner would leave
    // behind: the banner's pids are what this lesson started, and nothing else is touched.
    for (const [, pid] of running.output().matchAll(/ pid (\d+)$/gm)) {
      try {
        process.kill(-Number(pid), 'SIGKILL')
      } catch {
        // Already gone, as it should be.
      }
    }
  }

  const stopServers = async () => {
    if (server) {
      server.child.kill('SIGINT')
      await server.exited
      server = undefined
    }
    await stopCluster()
  }

  const startCluster = async (step: Step) => {
    await stopServers()
    port ||= await freeFourDigitPort()
    // As typed, in a terminal of its own, with the lesson's port for the balancer (the learner's is 3000).
    const running = watch(spawnShell(step.code, scratch, port, { PORT: String(port), LOG_LEVEL: 'info' }), step)
    cluster = running
    const deadline = Date.now() + Number(step.meta.timeout ?? CLUSTER_START_TIMEOUT_MS)
    // The banner's last line: every process is up and listed with its pid.
    while (!/Ctrl-C stops everything/.test(running.output())) {
      const gone = await Promise.race([
        running.exited.then(() => true),
        new Promise<false>((resolve) => setTimeout(() => resolve(false), 50)),
      ])
      if (gone || Date.now() > deadline)
        throw new LessonError(
          `${where(step.line)}: the cluster did not start; it printed:\n${normalizeOutput(fromServer(running.output()))}`,
        )
    }
    return running.output()
  }

  const startServer = async (env: Record<string, string>, args: string[]) => {
    await stopServers()
    // The learner's server logs at the default level; their output is only compared for server steps.
    // A restart keeps the port, as the learner's stays 3000: files saved and
    // terminals opened before it still point at the server.
    for (let attempt = 1; ; attempt++) {
      const fresh = !port
      port ||= await freeFourDigitPort()
      try {
        server = await startServerProcess(
          { LOG_LEVEL: 'info', PORT: String(port), ...env },
          args,
          SERVER_START_TIMEOUT_MS,
        )
        break
      } catch (error) {
        // Another process took the port between the probe and the listen: only a first start may move.
        if (!fresh || attempt >= 3 || !String(error).includes('EADDRINUSE')) throw error
        port = 0
      }
    }
    port = Number(new URL(server.url).port)
  }

  const finish = async (running: Running) => {
    const timeout = Number(running.step.meta.timeout ?? STEP_TIMEOUT_MS)
    const left = Math.max(0, running.started + timeout - Date.now())
    let timer: NodeJS.Timeout | undefined
    const code = await Promise.race([
      running.exited,
      new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), left)
      }),
    ])
    clearTimeout(timer)
    if (code === 'timeout') {
      stop(running.child, 'SIGKILL')
      failures.push(
        `${where(running.step.line)}: still running after ${timeout} ms ` +
          `(a step must end by itself; give it --count, --timeout or --max-time); it printed:\n` +
          normalizeOutput(fromServer(running.output())),
      )
      return
    }
    check(running.step, running.output(), code)
  }

  const waitReady = async (running: Running) => {
    const ready = running.step.meta.ready
    if (!ready) return
    const deadline = running.started + Number(running.step.meta.timeout ?? STEP_TIMEOUT_MS)
    while (!fromServer(running.output()).includes(ready)) {
      const done = await Promise.race([
        running.exited.then(() => true),
        new Promise<false>((resolve) => setTimeout(() => resolve(false), 20)),
      ])
      if (done || Date.now() > deadline)
        throw new LessonError(
          `${where(running.step.line)}: the second terminal never printed "${ready}"; it printed:\n${normalizeOutput(fromServer(running.output()))}`,
        )
    }
  }

  const runBrowser = async (step: Step) => {
    const browser = await options.browser?.()
    if (!browser) {
      options.onSkip?.(where(step.line), 'no Chromium for a browser step')
      return
    }
    const page = await browser.newPage()
    const lines: string[] = []
    // Only what the snippet logs: the browser's own notes (a missing favicon) are not the lesson's.
    page.on('console', (message) => {
      if (!message.text().startsWith('Failed to load resource')) lines.push(message.text())
    })
    let code: number = 0
    const timeout = Number(step.meta.timeout ?? STEP_TIMEOUT_MS)
    let timer: NodeJS.Timeout | undefined
    try {
      await page.goto(`http://localhost:${port}/api/rooms`)
      const ran = page.evaluate(`(async () => {\n${toServer(step.code)}\n})()`)
      const late = new Promise<never>((_resolve, reject) => {
        timer = setTimeout(
          () => reject(new Error(`still running after ${timeout} ms (a browser step must end by itself)`)),
          timeout,
        )
      })
      await Promise.race([ran, late])
    } catch (error) {
      lines.push(String(error instanceof Error ? error.message : error))
      code = 1
    } finally {
      clearTimeout(timer)
      await page.close()
    }
    check(step, lines.join('\n'), code)
  }

  try {
    await startServer({}, [])
    // An author updating outputs wants every block at once; a check stops at the first failure.
    const stopped = () => failures.length > 0 && !options.update
    for (const step of steps) {
      if (stopped()) break
      if (step.meta.await) {
        const running = background.get(step.meta.await)
        if (!running)
          throw new LessonError(`${where(step.line)}: await=${step.meta.await} names no terminal started before it`)
        background.delete(step.meta.await)
        await finish(running)
        if (stopped()) break
      }
      if (step.kind === 'server' && isClusterCommand(step.code)) {
        const printed = await startCluster(step)
        if (step.expected) check(step, printed, 0)
        continue
      }
      if (step.kind === 'server') {
        const { env, args } = parseServerCommand(step.code)
        await startServer(env, args)
        if (step.expected) check(step, server!.output(), 0)
        continue
      }
      if (step.kind === 'file') {
        writeFileSync(join(scratch, step.meta.file!), toServer(step.code))
        continue
      }
      if (step.kind === 'browser') {
        await runBrowser(step)
        continue
      }
      let command = toServer(step.code)
      if (step.kind === 'node') {
        const script = `step-${step.line}.mjs`
        writeFileSync(join(scratch, script), command)
        command = `node ${script}`
      }
      const running = watch(spawnShell(command, scratch, port), step)
      if (step.meta.terminal) {
        background.set(step.meta.terminal, running)
        await waitReady(running)
        continue
      }
      await finish(running)
    }
    for (const running of background.values()) {
      if (!stopped()) await finish(running)
    }
  } finally {
    for (const running of background.values()) stop(running.child, 'SIGKILL')
    await stopServers()
    if (updates.length > 0) writeUpdates(file, markdown, updates)
  }
  if (failures.length > 0) throw new LessonError(failures.join('\n\n'))
}

function writeUpdates(file: string, markdown: string, updates: Array<{ expected: Expected; actual: string }>): void {
  let text = markdown
  for (const { expected, actual } of [...updates].sort((a, b) => b.expected.start - a.expected.start)) {
    const block = text.slice(expected.start, expected.end)
    const fence = /^(`{3,}|~{3,})[^\n]*/.exec(block)!
    const indent = text.slice(text.lastIndexOf('\n', expected.start - 1) + 1, expected.start)
    const body = actual
      .split('\n')
      .map((line) => (line ? indent + line : line))
      .join('\n')
    text = `${text.slice(0, expected.start)}${fence[0]}\n${body}\n${indent}${fence[1]}${text.slice(expected.end)}`
  }
  writeFileSync(file, text)
}
