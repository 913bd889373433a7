import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../clients/cli';
import { commandTree, completionScript } from '../../clients/commands/completion';

/** What bash offers after `words`, with the generated script sourced (the last word is the one being completed). */
function complete(words: string[]): string[] {
  const script = completionScript('bash', commandTree(buildProgram()));
  const line = words.map((w) => `'${w}'`).join(' ');
  const out = execFileSync(
    'bash',
    ['-c', `${script}\nCOMP_WORDS=(${line}); COMP_CWORD=${words.length - 1}; _sciops; printf '%s\\n' "\${COMPREPLY[@]}"`],
    { cwd: `${__dirname}/../..` },
  ).toString();
  return out.split('\n').filter((w) => w !== '');
}

describe('sciops completion', () => {
  it('offers the commands, then the subcommands and options of the command typed so far', () => {
    expect(complete(['sciops', ''])).toEqual(expect.arrayContaining(['deploy', 'experiment', 'backup', 'status', 'completion', '--json']));
    expect(complete(['sciops', 'back'])).toEqual(['backup']);
    expect(complete(['sciops', '--json', 'backup', 'schedule', ''])).toEqual(
      expect.arrayContaining(['create', 'list', 'pause', 'unpause', 'trigger', 'delete']),
    );
    expect(complete(['sciops', 'backup', 'schedule', 'create', '--c'])).toEqual(['--cron', '--catchup']);
    expect(complete(['sciops', 'experiment', 'submit', '--w'])).toEqual(['--wait']);
  });

  it('completes file names for a spec argument', () => {
    expect(complete(['sciops', 'deploy', 'examples/stac'])).toEqual(['examples/stacks']);
  });

  it('zsh loads the same function through bashcompinit', () => {
    const zsh = completionScript('zsh', commandTree(buildProgram()));
    expect(zsh.split('\n')[0]).toBe('autoload -U +X bashcompinit && bashcompinit');
    expect(zsh).toContain('complete -o filenames -F _sciops sciops');
  });
});
