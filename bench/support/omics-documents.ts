import { BSON, type Db, type Document, Long, ObjectId } from 'mongodb';

/**
 * Documents shaped like a multi-omics platform's metadata store, for the Mongo backup bench: experiment
 * records (identifiers, nested instrument and protocol metadata, arrays of measured numbers, free-text notes)
 * and the samples they were run on. Generated from a seed, so two runs hold the same data.
 */

const ASSAYS = ['RNA-seq', 'ATAC-seq', 'LC-MS/MS proteomics', 'metabolomics', 'scRNA-seq', 'WGS'];
const INSTRUMENTS = ['NovaSeq 6000', 'Orbitrap Exploris 480', 'timsTOF Pro 2', 'NextSeq 2000', 'Q Exactive HF'];
const TISSUES = ['liver', 'kidney', 'cortex', 'PBMC', 'lung', 'colon'];
const WORDS =
  'sample prepared according to protocol with minor deviations noted replicate batch effect suspected after library quantification reads trimmed aligned against reference genome quality control passed flagged for review'.split(
    ' ',
  );

/** A small deterministic generator (mulberry32): the same seed gives the same documents. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function experiment(i: number, rnd: () => number): Document {
  const pick = <T>(list: readonly T[]) => list[Math.floor(rnd() * list.length)] as T;
  const words = Array.from({ length: 30 + Math.floor(rnd() * 60) }, () => pick(WORDS));
  return {
    _id: new ObjectId(),
    accession: `EXP${String(i).padStart(8, '0')}`,
    project: `PRJ${String(Math.floor(i / 500)).padStart(5, '0')}`,
    sample: `SMP${String(Math.floor(i / 3)).padStart(8, '0')}`,
    assay: pick(ASSAYS),
    createdAt: new Date(Date.UTC(2024, 0, 1) + i * 37_000),
    metadata: {
      instrument: { model: pick(INSTRUMENTS), serial: `SN-${Math.floor(rnd() * 1e6)}`, firmware: '4.2.1' },
      protocol: {
        name: `protocol-${Math.floor(rnd() * 40)}`,
        version: 1 + Math.floor(rnd() * 5),
        kit: pick(['TruSeq', 'Nextera', 'SMART-Seq']),
      },
      donor: { tissue: pick(TISSUES), age: 20 + Math.floor(rnd() * 60), sex: pick(['F', 'M']) },
      tags: Array.from({ length: 1 + Math.floor(rnd() * 4) }, () => pick(WORDS)),
    },
    qc: { reads: Long.fromNumber(Math.floor(rnd() * 8e7)), mappedFraction: rnd(), duplicationRate: rnd() / 4, passed: rnd() > 0.1 },
    // Measured values: per-feature intensities and a coverage profile.
    intensities: Array.from({ length: 120 }, () => Math.round(rnd() * 1e6) / 100),
    coverage: Array.from({ length: 64 }, () => Math.floor(rnd() * 400)),
    notes: words.join(' '),
  };
}

function sample(i: number, rnd: () => number): Document {
  return {
    _id: `SMP${String(i).padStart(8, '0')}`,
    collectedAt: new Date(Date.UTC(2023, 5, 1) + i * 91_000),
    site: `site-${Math.floor(rnd() * 12)}`,
    storage: { freezer: `F${Math.floor(rnd() * 9)}`, rack: Math.floor(rnd() * 40), position: Math.floor(rnd() * 100) },
    consent: { broad: rnd() > 0.3, withdrawn: false },
  };
}

/**
 * Adds experiments (and a sample for every third) to `db` until their BSON reaches `bytes` in all, counting
 * from `from` bytes already written by an earlier call; creates the indexes a platform would have. Returns the
 * BSON bytes written in all.
 */
export async function fillOmics(db: Db, bytes: number, from = 0): Promise<number> {
  const experiments = db.collection('experiments');
  const samples = db.collection('samples');
  if (from === 0) {
    await experiments.createIndex({ accession: 1 }, { unique: true, name: 'accession_unique' });
    await experiments.createIndex({ project: 1, assay: 1 }, { name: 'project_assay' });
  }
  const start = await experiments.countDocuments();
  const rnd = random(start + 1);
  let written = from;
  for (let i = start; written < bytes; ) {
    const batch: Document[] = [];
    const batchSamples: Document[] = [];
    for (let n = 0; n < 500 && written < bytes; n++, i++) {
      const e = experiment(i, rnd);
      batch.push(e);
      written += BSON.calculateObjectSize(e);
      if (i % 3 === 0) {
        const s = sample(i / 3, rnd);
        batchSamples.push(s);
        written += BSON.calculateObjectSize(s);
      }
    }
    await experiments.insertMany(batch, { ordered: false });
    if (batchSamples.length > 0) await samples.insertMany(batchSamples, { ordered: false });
  }
  return written;
}
