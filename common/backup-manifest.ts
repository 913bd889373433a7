import { z } from 'zod';
import { type BackupSpec, type BackupTarget, backupSpecSchema, type DumpRecord, dumpFileName, NAME, RUN_ID } from './backup';
import { fieldPath } from './validate';

export const MANIFEST_FILE = 'manifest.json';
export const MANIFEST_FORMAT = 'sciops-backup/1';

const counts = z.record(z.string().min(1), z.number().int().min(0));

/** A file name inside its run's folder: no `/`, no `..`, not hidden. */
const fileName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'a plain file name inside the run (no /)')
  .refine((name) => !name.includes('..'), 'a plain file name inside the run (no ..)');

const dumpRecordSchema = z.strictObject({
  target: z.string().regex(NAME, 'a target name'),
  kind: z.enum(['postgres', 'mongo', 'volume']),
  file: fileName,
  bytes: z.number().int().min(0),
  sha256: z.string().regex(/^[0-9a-f]{64}$/, 'a SHA-256 in hex'),
  tool: z.string(),
  server: z.string().optional(),
  tables: counts.optional(),
  files: z.number().int().min(0).optional(),
  collections: counts.optional(),
  database: z.string().min(1).optional(),
}) satisfies z.ZodType<DumpRecord>;

/** A run imported from a file made outside sciops (`sciops backup import`): where from, which bytes, when. */
const importedSchema = z.strictObject({
  from: z.string().min(1).max(4096),
  sha256: z.string().regex(/^[0-9a-f]{64}$/, 'a SHA-256 in hex (of the original file)'),
  at: z.iso.datetime(),
  takenAt: z.iso.datetime({ offset: true }).optional(),
  repaired: z.array(z.string()).optional(),
});

/** A backup run's manifest, written last: a run without one is incomplete and never restored. */
export const manifestSchema = z.strictObject({
  format: z.literal(MANIFEST_FORMAT),
  backup: z.string().regex(NAME, 'a backup name'),
  run: z.string().regex(RUN_ID, 'a run id'),
  startedAt: z.iso.datetime(),
  finishedAt: z.iso.datetime(),
  spec: backupSpecSchema,
  dumps: z.array(dumpRecordSchema),
  verified: z.boolean(),
  imported: importedSchema.optional(),
});

export type Manifest = z.infer<typeof manifestSchema>;

/**
 * The names a target's dump may have in a run: this version's, and for MongoDB also the `.ejson.gz` of the
 * runs written before mongodump archives (`sciops-mongo/1` dumps, which a restore still reads).
 */
const dumpFileNames = (target: BackupTarget, run: string) =>
  target.kind === 'mongo' ? [dumpFileName(target, run), `${target.name}-${run}.ejson.gz`] : [dumpFileName(target, run)];

/** What each kind's dump must record for a restore to be compared with it. */
const COUNTS = { postgres: 'tables', mongo: 'collections', volume: 'files' } as const;

/**
 * A manifest read from a store, checked before anything trusts it: its shape (the schema), that it is the
 * run of the backup whose folder it is in, and that every dump is of a target of its spec, of that target's
 * kind, under the file name that target's dumps get in this run (so never outside the run's folder). Returns
 * the manifest, or every problem found, each naming the field. Pure.
 */
export function checkedManifest(raw: unknown, expected: { backup: string; run: string }): { manifest: Manifest } | { problems: string[] } {
  const parsed = manifestSchema.safeParse(raw);
  if (!parsed.success) return { problems: parsed.error.issues.map((i) => `${fieldPath(i.path)}: ${i.message}`) };
  const m = parsed.data;
  const problems: string[] = [];
  if (m.backup !== expected.backup) problems.push(`backup: "${m.backup}", but the folder is backup ${expected.backup}'s`);
  if (m.run !== expected.run) problems.push(`run: "${m.run}", but the folder is run ${expected.run}`);
  if (m.spec.name !== m.backup) problems.push(`spec.name: "${m.spec.name}", but the manifest is of backup ${m.backup}`);
  const seen = new Set<string>();
  for (const [i, d] of m.dumps.entries()) {
    const at = `dumps[${i}]`;
    if (seen.has(d.target)) problems.push(`${at}.target: "${d.target}" has two dumps`);
    seen.add(d.target);
    const target = m.spec.targets.find((t) => t.name === d.target);
    if (target === undefined) problems.push(`${at}.target: "${d.target}" is not a target of the manifest's spec`);
    else if (target.kind !== d.kind) problems.push(`${at}.kind: ${d.kind}, but the spec's target ${d.target} is ${target.kind}`);
    else if (!dumpFileNames(target, m.run).includes(d.file))
      problems.push(`${at}.file: "${d.file}", but ${d.target}'s dump in this run is ${dumpFileName(target, m.run)}`);
    if (d[COUNTS[d.kind]] === undefined) problems.push(`${at}.${COUNTS[d.kind]}: missing (a ${d.kind} dump records it)`);
  }
  return problems.length > 0 ? { problems } : { manifest: m };
}

/** JSON with keys sorted at every level: equal for equal values, whatever order their keys came in. Pure. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    return `{${entries
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * Where a manifest's targets differ from the backup spec the operator gave the restore: for each of the
 * `chosen` targets, one line naming what differs. A restore with a spec writes only into that spec's targets,
 * so a store cannot send it to another database, volume, node or image. Pure.
 */
export function specDisagreements(manifest: Manifest, spec: BackupSpec, chosen: readonly string[]): string[] {
  const problems: string[] = [];
  if (spec.name !== manifest.backup) problems.push(`the spec is of backup ${spec.name}, the run of backup ${manifest.backup}`);
  for (const name of chosen) {
    const given = spec.targets.find((t) => t.name === name);
    const recorded = manifest.spec.targets.find((t) => t.name === name) as BackupTarget;
    if (given === undefined) problems.push(`${name}: not a target of the given spec`);
    else if (canonical(given) !== canonical(recorded)) {
      problems.push(`${name}: the manifest says ${canonical(recorded)}, the spec says ${canonical(given)}`);
    }
  }
  return problems;
}
