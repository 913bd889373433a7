import { Client } from 'pg';
import { Failure, permanent } from '../../common/failures';
import { DEFAULT_STACK_SOURCE_POLICY, type StackSourcePolicy } from '../../common/stack-sources';
import { createSourceGuard } from '../docker/stack-sources';

const TRACKING = `create table if not exists sciops_stack_migrations (
  stack text not null, name text not null, applied_at timestamptz not null default now(), primary key (stack, name))`;

/**
 * A stack's SQL migrations, applied to the platform's own database (its URL read, on this worker, from the
 * variable the spec names, so it never enters workflow history). Each is applied once: recorded in
 * `sciops_stack_migrations` in the same transaction as its SQL, under an advisory lock per stack. A
 * migration's `file` is read only under this worker's SCIOPS_MIGRATION_FILE_ROOTS (`sources`), never from
 * sciops' own secrets and keys: the plan asks `checkMigrationFiles` first, and the read checks again.
 */
export function createStackMigrations(sources: StackSourcePolicy = DEFAULT_STACK_SOURCE_POLICY) {
  const guard = createSourceGuard(sources);
  return {
    /** What this worker refuses of the migrations' files, or cannot read; empty: every one can be applied. */
    async checkMigrationFiles(input: { migrations: ReadonlyArray<{ name: string; file: string }> }): Promise<string[]> {
      return guard.checkFiles(
        'migration',
        input.migrations.map((m) => ({ field: `migrations.${m.name}.file`, file: m.file })),
      );
    },

    async applySqlMigration(input: {
      stack: string;
      urlEnv: string;
      name: string;
      sql?: string;
      file?: string;
    }): Promise<{ applied: boolean }> {
      const url = process.env[input.urlEnv];
      if (url === undefined || url === '')
        throw permanent(Failure.migrationFailed, `database.urlEnv: ${input.urlEnv} is not set on the db worker`);
      const sql = input.sql ?? (await guard.readFile('migration', `migrations.${input.name}.file`, input.file as string)).toString('utf8');
      const client = new Client({ connectionString: url });
      await client.connect();
      try {
        await client.query(TRACKING);
        await client.query('begin');
        await client.query('select pg_advisory_xact_lock(hashtext($1))', [`sciops.stack.${input.stack}`]);
        const done = await client.query('select 1 from sciops_stack_migrations where stack = $1 and name = $2', [input.stack, input.name]);
        if (done.rowCount === 1) {
          await client.query('commit');
          return { applied: false };
        }
        try {
          await client.query(sql);
        } catch (err) {
          throw permanent(Failure.migrationFailed, `migration ${input.name} failed, nothing of it was applied: ${(err as Error).message}`);
        }
        await client.query('insert into sciops_stack_migrations (stack, name) values ($1, $2)', [input.stack, input.name]);
        await client.query('commit');
        return { applied: true };
      } catch (err) {
        await client.query('rollback').catch(() => undefined);
        throw err;
      } finally {
        await client.end();
      }
    },
  };
}
