// `npm run chat`, the terminal client the lessons show, run as a learner runs
// it: a child process per client against one real server. Its output is
// compared line for line, because lessons print it verbatim.
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { Value } from '@sinclair/typebox/value'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  ChatMessage,
  NAME_MAX_LENGTH,
  RoomName,
  TRANSPORTS,
  UserName,
  Welcome,
  type Batch,
  type TransportName,
} from '../../server/core/protocol.ts'
import { TRANSPORT_INFO } from '../../server/core/names.ts'
import { parseChatArgs, USAGE } from '../../lessons/tools/chat-args.ts'
import { startServer, type RunningServer } from '../support/server.ts'
import { until } from '../support/wait.ts'

const root = fileURLToPath(new URL('../..', import.meta.url))
/** Starting a client costs a second of CPU or more, and these cores are shared: waits are generous, the checks are not. */
const STARTUP_MS = 45_000
/** Long enough for a reader to give up by itself (GIVE_UP) and still be checked. */
const READER_MS = 60_000

/** For readers that wait for a count: a broken client then fails with its output instead of hanging the test. */
const GIVE_UP = ['--timeout', '35000']

/** The exit codes lessons/tools/README.md documents, written out: scripts rely on the numbers. */
const EXIT = { ok: 0, failed: 1, usage: 2, timedOut: 3 } as const

const slug = (transport: TransportName) => transport.replace('.', '')
/** Each transport reads what the next one in the list sends, so every transport sends once and reads once. */
const senderFor = (transport: TransportName) => TRANSPORTS[(TRANSPORTS.indexOf(transport) + 1) % TRANSPORTS.length]!
const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
/** A message that arrived live: `#SEQ NAME (TRANSPORT): TEXT  [LATENCY ms]`. */
const liveLine = (seq: number, name: string, transport: TransportName, text: string): unknown =>
  expect.stringMatching(
    new RegExp(`^#${seq} ${name} \\(${escape(transport)}\\): ${escape(text)}  \\[-?\\d+\\.\\d ms\\]$`),
  )

interface Chat {
  stdout(): string
  stderr(): string
  /** stdout as lines, without the last newline. */
  lines(): string[]
  /** The exit code, once stdout and stderr are complete. */
  exited: Promise<number | null>
}

const children = new Set<ReturnType<typeof spawn>>()

let server: RunningServer
beforeAll(async () => {
  // Short pollers take the interval the server suggests: a tenth of a second keeps these tests short.
  server = await startServer({ shortPollIntervalMs: 100 })
})
afterAll(async () => {
  for (const child of children) child.kill()
  await server.close()
})

function chat(
  args: string[],
  options: { input?: string; viaNpm?: boolean; url?: boolean; env?: Record<string, string> } = {},
): Chat {
  const url = options.url === false ? [] : ['--url', server.url]
  const env: NodeJS.ProcessEnv = { ...process.env, ...options.env }
  if (!options.env?.LAB_URL) delete env.LAB_URL
  const [command, prefix] = options.viaNpm
    ? ['npm', ['run', 'chat', '--']]
    : [process.execPath, ['--import', 'tsx', 'lessons/tools/chat.ts']]
  const child = spawn(command, [...prefix, ...url, ...args], {
    cwd: root,
    env,
    stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
  })
  children.add(child)
  if (options.input !== undefined) child.stdin!.end(options.input)
  let stdout = ''
  let stderr = ''
  child.stdout!.on('data', (chunk) => {
    stdout += chunk
  })
  child.stderr!.on('data', (chunk) => {
    stderr += chunk
  })
  const exited = new Promise<number | null>((resolve) =>
    child.once('close', (code) => {
      children.delete(child)
      resolve(code)
    }),
  )
  return { stdout: () => stdout, stderr: () => stderr, lines: () => stdout.replace(/\n$/, '').split('\n'), exited }
}

/** Writes a room's history the way curl would: sends without a session, over short polling. Returns its epoch. */
async function seed(room: string, texts: string[]): Promise<string> {
  for (const text of texts) {
    const res = await fetch(`${server.url}/poll`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'send', room, text, name: 'seed' }),
    })
    expect(res.status).toBe(200)
  }
  const batch = (await (await fetch(`${server.url}/poll?room=${room}`)).json()) as Batch
  return batch.epoch
}

/** The joined line, with the epoch as its first group. */
const joinedLine = (room: string, name: string, transport: TransportName, rest: string) =>
  new RegExp(`^joined ${room} as ${name} over ${escape(transport)} \\(epoch ([0-9a-f]+), ${rest}\\)$`)

describe('npm run chat', () => {
  it('refuses a room or a name the server would refuse, before connecting', () => {
    const refused = (args: string[]) => parseChatArgs(['--transport', 'sse', ...args]).kind === 'usage-error'
    for (const room of ['ok-room_1', 'x'.repeat(32)])
      expect(Value.Check(RoomName, room) && !refused(['--room', room])).toBe(true)
    for (const room of ['-dash', 'x'.repeat(33), 'sp ace'])
      expect(!Value.Check(RoomName, room) && refused(['--room', room])).toBe(true)
    for (const name of ['Ann', 'x'.repeat(NAME_MAX_LENGTH)])
      expect(Value.Check(UserName, name) && !refused(['--name', name])).toBe(true)
    for (const name of ['   ', 'x'.repeat(NAME_MAX_LENGTH + 1), 'a\u202eb'])
      expect(!Value.Check(UserName, name) && refused(['--name', name])).toBe(true)
  })

  it(
    'exits 2 with the usage when the transport is unknown, through the npm script',
    async () => {
      const pigeon = chat(['--transport', 'carrier-pigeon'], { viaNpm: true, url: false })
      const code = await pigeon.exited
      expect(pigeon.stdout()).toContain('> tsx lessons/tools/chat.ts --transport carrier-pigeon\n')
      expect(pigeon.stderr()).toContain(
        `error: unknown transport "carrier-pigeon": choose one of ${TRANSPORTS.join(', ')}\n\n${USAGE}`,
      )
      expect(code).toBe(EXIT.usage)
    },
    STARTUP_MS * 2,
  )

  it(
    'exits 2 with the usage when no transport is given',
    async () => {
      const bare = chat(['--room', 'lobby'])
      const code = await bare.exited
      expect(bare.stderr()).toBe(`error: missing --transport: choose one of ${TRANSPORTS.join(', ')}\n\n${USAGE}`)
      expect(bare.stdout()).toBe('')
      expect(code).toBe(EXIT.usage)
    },
    STARTUP_MS,
  )

  it(
    'prints the usage on stdout and exits 0 for --help',
    async () => {
      const help = chat(['--help'], { url: false })
      const code = await help.exited
      expect(help.stdout()).toBe(USAGE)
      expect(code).toBe(EXIT.ok)
    },
    STARTUP_MS,
  )

  it(
    'exits 1 saying so when nothing answers at --url',
    async () => {
      const stranded = chat(['--transport', 'websocket', '--url', 'http://127.0.0.1:1'], { url: false })
      const code = await stranded.exited
      expect(stranded.stderr()).toBe('error: could not connect to http://127.0.0.1:1 over websocket\n')
      expect(stranded.stdout()).toBe('')
      expect(code).toBe(EXIT.failed)
    },
    STARTUP_MS,
  )

  // `script` gives the client a pseudo-terminal, as a learner's terminal would: typed lines, Ctrl-D.
  it.skipIf(!existsSync('/usr/bin/script'))(
    'sends what is typed at a terminal, prints what arrives, and leaves on Ctrl-D',
    async () => {
      const command = `${process.execPath} --import tsx lessons/tools/chat.ts --url ${server.url} --transport websocket --room tty --name typist`
      const child = spawn('script', ['-qfec', command, '/dev/null'], { cwd: root, stdio: ['pipe', 'pipe', 'pipe'] })
      children.add(child)
      let screen = ''
      child.stdout.on('data', (chunk) => {
        screen += chunk
      })
      const exited = new Promise<number | null>((resolve) => child.once('close', resolve))
      await until(() => screen.includes('joined tty as typist over websocket'), 'the joined line', STARTUP_MS)
      child.stdin.write('typed at a terminal\r')
      await until(
        () => /#2 typist \(websocket\): typed at a terminal {2}\[[\d.]+ ms\]/.test(screen),
        'the typed line to come back',
        STARTUP_MS,
      )
      const other = chat(['--transport', 'sse', '--room', 'tty', '--name', 'other', '--say', 'from another transport'])
      await until(
        () => screen.includes('other (sse): from another transport'),
        'the other client to be heard',
        STARTUP_MS,
      )
      expect(await other.exited).toBe(EXIT.ok)
      child.stdin.write('\u0004')
      expect(await exited).toBe(EXIT.ok)
      expect(server.app.hub.presence('tty')).toEqual([])
    },
    STARTUP_MS,
  )

  it(
    'connects to $LAB_URL when no --url is given',
    async () => {
      const sayer = chat(['--transport', 'websocket', '--room', 'lab-url', '--name', 'sayer', '--say', 'found you'], {
        url: false,
        env: { LAB_URL: server.url },
      })
      expect(await sayer.exited).toBe(EXIT.ok)
      expect(sayer.lines()[1]).toMatch(/^#2 sayer \(websocket\): found you {2}\[[\d.]+ ms\]$/)
    },
    STARTUP_MS,
  )

  it(
    'joins a class with a code under its token (from $LAB_TOKEN) on every transport, and says why without one',
    async () => {
      const classServer = await startServer({ classCode: 'c0de' })
      try {
        const login = await fetch(`${classServer.url}/api/login`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ code: 'c0de', name: 'tok' }),
        })
        const { token } = (await login.json()) as { token: string }
        const env = { LAB_URL: classServer.url, LAB_TOKEN: token }
        const say = (transport: TransportName, text: string, withEnv: Record<string, string>) =>
          chat(['--transport', transport, '--room', `code-${slug(transport)}`, '--say', text, ...GIVE_UP], {
            url: false,
            env: withEnv,
          })
        const admitted = TRANSPORTS.map((transport) => say(transport, 'with a token', env))
        expect(await Promise.all(admitted.map((run) => run.exited))).toEqual(TRANSPORTS.map(() => EXIT.ok))
        for (const run of admitted) expect(run.lines()[1]).toMatch(/^#2 tok \([a-z.-]+\): with a token/)

        const refused = TRANSPORTS.map((transport) => say(transport, 'no token', { LAB_URL: classServer.url }))
        expect(await Promise.all(refused.map((run) => run.exited))).toEqual(TRANSPORTS.map(() => EXIT.failed))
        for (const run of refused) expect(run.stderr() + run.stdout()).toContain('LAB_ERR_AUTH')
      } finally {
        await classServer.close()
      }
    },
    STARTUP_MS * 3,
  )

  for (const transport of TRANSPORTS) {
    const label = TRANSPORT_INFO[transport].short
    // Each test has its own room, so those of one transport run side by side.
    describe.concurrent(`over ${label}`, () => {
      it(
        `prints a message sent over ${TRANSPORT_INFO[senderFor(transport)].short} to a reader, with its seq, sender and transport`,
        async () => {
          const sender = senderFor(transport)
          const room = `${slug(transport)}-relay`
          const reader = chat([
            '--transport',
            transport,
            '--room',
            room,
            '--name',
            'reader',
            '--count',
            '1',
            ...GIVE_UP,
          ])
          await until(() => reader.stdout().includes('joined'), 'the reader to join', STARTUP_MS)
          const sayer = chat([
            '--transport',
            sender,
            '--room',
            room,
            '--name',
            'sayer',
            '--say',
            `hello over ${sender}`,
          ])
          const codes = await Promise.all([reader.exited, sayer.exited])

          const [readerJoined, ...readerRest] = reader.lines()
          const epoch = joinedLine(room, 'reader', transport, 'seq 1, 1 member, recovered true').exec(
            readerJoined!,
          )?.[1]
          expect(epoch, readerJoined).toBeDefined()
          expect(readerRest).toEqual([
            `#2 * sayer joined (${sender})`,
            liveLine(3, 'sayer', sender, `hello over ${sender}`),
          ])
          const [sayerJoined, ...sayerRest] = sayer.lines()
          expect(
            joinedLine(room, 'sayer', sender, 'seq 2, 2 members, recovered true').exec(sayerJoined!)?.[1],
            sayerJoined,
          ).toBe(epoch)
          expect(sayerRest).toEqual([liveLine(3, 'sayer', sender, `hello over ${sender}`)])
          expect(reader.stderr() + sayer.stderr()).toBe('')
          expect(codes).toEqual([EXIT.ok, EXIT.ok])
        },
        STARTUP_MS * 2,
      )

      it(
        'prints every server message as one JSON line with --json, shaped by the protocol schema',
        async () => {
          const room = `${slug(transport)}-json`
          const jay = chat(['--transport', transport, '--room', room, '--name', 'jay', '--json', '--say', 'in json'])
          const code = await jay.exited
          const [welcome, message, ...rest] = jay.lines().map((line) => JSON.parse(line) as unknown)
          expect(rest).toEqual([])
          expect(Value.Check(Welcome, welcome), JSON.stringify(welcome)).toBe(true)
          expect(welcome).toMatchObject({ type: 'welcome', room, name: 'jay', transport, seq: 1, recovered: true })
          expect(Value.Check(ChatMessage, message), JSON.stringify(message)).toBe(true)
          expect(message).toMatchObject({
            type: 'message',
            room,
            seq: 2,
            text: 'in json',
            from: { name: 'jay', transport },
            sentAt: expect.any(Number) as unknown,
          })
          expect(jay.stderr()).toBe('')
          expect(code).toBe(EXIT.ok)
        },
        STARTUP_MS,
      )

      it(
        'resumes with --since from exactly after the cursor',
        async () => {
          const room = `${slug(transport)}-since`
          const epoch = await seed(room, ['first', 'second', 'third'])
          const resumer = chat([
            '--transport',
            transport,
            '--room',
            room,
            '--name',
            'resumer',
            '--since',
            `${epoch}:1`,
            '--count',
            '2',
            ...GIVE_UP,
          ])
          const code = await resumer.exited
          expect(resumer.lines()).toEqual([
            `joined ${room} as resumer over ${transport} (epoch ${epoch}, seq 4, 1 member, recovered true)`,
            '#2 seed (short-polling): second  [filled in]',
            '#3 seed (short-polling): third  [filled in]',
          ])
          expect(resumer.stderr()).toBe('')
          expect(code).toBe(EXIT.ok)
        },
        READER_MS,
      )

      it(
        'says the history is lost when --since names another epoch, then shows what the server kept',
        async () => {
          const room = `${slug(transport)}-lost`
          const epoch = await seed(room, ['first', 'second', 'third'])
          const latecomer = chat([
            '--transport',
            transport,
            '--room',
            room,
            '--name',
            'late',
            '--since',
            'gone:2',
            '--count',
            '3',
            ...GIVE_UP,
          ])
          const code = await latecomer.exited
          expect(latecomer.lines()).toEqual([
            `joined ${room} as late over ${transport} (epoch ${epoch}, seq 4, 1 member, recovered false)`,
            'history lost: the server could not resume after seq 2 of epoch gone (recovered false)',
            '#1 seed (short-polling): first  [filled in]',
            '#2 seed (short-polling): second  [filled in]',
            '#3 seed (short-polling): third  [filled in]',
          ])
          expect(latecomer.stderr()).toBe('')
          expect(code).toBe(EXIT.ok)
        },
        READER_MS,
      )

      it(
        'exits 3 saying so when --timeout passes without a chat message',
        async () => {
          const room = `${slug(transport)}-quiet`
          const waiter = chat(['--transport', transport, '--room', room, '--name', 'waiter', '--timeout', '1500'])
          const code = await waiter.exited
          expect(waiter.stderr()).toBe('timed out: no chat message within 1500 ms\n')
          // Joining may take longer than the timeout on a busy machine: the joined line is optional, nothing else is.
          expect(waiter.stdout()).toMatch(/^(joined .*\n)?$/)
          expect(code).toBe(EXIT.timedOut)
        },
        STARTUP_MS,
      )

      it(
        "prints the server's error once for a refused line, sends the next one, and exits 1",
        async () => {
          const room = `${slug(transport)}-refused`
          const talker = chat(['--transport', transport, '--room', room, '--name', 'talker'], {
            input: `${'x'.repeat(9000)}\nstill here\n`,
          })
          const code = await talker.exited
          expect(talker.stderr()).toBe(
            'error LAB_ERR_TEXT_TOO_LONG: text is 9000 bytes; the limit is 8192 bytes (UTF-8)\n',
          )
          const [joined, ...rest] = talker.lines()
          expect(joinedLine(room, 'talker', transport, 'seq 1, 1 member, recovered true').test(joined!), joined).toBe(
            true,
          )
          expect(rest).toEqual([liveLine(2, 'talker', transport, 'still here')])
          expect(code).toBe(EXIT.failed)
        },
        STARTUP_MS,
      )

      it(
        'sends each piped line, then leaves once they have come back',
        async () => {
          const room = `${slug(transport)}-pipe`
          const piper = chat(['--transport', transport, '--room', room, '--name', 'piper'], { input: 'one\n\ntwo\n' })
          const code = await piper.exited
          const [joined, ...rest] = piper.lines()
          expect(joinedLine(room, 'piper', transport, 'seq 1, 1 member, recovered true').test(joined!), joined).toBe(
            true,
          )
          expect(rest).toEqual([liveLine(2, 'piper', transport, 'one'), liveLine(3, 'piper', transport, 'two')])
          expect(piper.stderr()).toBe('')
          expect(code).toBe(EXIT.ok)
        },
        STARTUP_MS,
      )
    })
  }
})
