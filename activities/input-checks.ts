import { type ExperimentSpec, experimentSpecSchema } from '../common/experiment';
import { validatedInput } from '../common/validate';

/**
 * Input checks that workflows run as local activities, on the workflow worker's main thread, where the schema
 * library and the schemas are loaded once. In the workflow sandbox every run evaluates the modules it requires
 * anew, and keeps them while it waits: for an experiment that waits for a slot, that was most of its memory.
 * The result is the parsed input (defaults applied), or the same non-retryable failure as in a workflow.
 */
export function createInputChecks() {
  return {
    async validateExperimentSpec(raw: unknown): Promise<ExperimentSpec> {
      return validatedInput(experimentSpecSchema, raw, 'experiment spec');
    },
  };
}

export type InputChecks = ReturnType<typeof createInputChecks>;
