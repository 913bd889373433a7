import type { Migration } from './migrate';

/**
 * The `experiments` table sciops keeps experiment state in. The platform's own app may read it, and may insert
 * rows itself (`insert into experiments (id, type, spec) values (...)`, spec being the experiment spec as JSON):
 * the recovery workflow picks those up. Applied by the db worker on first use; recorded in sciops_migrations.
 */
export const EXPERIMENT_MIGRATIONS: readonly Migration[] = [
  {
    name: '001_experiments',
    sql: `
      create table experiments (
        id              text primary key,
        type            text not null,
        state           text not null default 'PENDING'
                        check (state in ('PENDING', 'IN_PROCESS', 'COMPLETED', 'FINISHED_WITH_ERROR', 'TIMEOUT_EXCEEDED', 'STOPPED')),
        spec            jsonb not null,
        attempts        integer not null default 0,
        exit_code       integer,
        message         text,
        output_dir      text,
        workflow_run_id text,
        created_at      timestamptz not null default now(),
        started_at      timestamptz,
        finished_at     timestamptz,
        updated_at      timestamptz not null default now()
      );
      create index experiments_unfinished on experiments (id) where state in ('PENDING', 'IN_PROCESS');
      create index experiments_type_state on experiments (type, state);`,
  },
];

export const MIGRATIONS_TABLE = 'sciops_migrations';
