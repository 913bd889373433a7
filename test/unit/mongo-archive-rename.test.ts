import { describe, expect, it } from 'vitest';
import { NamespaceRenameError, NamespaceRenamer, planRenames } from '../../common/mongo-archive';

const rename = (from: string, to: string, ns: string) => new NamespaceRenamer([{ from, to }]).rename(ns).namespace;

describe('mongorestore --nsFrom/--nsTo renames', () => {
  it.each([
    ['multiomics.*', 'restored.*', 'multiomics.samples', 'restored.samples'],
    ['multiomics.*', 'restored.*', 'multiomics.system.js', 'restored.system.js'],
    ['multiomics.*', 'restored.*', 'other.samples', 'other.samples'],
    ['*.samples', '*.samples_old', 'a.samples', 'a.samples_old'],
    ['*.samples', '*.samples_old', 'a.b.samples', 'a.b.samples_old'],
    ['*.*', '*_copy.*', 'lab.runs.2024', 'lab_copy.runs.2024'],
    ['lab.run*', 'lab.old_run*', 'lab.runs', 'lab.old_runs'],
    ['lab.run*', 'lab.old_run*', 'lab.trun', 'lab.trun'],
    ['lab.a\\*b', 'lab.ab', 'lab.a*b', 'lab.ab'],
    ['lab.a\\*b', 'lab.ab', 'lab.axb', 'lab.axb'],
    ['lab.(x)+', 'lab.y', 'lab.(x)+', 'lab.y'],
    ['lab.(x)+', 'lab.y', 'lab.xx', 'lab.xx'],
    ['$db$.$coll$', '$coll$.$db$', 'lab.runs', 'runs.lab'],
    ['$db$.runs_$year$', '$db$_$year$.runs', 'lab.runs_2024', 'lab_2024.runs'],
    ['$db$.*', '$db$.x', 'lab.*', 'lab.x'],
    ['$db$.*', '$db$.x', 'lab.runs', 'lab.runs'],
  ])('%s -> %s renames %s to %s', (from, to, ns, expected) => {
    expect(rename(from, to, ns)).toBe(expected);
  });

  it('lets the pair given last win when several match', () => {
    const renamer = new NamespaceRenamer([
      { from: 'lab.*', to: 'a.*' },
      { from: 'lab.runs', to: 'b.runs' },
    ]);
    expect(renamer.rename('lab.runs')).toEqual({ namespace: 'b.runs', by: { from: 'lab.runs', to: 'b.runs' } });
    expect(renamer.rename('lab.samples').namespace).toBe('a.samples');
    expect(renamer.rename('other.x')).toEqual({ namespace: 'other.x' });
  });

  it.each([
    ['a.*', 'b', /has 1 '\*' and nsTo 'b' has 0/],
    ['$db$.x', '$other$.x', /variable 'other', which nsFrom '\$db\$.x' does not define/],
    ['$db$.$db$', '$db$.x', /variable 'db' is used twice/],
    ['$db.x', '$db$.x', /a lone '\$' in nsFrom/],
    ['a.x', '$db$.x', /uses '\$' variables but nsFrom 'a.x' has none/],
  ])('refuses the malformed pair %s -> %s', (from, to, message) => {
    expect(() => new NamespaceRenamer([{ from, to }])).toThrow(message);
  });
});

describe('renames planned for an archive', () => {
  const archive = ['multiomics.samples', 'multiomics.runs', 'multiomics.system.views', 'meta.tags'];

  it('maps every namespace, the untouched ones to themselves', () => {
    const plan = planRenames(archive, [{ from: 'multiomics.*', to: 'scratch.*' }]);
    expect(Object.fromEntries(plan)).toEqual({
      'multiomics.samples': { db: 'scratch', collection: 'samples' },
      'multiomics.runs': { db: 'scratch', collection: 'runs' },
      'multiomics.system.views': { db: 'scratch', collection: 'system.views' },
      'meta.tags': { db: 'meta', collection: 'tags' },
    });
  });

  it('refuses an nsFrom that matches nothing in the archive, with a hint for a bare database name', () => {
    expect(() => planRenames(archive, [{ from: 'multiomix.*', to: 'b.*' }])).toThrow(
      /nsFrom 'multiomix.\*' matches no namespace of the archive; it has multiomics.samples/,
    );
    expect(() => planRenames(archive, [{ from: 'multiomics', to: 'b' }])).toThrow(/'multiomics.\*' for a whole database/);
  });

  it.each(['admin', 'local', 'config', 'Admin'])('refuses an nsTo into %s', (db) => {
    expect(() => planRenames(archive, [{ from: 'meta.*', to: `${db}.*` }])).toThrow(NamespaceRenameError);
    expect(() => planRenames(archive, [{ from: 'meta.*', to: `${db}.*` }])).toThrow(/holds the server's own data: refused/);
  });

  it('refuses a target without a collection part, and two namespaces renamed onto one', () => {
    expect(() => planRenames(archive, [{ from: 'meta.*', to: 'flat*' }])).toThrow(/to 'flattags', which is not database.collection/);
    expect(() => planRenames(archive, [{ from: 'meta.tags', to: 'multiomics.runs' }])).toThrow(
      /both multiomics.runs and meta.tags would be restored into multiomics.runs/,
    );
  });
});
