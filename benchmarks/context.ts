// What every scenario gets from the runner: the options, the settings, the
// subjects, the load process, targets (shared across scenarios, or fresh for
// the idle scenario's memory figures), progress, notes, the accounting, and
// what could not be measured. Every process is started through here, each
// tried twice (see startWithRetry).
import { join } from 'node:path'
import type { Config } from '../server/config.ts'
import type { Accounting } from './accounting.ts'
import { sharedEnvironment } from './environment.ts'
import { startLoad, type LoadProcess } from './load.ts'
import type { Options, ScenarioName } from './options.ts'
import { StartFailure, startWithRetry } from './processes.ts'
import type { Progress } from './report/progress.ts'
import type { Failure } from './schema.ts'
import { subjectLabel, type Endpoint, type Subject, type TargetName } from './subjects.ts'
import { startTarget, type RunningTarget } from './targets.ts'

const PREPARE_CONCURRENCY = 3

export interface Settings {
  /** Environment variables given to every target. */
  env: Record<string, string>
  /**
   * Given to Transport Lab's processes on top of `env`: the limits that one
   * address would hit at once (all load comes from 127.0.0.1), set out of
   * reach unless the user set them (see labEnvironment in run.ts).
   */
  labEnv: Record<string, string>
  /** Transport Lab's configuration as its processes read it (the environment plus labEnv). */
  config: Config
  shortPollIntervalMs: number
  longPollTimeoutMs: number
  historyLimit: number
}

/** The settings of a run whose Transport Lab reads `config` (the environment plus `labEnv`). */
export function settingsOf(config: Config, labEnv: Record<string, string>): Settings {
  return {
    env: sharedEnvironment(config),
    labEnv,
    config,
    shortPollIntervalMs: config.shortPollIntervalMs,
    longPollTimeoutMs: config.longPollTimeoutMs,
    historyLimit: config.historyLimit,
  }
}

export class Context {
  readonly options: Options
  readonly settings: Settings
  readonly progress: Progress
  readonly notes: string[] = []
  readonly accounts: Partial<Record<ScenarioName, Accounting[]>> = {}
  /** What was skipped because a process did not start twice; the run goes on without it. */
  readonly failures: Failure[] = []
  private measured: Subject[]
  private mainLoad: LoadProcess | undefined
  private readonly shared = new Map<TargetName, Promise<RunningTarget>>()
  /** Processes started ahead, by the key that will ask for them, in the order they will be asked for. */
  private readonly spare = new Map<string, Array<Promise<RunningTarget>>>()
  private counter = 0
  private readonly labels = new Map<string, number>()
  /**
   * Starts of processes prepared ahead, at most PREPARE_CONCURRENCY at once: a dozen Node processes starting
   * together on two cores each take long enough to miss their ready timeout.
   */
  private preparing = 0
  private readonly waitingToStart: Array<() => void> = []

  constructor(options: Options, settings: Settings, subjects: Subject[], progress: Progress) {
    this.options = options
    this.settings = settings
    this.measured = subjects
    this.progress = progress
  }

  /** The load-client process every scenario drives its clients from (started by startLoadProcess). */
  get load(): LoadProcess {
    if (!this.mainLoad) throw new Error('the load process has not been started')
    return this.mainLoad
  }

  async startLoadProcess(): Promise<void> {
    this.mainLoad = await this.startLoad('load')
  }

  /** The subjects the scenarios measure: those asked for, less any whose shared target did not start. */
  get subjects(): Subject[] {
    return this.measured
  }

  /** A load-client process besides the main one (the flooder, the crowd's extra processes); the caller stops it. */
  startLoad(label: string): Promise<LoadProcess> {
    return startWithRetry(
      label,
      () => startLoad(label, this.options.startTimeoutMs),
      (reason) => this.retried(label, reason),
    )
  }

  /**
   * Whether `error` is a process that did not start twice. If so, what needed it (`step`) is recorded as skipped
   * and noted, and the caller goes on without it; any other error is the caller's to throw.
   */
  skipped(error: unknown, step: string): boolean {
    if (!(error instanceof StartFailure)) return false
    this.failures.push({ step, error: error.message, outcome: 'skipped' })
    this.note(`Not measured: ${step}, because ${error.message}.`)
    this.progress.log(`${step} skipped: ${error.message}`)
    return true
  }

  /**
   * `label` names the process's folder under --profile (shared-lab, idle-lab-websocket-2, noisy-on, ...): only
   * Transport Lab's processes are profiled, and the baselines too with --profile-baselines.
   */
  private start(name: TargetName, env: Record<string, string>, label: string): Promise<RunningTarget> {
    const { profile, profileBaselines } = this.options
    const profileDir =
      profile !== undefined && (name === 'lab' || profileBaselines)
        ? join(profile, label.replace(/[^\w.-]+/g, '-'))
        : undefined
    return startWithRetry(
      name,
      () => startTarget(name, env, this.options.startTimeoutMs, profileDir),
      (reason) => this.retried(name, reason),
    )
  }

  /** "idle-lab-websocket-1", "idle-lab-websocket-2": one per process started for the same purpose. */
  private numbered(label: string): string {
    const n = (this.labels.get(label) ?? 0) + 1
    this.labels.set(label, n)
    return `${label}-${n}`
  }

  private retried(label: string, reason: string): void {
    this.note(`${label} did not start at the first attempt (${reason}) and was started once more.`)
    this.progress.log(`${label} did not start (${reason}); starting it once more`)
  }

  /** A target started once and reused by the scenarios that only measure deltas (bytes, CPU, latency). */
  target(name: TargetName): Promise<RunningTarget> {
    let running = this.shared.get(name)
    if (!running) {
      running = this.start(name, this.envFor(name), `shared-${name}`)
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
    return (
      this.takeSpare(subject.id) ??
      this.start(subject.target, this.envFor(subject.target), this.numbered(`idle-${subject.id}`))
    )
  }

  private takeSpare(key: string): Promise<RunningTarget> | undefined {
    const queue = this.spare.get(key)
    const ready = queue?.shift()
    if (queue?.length === 0) this.spare.delete(key)
    return ready
  }

  private addSpare(key: string, starting: Promise<RunningTarget>): void {
    // A failure surfaces when the scenario asks for it.
    starting.catch(() => {})
    const queue = this.spare.get(key)
    if (queue) queue.push(starting)
    else this.spare.set(key, [starting])
  }

  /** The environment a target of this name starts with. */
  envFor(name: TargetName): Record<string, string> {
    return name === 'lab' ? { ...this.settings.env, ...this.settings.labEnv } : this.settings.env
  }

  /**
   * A Transport Lab process of its own with these settings on top of the
   * usual ones (`env` wins), for a scenario that needs other settings than
   * the shared target's (another rate limit, shortened heartbeats), or a
   * process that has served nothing (memory). The one prepareLab() started
   * under `key` when there is one, else a new one. The caller stops it. `label` names it under --profile
   * (by default its key, or "lab").
   */
  labWith(env: Record<string, string>, key?: string, label?: string): Promise<RunningTarget> {
    const ready = key === undefined ? undefined : this.takeSpare(key)
    return ready ?? this.start('lab', { ...this.envFor('lab'), ...env }, this.numbered(label ?? key ?? 'lab'))
  }

  /** Starts the process labWith(env, key) will ask for now, so that its start is over before the scenario (as prepareFresh does). */
  prepareLab(key: string, env: Record<string, string>): void {
    this.addSpare(key, this.queuedStart('lab', { ...this.envFor('lab'), ...env }, this.numbered(key)))
  }

  /**
   * Starts now the processes freshTarget() will ask for: `count` per subject
   * (one per repetition). A process that has just started is still giving
   * back what it grew while starting, for longer than a settled reading
   * waits, and that would hide a crowd's memory: these have minutes.
   */
  prepareFresh(subjects: Subject[], count = 1): void {
    for (let i = 0; i < count; i++)
      for (const subject of subjects)
        this.addSpare(
          subject.id,
          this.queuedStart(subject.target, this.envFor(subject.target), this.numbered(`idle-${subject.id}`)),
        )
  }

  private async queuedStart(name: TargetName, env: Record<string, string>, label: string): Promise<RunningTarget> {
    if (this.preparing >= PREPARE_CONCURRENCY) await new Promise<void>((resolve) => this.waitingToStart.push(resolve))
    this.preparing++
    try {
      return await this.start(name, env, label)
    } finally {
      this.preparing--
      this.waitingToStart.shift()?.()
    }
  }

  /**
   * Starts the targets these subjects need, all at once. A target that does not start twice is given up: its
   * subjects are measured by no scenario, and the run goes on with the others.
   */
  async startTargets(names: TargetName[]): Promise<void> {
    const unique = [...new Set(names)]
    const started = await Promise.allSettled(unique.map((name) => this.target(name)))
    for (const [i, outcome] of started.entries()) {
      if (outcome.status === 'fulfilled') continue
      const name = unique[i]!
      const given = this.measured.filter((s) => s.target === name)
      if (!this.skipped(outcome.reason, given.map((s) => s.id).join(', '))) throw outcome.reason
      this.measured = this.measured.filter((s) => s.target !== name)
    }
  }

  async stopSharedTargets(): Promise<void> {
    const running = [...this.shared.values()]
    this.shared.clear()
    await Promise.allSettled(running.map(async (r) => (await r).stop()))
  }

  /** Waits until the servers prepareFresh() started are up, so that their start does not disturb a timed scenario. */
  async spareTargetsStarted(): Promise<void> {
    await Promise.allSettled([...this.spare.values()].flat())
  }

  async stopSpareTargets(): Promise<void> {
    const running = [...this.spare.values()].flat()
    this.spare.clear()
    await Promise.allSettled(running.map(async (r) => (await r).stop()))
  }

  /** Stops every process started through here that is still running: at the end of a run, however it ended. */
  async stop(): Promise<void> {
    await this.stopSharedTargets()
    await this.stopSpareTargets()
    await this.mainLoad?.stop()
  }

  endpoint(subject: Pick<Subject, 'target' | 'transport'>, target: RunningTarget): Endpoint {
    return {
      target: subject.target,
      transport: subject.transport,
      url: target.url,
      pollIntervalMs: this.settings.shortPollIntervalMs,
    }
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
