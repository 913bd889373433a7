import type { ApplicationFailure } from '@temporalio/common';
import type { Pool, PoolClient } from 'pg';
import { InputError } from '../../common/errors';
import { concurrencySetting, type ExperimentResult, type ExperimentSpec, experimentSpecSchema } from '../../common/experiment';
import type { ExperimentLimits } from '../../common/experiment-limits';
import { type ExperimentState, isTerminal, previousStates, ExperimentState as State } from '../../common/experiment-state';
import { Failure, permanent } from '../../common/failures';
import { canonicalJson } from '../../common/fingerprint';
import { parseInput } from '../../common/validate';
import { EXPERIMENT_MIGRATIONS, MIGRATIONS_TABLE } from './experiments-schema';
import { applyMigrations } from './migrate';

export interface Registration {
  readonly row: ExperimentResult;
  /** The soft time limit to apply: the spec's own, else the type's from the db worker's configuration. */
  readonly timeLimitSeconds: number;
  /** Set when the row stayed PENDING for want of a slot under the type's cap: what it waits for. */
  readonly waitingFor?: string;
  /** Set for a re-run of an experiment already IN_PROCESS: seconds since it took its slot. */
  readonly runningSeconds?: number;
}

const ROW_COLUMNS = `id, type, state, attempts, exit_code, message, output_dir,
  extract(epoch from (finished_at - started_at))::float8 as duration`;

interface DbRow {
  id: string;
  type: string;
  state: ExperimentState;
  attempts: number;
  exit_code: number | null;
  message: string | null;
  output_dir: string | null;
  duration: number | null;
}

function toRow(r: DbRow): ExperimentResult {
  return {
    id: r.id,
    type: r.type,
    state: r.state,
    attempts: r.attempts,
    ...(r.exit_code === null ? {} : { exitCode: r.exit_code }),
    ...(r.message === null ? {} : { message: r.message }),
    ...(r.output_dir === null ? {} : { outputDir: r.output_dir }),
    ...(r.duration === null ? {} : { durationSeconds: Math.round(r.duration * 1000) / 1000 }),
  };
}

export function createExperimentState(pool: Pool, limits: ExperimentLimits) {
  let schema: Promise<unknown> | undefined;
  /** Applies the shipped migrations once per pool; a failure is retried on the next call. */
  const ready = (): Promise<unknown> => {
    schema ??= applyMigrations(pool, MIGRATIONS_TABLE, EXPERIMENT_MIGRATIONS).catch((err: unknown) => {
      schema = undefined;
      throw err;
    });
    return schema;
  };

  async function current(db: Pool | PoolClient, id: string): Promise<ExperimentResult | undefined> {
    const { rows } = await db.query<DbRow>(`select ${ROW_COLUMNS} from experiments where id = $1`, [id]);
    return rows[0] && toRow(rows[0]);
  }

  /** Seconds since an IN_PROCESS experiment took its slot, by the database's clock. */
  async function runningFor(id: string): Promise<number | undefined> {
    const { rows } = await pool.query<{ s: number | null }>(
      'select extract(epoch from (now() - started_at))::float8 as s from experiments where id = $1',
      [id],
    );
    const seconds = rows[0]?.s;
    return seconds === null || seconds === undefined ? undefined : Math.max(0, seconds);
  }

  /**
   * PENDING -> IN_PROCESS, when the type's concurrency cap (EXPERIMENT_CONCURRENCY_<TYPE>) leaves room.
   * Returns the row as it is then; without room it stays PENDING and `waitingFor` says why, and the workflow
   * waits for a `slotFreed` signal and asks again. Already IN_PROCESS (a re-run after a crash) is a slot.
   */
  async function claim(id: string, type: string): Promise<{ row: ExperimentResult; waitingFor?: string }> {
    const cap = limits.concurrency(type);
    const client = await pool.connect();
    try {
      await client.query('begin');
      if (cap !== undefined) await client.query('select pg_advisory_xact_lock(hashtext($1))', [`sciops.experiments.${type}`]);
      await client.query(
        `update experiments set state = 'IN_PROCESS', started_at = now(), updated_at = now()
          where id = $1 and state = 'PENDING'
            and ($3::int is null or (select count(*) from experiments where type = $2 and state = 'IN_PROCESS') < $3)`,
        [id, type, cap ?? null],
      );
      await client.query('commit');
    } catch (err) {
      await client.query('rollback').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
    const row = await current(pool, id);
    if (row?.state === State.inProcess) return { row };
    if (row?.state === State.pending) return { row, waitingFor: `${cap} of type ${type} already running (${concurrencySetting(type)})` };
    throw illegal(id, row?.state, State.inProcess);
  }

  return {
    /**
     * Records the experiment (PENDING) unless its row exists, counts this workflow run as an attempt (once
     * per run, however often this activity is retried), and takes a slot (IN_PROCESS) when the type's cap
     * allows; one round trip for what every experiment does first. An existing row with a different spec is a
     * conflict: the same id cannot name two experiments.
     */
    async registerExperiment(input: { spec: ExperimentSpec; runId: string }): Promise<Registration> {
      await ready();
      const { spec, runId } = input;
      await pool.query('insert into experiments (id, type, spec) values ($1, $2, $3) on conflict (id) do nothing', [
        spec.id,
        spec.type,
        JSON.stringify(spec),
      ]);
      const stored = await pool.query<{ spec: unknown }>('select spec from experiments where id = $1', [spec.id]);
      let storedSpec: ExperimentSpec;
      try {
        storedSpec = parseInput(experimentSpecSchema, stored.rows[0].spec, 'stored experiment spec');
      } catch (err) {
        storedSpec = stored.rows[0].spec as ExperimentSpec;
        if (!(err instanceof InputError)) throw err;
      }
      if (canonicalJson(storedSpec) !== canonicalJson(spec)) {
        throw permanent(
          Failure.experimentSpecConflict,
          `experiment "${spec.id}" already exists with a different spec; give the new experiment another id`,
        );
      }
      await pool.query(
        `update experiments
            set attempts = attempts + 1, workflow_run_id = $2, updated_at = now()
          where id = $1 and state in ('PENDING', 'IN_PROCESS') and workflow_run_id is distinct from $2`,
        [spec.id, runId],
      );
      let row = await current(pool, spec.id);
      if (row === undefined) throw new Error(`experiment ${spec.id} vanished while it was registered`);
      let waitingFor: string | undefined;
      // Already IN_PROCESS: a re-run after a crash, whose soft limit has been running since it started.
      const before = row.state === State.inProcess ? await runningFor(spec.id) : undefined;
      if (row.state === State.pending && row.attempts <= spec.maxAttempts) {
        ({ row, waitingFor } = await claim(spec.id, spec.type));
      }
      const timeLimitSeconds = spec.timeLimitSeconds ?? limits.timeLimitSeconds(spec.type);
      return { row, timeLimitSeconds, waitingFor, ...(before === undefined ? {} : { runningSeconds: before }) };
    },

    /** Asks again for a slot, for an experiment left PENDING by registerExperiment. */
    claimExperimentSlot: (input: { id: string; type: string }) => claim(input.id, input.type),

    /**
     * Moves an experiment to a terminal state with its result, in one statement that checks the previous
     * state. Repeating the same move is a no-op (an activity retry); any other move from a terminal state fails.
     * Also returns the experiments of the same type waiting for the slot this one freed (under a cap).
     */
    async finishExperiment(input: {
      id: string;
      state: ExperimentState;
      exitCode?: number;
      message?: string;
      outputDir?: string;
    }): Promise<{ result: ExperimentResult; waiting: string[] }> {
      await ready();
      if (!isTerminal(input.state)) throw new Error(`finishExperiment needs a terminal state, not ${input.state}`);
      await pool.query(
        `update experiments
            set state = $2, exit_code = $3, message = $4, output_dir = $6, finished_at = now(), updated_at = now(),
                started_at = coalesce(started_at, now())
          where id = $1 and state = any($5)`,
        [input.id, input.state, input.exitCode ?? null, input.message ?? null, previousStates(input.state), input.outputDir ?? null],
      );
      const row = await current(pool, input.id);
      if (row?.state !== input.state) throw illegal(input.id, row?.state, input.state);
      // Under a cap this ending freed a slot: the oldest experiments waiting for one, to be woken.
      const cap = limits.concurrency(row.type);
      const waiting =
        cap === undefined
          ? []
          : (
              await pool.query<{ id: string }>(
                `select id from experiments where type = $1 and state = 'PENDING' and id <> $2 order by created_at, id limit $3`,
                [row.type, row.id, cap],
              )
            ).rows.map((r) => r.id);
      return { result: row, waiting };
    },

    /** Experiments left PENDING or IN_PROCESS, oldest first, after the given id (keyset paging). */
    async listUnfinishedExperiments(input: { afterId?: string; limit: number }): Promise<Array<{ id: string; spec: unknown }>> {
      await ready();
      const { rows } = await pool.query<{ id: string; spec: unknown }>(
        `select id, spec from experiments
          where state in ('PENDING', 'IN_PROCESS') and ($1::text is null or id > $1)
          order by id limit $2`,
        [input.afterId ?? null, input.limit],
      );
      return rows;
    },
  };
}

function illegal(id: string, from: ExperimentState | undefined, to: ExperimentState): ApplicationFailure {
  return permanent(
    Failure.illegalTransition,
    from === undefined
      ? `experiment "${id}" has no row in experiments`
      : `experiment "${id}" is ${from}; it cannot move to ${to} (states only move forward)`,
  );
}
