import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { InputError } from '../../common/errors';
import { SPEC_INPUTS, specJsonSchema, specReferenceFiles } from '../../common/spec-reference';

export function registerSchema(program: Command): void {
  program
    .command('schema [input]')
    .description(`print the JSON Schema of an input (${SPEC_INPUTS.map((i) => i.name).join(', ')}), for an editor or a CI check`)
    .option('--write <dir>', 'write the whole reference (a page and a JSON Schema per input) into DIR')
    .addHelpText(
      'after',
      '\nExamples:\n  sciops schema stack > stack.schema.json\n  sciops schema --write docs/reference     # what npm run docs:reference does',
    )
    .action((name: string | undefined, options: { write?: string }) => {
      if (options.write !== undefined) {
        mkdirSync(options.write, { recursive: true });
        for (const [file, text] of Object.entries(specReferenceFiles())) writeFileSync(path.join(options.write, file), text);
        return;
      }
      const input = SPEC_INPUTS.find((i) => i.name === name);
      if (input === undefined) {
        throw new InputError('input', [
          `${name === undefined ? 'none given' : `"${name}"`}: give one of ${SPEC_INPUTS.map((i) => i.name).join(', ')}`,
        ]);
      }
      process.stdout.write(`${JSON.stringify(specJsonSchema(input), null, 2)}\n`);
    });
}
