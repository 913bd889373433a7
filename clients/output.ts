import type { Command } from 'commander';
import { type ProgressDisplay, terminalDisplay } from './progress-display';

export interface Output {
  /** Prints a line for a person; silent under `--json`. */
  print(text: string): void;
}

/**
 * Wraps a command's typed `run` into a commander action: under `--json` the result is printed as JSON,
 * otherwise `render` prints it for a person. Both return the exit code `render` decides.
 */
export function withOutput<O, R>(run: (options: O) => Promise<R>, render: (result: R, out: Output) => number) {
  return async (options: O, command: Command): Promise<void> => {
    const json = Boolean(command.optsWithGlobals().json);
    const print = (text: string) => process.stdout.write(`${text}\n`);
    const result = await run(options);
    process.exitCode = render(result, { print: json ? () => {} : print });
    if (json) print(JSON.stringify(result, null, 2));
  };
}

/** Where a command shows a followed workflow's progress: stderr on a terminal, nowhere under `--json` or in a pipe. */
export function progressPrinter(command: Command): ProgressDisplay | undefined {
  const json = Boolean(command.optsWithGlobals().json);
  return !json && process.stderr.isTTY ? terminalDisplay(process.stderr) : undefined;
}
