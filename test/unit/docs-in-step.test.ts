import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readSpecFile } from '../../clients/spec-file';
import { backupSpecSchema } from '../../common/backup';
import { doctorInputSchema } from '../../common/doctor';
import { efsInputSchema } from '../../common/efs';
import { experimentSpecSchema } from '../../common/experiment';
import { recoverInputSchema } from '../../common/recovery';
import { SEARCH_ATTRIBUTES } from '../../common/search-attributes';
import { SETTINGS } from '../../common/settings';
import { parseInput } from '../../common/validate';

const root = path.resolve(__dirname, '../..');
const readme = readFileSync(path.join(root, 'README.md'), 'utf8');

describe('README', () => {
  it('lists every setting, with its default, and no other', () => {
    const rows = [...readme.matchAll(/^\| `([A-Z0-9_]+)` +\| ([^|]+) \|/gm)].map((m) => [m[1], m[2].trim()]);
    expect(rows.map(([name]) => name)).toEqual(Object.keys(SETTINGS));
    for (const [name, shown] of rows) {
      const { default: value } = SETTINGS[name as keyof typeof SETTINGS];
      if (value === '') expect(shown, name).toMatch(/^\(none/);
      else expect(shown, name).toBe(`\`${value}\``);
    }
  });

  it('names every custom search attribute', () => {
    for (const key of SEARCH_ATTRIBUTES) expect(readme).toContain(`\`${key.name}\``);
  });
});

describe('examples', () => {
  it('doctor.json is a valid doctor input', () => {
    const json = JSON.parse(readFileSync(path.join(root, 'examples/doctor.json'), 'utf8'));
    expect(parseInput(doctorInputSchema, json, 'doctor input')).toEqual({ nodes: [], waitSeconds: 15 });
  });

  it.each(['correlation.json', 'training-on-gpu-node.yaml', 'batch-inference.json'])(
    'experiments/%s is a valid experiment spec',
    (file) => {
      const spec = parseInput(experimentSpecSchema, readSpecFile(path.join(root, 'examples/experiments', file)), file);
      expect(spec.image).toBe('local/busybox:1');
    },
  );

  it.each(['omics-nightly.yaml', 'omics-to-s3.json'])('backups/%s is a valid backup spec', (file) => {
    const spec = parseInput(backupSpecSchema, readSpecFile(path.join(root, 'examples/backups', file)), file);
    expect(spec.targets[0]?.kind).toBe('postgres');
  });

  it('efs.json and recover.json are valid inputs of their workflows', () => {
    expect(parseInput(efsInputSchema, readSpecFile(path.join(root, 'examples/efs.json')), 'efs').creationToken).toBe('omics-shared');
    expect(parseInput(recoverInputSchema, readSpecFile(path.join(root, 'examples/recover.json')), 'recover')).toEqual({ pageSize: 200 });
  });
});
