import { describe, expect, it } from 'vitest';
import { parseDotEnv } from '../../common/compose/dot-env';
import { InputError } from '../../common/errors';

describe('parseDotEnv: the .env file compose files interpolate from', () => {
  it('reads names and values as Docker Compose does: export, quotes, escapes, comments', () => {
    const text = [
      '# the database',
      'export DB_USER=omics',
      "DB_PASSWORD='p@ss #1'",
      'GREETING="hello\\nworld \\"x\\""',
      'PLAIN = spaced out   # a comment',
      'EMPTY=',
      '',
    ].join('\n');
    expect(parseDotEnv(text, '.env')).toEqual({
      DB_USER: 'omics',
      DB_PASSWORD: 'p@ss #1',
      GREETING: 'hello\nworld "x"',
      PLAIN: 'spaced out',
      EMPTY: '',
    });
  });

  it('names the file and line of what it cannot read', () => {
    const read = () => parseDotEnv('A=1\nnot a line\nB="open\n', '/srv/omics/.env');
    expect(read).toThrow(InputError);
    expect(read).toThrow(
      '/srv/omics/.env:2: expected NAME=value, got "not a line"; /srv/omics/.env:3: B: the value\'s closing quote is missing',
    );
  });
});
