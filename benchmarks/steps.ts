// A run is a list of steps in order: start the load process and the targets,
// then the scenarios. A step that throws ends the run there; what came before
// it is kept (the runner writes it as a partial run). A scenario whose server
// did not start at either attempt is skipped instead, and the run goes on.
import { firstLine } from './processes.ts'
import type { Failure } from './schema.ts'

export interface Step {
  name: string
  /** A scenario can be skipped when a process it needs did not start; the other steps are needed by the rest. */
  scenario: boolean
  run(): Promise<void>
}

export interface Stopped {
  failure: Failure
  /** The error itself, with its stack and the process's output, for the terminal. */
  error: unknown
}

/**
 * Runs the steps in order and returns the one that stopped the run, or null. `skip` decides whether an error only
 * skips its scenario (and records it); `onStep` hears each step's name as it begins.
 */
export async function runSteps(
  steps: Step[],
  skip: (error: unknown, step: string) => boolean,
  onStep: (name: string) => void = () => {},
): Promise<Stopped | null> {
  for (const step of steps) {
    onStep(step.name)
    try {
      await step.run()
    } catch (error) {
      if (step.scenario && skip(error, step.name)) continue
      return { failure: { step: step.name, error: firstLine(error), outcome: 'stopped' }, error }
    }
  }
  return null
}
