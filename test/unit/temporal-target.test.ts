import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ConfigError } from '../../common/errors';
import { loadTemporalTarget } from '../../common/temporal-connection';

function profileFile(toml: string): string {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'sciops-envconfig-')), 'temporal.toml');
  writeFileSync(file, toml);
  return file;
}

describe('loadTemporalTarget: Temporal’s own connection settings', () => {
  afterEach(() => vi.unstubAllEnvs());

  it('defaults to localhost:7233 and the default namespace', () => {
    vi.stubEnv('TEMPORAL_CONFIG_FILE', '/nonexistent/temporal.toml');
    vi.stubEnv('TEMPORAL_ADDRESS', undefined);
    vi.stubEnv('TEMPORAL_NAMESPACE', undefined);
    expect(loadTemporalTarget()).toMatchObject({ address: 'localhost:7233', namespace: 'default' });
  });

  it('reads a profile from the config file, and lets TEMPORAL_ADDRESS override it', () => {
    vi.stubEnv('TEMPORAL_CONFIG_FILE', profileFile('[profile.lab]\naddress = "temporal.lab:7233"\nnamespace = "omics"\n'));
    vi.stubEnv('TEMPORAL_PROFILE', 'lab');
    vi.stubEnv('TEMPORAL_ADDRESS', undefined);
    vi.stubEnv('TEMPORAL_NAMESPACE', undefined);
    expect(loadTemporalTarget()).toMatchObject({ address: 'temporal.lab:7233', namespace: 'omics' });
    vi.stubEnv('TEMPORAL_ADDRESS', '127.0.0.1:7300');
    expect(loadTemporalTarget()).toMatchObject({ address: '127.0.0.1:7300', namespace: 'omics' });
  });

  it('names TEMPORAL_ADDRESS when it is not host:port', () => {
    vi.stubEnv('TEMPORAL_CONFIG_FILE', '/nonexistent/temporal.toml');
    vi.stubEnv('TEMPORAL_ADDRESS', 'temporal.lab');
    expect(() => loadTemporalTarget()).toThrow(
      new ConfigError('TEMPORAL_ADDRESS', '"temporal.lab" is not host:port (e.g. localhost:7233)'),
    );
  });
});
