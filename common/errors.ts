/**
 * Thrown when a setting (an environment variable or a command-line option) has a value sciops cannot use.
 * The message names the setting and says how to fix it; the CLI prints it as one line and exits 2.
 */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    readonly setting: string,
    readonly problem: string,
  ) {
    super(`${setting}: ${problem}`);
  }
}

/**
 * Thrown when an input document (a workflow input, a spec file) does not match its schema.
 * `issues` holds one line per problem, each starting with the field's path.
 */
export class InputError extends Error {
  override readonly name = 'InputError';
  constructor(
    readonly what: string,
    readonly issues: readonly string[],
  ) {
    super(`invalid ${what}: ${issues.join('; ')}`);
  }
}

/** Thrown by a client when a service it needs does not answer; the CLI prints it as one line and exits 1. */
export class UnreachableError extends Error {
  override readonly name = 'UnreachableError';
  constructor(
    readonly setting: string,
    readonly target: string,
    readonly cause_: string,
    readonly fix: string,
  ) {
    super(`cannot reach ${target} (${setting}): ${cause_}. ${fix}`);
  }
}

/**
 * Thrown when the operator pressed Ctrl-C while the CLI followed a workflow: the CLI stops following, the
 * workflow keeps running. The CLI prints the message and exits 130.
 */
export class DetachedError extends Error {
  override readonly name = 'DetachedError';
  constructor(
    readonly workflowId: string,
    readonly cancelHint: string,
  ) {
    super(`detached: ${workflowId} keeps running (see it in the Web UI). To cancel it: ${cancelHint}`);
  }
}
