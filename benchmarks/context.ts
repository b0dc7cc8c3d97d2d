// What every scenario gets from the runner: the options, the settings, the
// subjects, the load process, targets (shared across scenarios, or fresh for
// the idle scenario's memory figures), progress, notes, and the accounting.
import type { Accounting } from './accounting.ts'
import type { LoadProcess } from './load.ts'
import type { Options, ScenarioName } from './options.ts'
import type { Progress } from './report/progress.ts'
import { isLab, subjectLabel, type Endpoint, type Subject, type TargetName } from './subjects.ts'
import { startTarget, type RunningTarget } from './targets.ts'

export interface Settings {
  /** Environment variables given to every target. */
  env: Record<string, string>
  shortPollIntervalMs: number
  longPollTimeoutMs: number
  historyLimit: number
}

export class Context {
  readonly options: Options
  readonly settings: Settings
  readonly subjects: Subject[]
  readonly progress: Progress
  readonly load: LoadProcess
  readonly notes: string[] = []
  readonly accounts: Partial<Record<ScenarioName, Accounting[]>> = {}
  private readonly shared = new Map<TargetName, Promise<RunningTarget>>()
  private readonly spare = new Map<string, Promise<RunningTarget>>()
  private counter = 0

  constructor(options: Options, settings: Settings, subjects: Subject[], progress: Progress, load: LoadProcess) {
    this.options = options
    this.settings = settings
    this.subjects = subjects
    this.progress = progress
    this.load = load
  }

  /** A target started once and reused by the scenarios that only measure deltas (bytes, CPU, latency). */
  target(name: TargetName): Promise<RunningTarget> {
    let running = this.shared.get(name)
    if (!running) {
      running = startTarget(name, this.settings.env)
      this.shared.set(name, running)
    }
    return running
  }

  /**
   * A process that has served nothing, for figures that depend on what the
   * process did before (memory). Started ahead with prepareFresh() when it can
   * be, so that V8 has long since shrunk the heap it grew while starting. The
   * caller stops it.
   */
  freshTarget(subject: Subject): Promise<RunningTarget> {
    const ready = this.spare.get(subject.id)
    this.spare.delete(subject.id)
    return ready ?? startTarget(subject.target, this.settings.env)
  }

  prepareFresh(subjects: Subject[]): void {
    for (const subject of subjects) {
      const starting = startTarget(subject.target, this.settings.env)
      // A failure surfaces when the scenario asks for it.
      starting.catch(() => {})
      this.spare.set(subject.id, starting)
    }
  }

  /** Starts the targets these subjects need, all at once. */
  async startTargets(names: TargetName[]): Promise<void> {
    await Promise.all([...new Set(names)].map((name) => this.target(name)))
  }

  async stopSharedTargets(): Promise<void> {
    const running = [...this.shared.values()]
    this.shared.clear()
    await Promise.allSettled(running.map(async (r) => (await r).stop()))
  }

  /** Waits until the servers prepareFresh() started are up, so that their start does not disturb a timed scenario. */
  async spareTargetsStarted(): Promise<void> {
    await Promise.allSettled([...this.spare.values()])
  }

  async stopSpareTargets(): Promise<void> {
    const running = [...this.spare.values()]
    this.spare.clear()
    await Promise.allSettled(running.map(async (r) => (await r).stop()))
  }

  endpoint(subject: Pick<Subject, 'target' | 'transport'>, target: RunningTarget): Endpoint {
    return { target: subject.target, transport: subject.transport, url: target.url, pollIntervalMs: this.settings.shortPollIntervalMs }
  }

  /** A short unique tag for room names and clientMsgId prefixes (rooms are at most 32 characters). */
  tag(prefix: string): string {
    return `${prefix}${++this.counter}`
  }

  account(scenario: ScenarioName, accounting: Accounting): void {
    ;(this.accounts[scenario] ??= []).push(accounting)
  }

  note(text: string): void {
    if (!this.notes.includes(text)) this.notes.push(text)
  }

  /** The fields every result row starts with. */
  row(subject: Subject) {
    return { subject: subject.id, target: subject.target, transport: subject.transport, label: subjectLabel(subject) }
  }

}
