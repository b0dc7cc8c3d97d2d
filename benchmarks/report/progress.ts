// Progress on stderr: a cli-progress bar per scenario on a terminal, plain
// lines otherwise (CI logs, a pipe), so stdout stays free for the table or --json.
import cliProgress from 'cli-progress'

export interface Step {
  /** Moves the bar on by one and names what comes next. */
  tick(label: string): void
  done(): void
}

export class Progress {
  private readonly stream: NodeJS.WriteStream
  private readonly multibar: cliProgress.MultiBar | undefined
  private readonly startedAt = performance.now()

  constructor(stream: NodeJS.WriteStream = process.stderr) {
    this.stream = stream
    if (stream.isTTY) {
      this.multibar = new cliProgress.MultiBar(
        {
          stream,
          format: '{scenario} |{bar}| {value}/{total} {step}',
          barsize: 30,
          hideCursor: true,
          clearOnComplete: false,
          autopadding: true,
        },
        cliProgress.Presets.shades_classic,
      )
    }
  }

  scenario(name: string, total: number): Step {
    const padded = name.padEnd(10)
    if (this.multibar) {
      const bar = this.multibar.create(total, 0, { scenario: padded, step: '' })
      return {
        tick: (label) => bar.increment(1, { step: label }),
        done: () => bar.update(total, { step: 'done' }),
      }
    }
    let value = 0
    return {
      tick: (label) => {
        value++
        this.line(`${name} ${value}/${total} ${label}`)
      },
      done: () => this.line(`${name} done`),
    }
  }

  /** A line above the bars (or a plain line). */
  log(text: string): void {
    if (this.multibar) this.multibar.log(`${text}\n`)
    else this.line(text)
  }

  private line(text: string): void {
    const seconds = ((performance.now() - this.startedAt) / 1000).toFixed(1).padStart(6)
    this.stream.write(`[bench ${seconds}s] ${text}\n`)
  }

  stop(): void {
    this.multibar?.stop()
  }
}
