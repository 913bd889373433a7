import type { Pool } from 'pg';

/**
 * Tables shaped like a research platform's PostgreSQL, for the backup bench: a dump of them gzips about 3:1,
 * as real data does (pgbench's tables gzip 55:1, so gzip is never the bottleneck there). Generated inside the
 * server with generate_series, random() and md5, so no rows cross the client:
 * - samples: a TCGA-style barcode, project, tissue, a paragraph of free text and a jsonb of donor, library,
 *   sequencing and QC metadata;
 * - expression: one row per sample and gene (2000 genes a sample), a TPM with a log-uniform spread over six
 *   orders of magnitude and a read count from it, keyed (sample_id, gene_id);
 * - pipeline_log: 150 lines a sample, timestamped, with levels, durations, paths and checksums.
 */

export const RESEARCH_TABLES = ['samples', 'expression', 'pipeline_log'] as const;

const SCHEMA = `
create table if not exists samples (
  id bigint primary key, barcode text not null, project text not null, tissue text not null,
  collected date not null, notes text not null, metadata jsonb not null);
create table if not exists expression (
  sample_id bigint not null, gene_id text not null, tpm double precision not null, read_count integer not null,
  primary key (sample_id, gene_id));
create table if not exists pipeline_log (
  id bigint primary key, at timestamptz not null, sample_id bigint not null, level text not null, message text not null);`;

const WORDS =
  "'{sample,received,on,dry,ice,aliquoted,into,two,tubes,RNA,extracted,with,column,kit,yield,below,expected,library,prepared,after,DNase,treatment,tumour,content,estimated,by,pathologist,review,normal,adjacent,tissue,flagged,for,re-sequencing,low,complexity,batch,effect,suspected,consent,withdrawn,pending,update,RIN,degraded,partial,FFPE,block,storage,freezer,rack,shipped,courier,delayed,thawed,once,the,of,and,a,was,in}'::text[]";

/** One batch: `count` samples from id `first`, their expression rows and log lines. */
function batch(first: number, count: number): string {
  const s = `generate_series(${first}, ${first + count - 1}) s`;
  const pick = (list: string) => `(${list})[1 + floor(random() * cardinality(${list}))::int]`;
  return `
insert into samples
select s,
  format('TCGA-%s-%s-%s%s', ${pick("'{A1,B6,E2,AR,BH,D8,OL,LL,A2,C8}'::text[]")}, upper(substr(md5(s::text), 1, 4)),
    ${pick("'{01,01,01,11,06}'::text[]")}, ${pick("'{A,A,B}'::text[]")}),
  ${pick("'{TCGA-BRCA,TCGA-LUAD,TCGA-COAD,TCGA-KIRC,TCGA-PRAD,TCGA-GBM}'::text[]")},
  ${pick("'{breast,lung,colon,kidney,prostate,brain}'::text[]")},
  date '2012-01-01' + floor(random() * 4000)::int,
  (select string_agg(${pick(WORDS)}, ' ') from generate_series(1, 40 + (s % 7) * 15)),
  jsonb_build_object(
    'donor', jsonb_build_object('age', 20 + floor(random() * 70), 'sex', ${pick("'{female,male}'::text[]")},
      'stage', ${pick("'{I,IIA,IIB,IIIA,IIIC,IV}'::text[]")}, 'smoker', random() < 0.3),
    'library', jsonb_build_object('kit', ${pick("'{TruSeq Stranded mRNA,NEBNext Ultra II,SMARTer v4}'::text[]")},
      'lot', upper(substr(md5(random()::text), 1, 8)), 'rin', round((6 + random() * 4)::numeric, 1),
      'input_ng', round((50 + random() * 950)::numeric, 2)),
    'sequencing', jsonb_build_object('instrument', ${pick("'{NovaSeq 6000,HiSeq 4000,NextSeq 2000}'::text[]")},
      'flowcell', upper(substr(md5(random()::text), 1, 9)), 'lane', 1 + floor(random() * 8),
      'reads', floor(2e7 + random() * 8e7), 'read_length', 101),
    'qc', jsonb_build_object('mapped_fraction', random(), 'duplication', random() * 0.4,
      'median_insert', floor(150 + random() * 200), 'passed', random() > 0.1))
from ${s};
insert into expression
select s, 'ENSG' || lpad((g * 29 + 3000)::text, 11, '0'), v.tpm, floor(v.tpm * (10 + random() * 40))::int
from ${s} cross join generate_series(1, 2000) g cross join lateral (select exp(random() * 14 - 5) + g * 0 as tpm) v;
insert into pipeline_log
select s * 150 + k, timestamptz '2024-01-01' + (s * 150 + k) * interval '7 s' + random() * interval '5 s', s,
  ${pick("'{INFO,INFO,INFO,INFO,DEBUG,DEBUG,WARN,ERROR}'::text[]")},
  case k % 4
    when 0 then format('step=align sample=%s reads=%s mapped=%s duration_ms=%s', s, floor(random() * 1e8), floor(random() * 1e8), floor(random() * 1e6))
    when 1 then format('wrote s3://platform-runs/%s/%s.bam size=%s md5=%s', s, k, floor(random() * 1e10), md5(random()::text))
    when 2 then format('step=quantify sample=%s genes=2000 worker=node-%s retries=%s', s, floor(random() * 64), floor(random() * 3))
    else format('qc mapped_fraction=%s duplication=%s', random(), random() * 0.4) end
from ${s} cross join generate_series(0, 149) k;`;
}

/** Megabytes of the three tables' data (heap and TOAST, not their indexes). */
async function tableMb(pool: Pool): Promise<number> {
  const sizes = RESEARCH_TABLES.map((t) => `pg_table_size('${t}')`).join(' + ');
  const { rows } = await pool.query<{ bytes: string }>(`select (${sizes})::bigint as bytes`);
  return Number(rows[0]?.bytes) / 1e6;
}

/**
 * Creates the tables if they are not there and adds batches of 100 samples until they hold `mb` MB of data
 * (what is there already counts, so a second call with 4x the size adds 3x as much). Returns the MB and
 * the samples now held.
 */
export async function fillResearch(pool: Pool, mb: number): Promise<{ mb: number; samples: number }> {
  await pool.query(SCHEMA);
  let held = await tableMb(pool);
  const { rows } = await pool.query<{ n: string }>('select count(*) as n from samples');
  let samples = Number(rows[0]?.n);
  while (held < mb) {
    await pool.query(batch(samples + 1, 100));
    samples += 100;
    held = await tableMb(pool);
  }
  await pool.query(`vacuum analyze ${RESEARCH_TABLES.join(', ')}`);
  return { mb: held, samples };
}
