import type { Command } from 'commander';
import { InputError } from '../../common/errors';

/** One command of the CLI as completion sees it: its words after `sciops`, its subcommands and options. */
export interface CommandNode {
  readonly path: readonly string[];
  readonly subcommands: readonly string[];
  readonly options: readonly string[];
}

/** Every command of a commander program, depth first. */
export function commandTree(program: Command): CommandNode[] {
  const nodes: CommandNode[] = [];
  const walk = (command: Command, path: string[]) => {
    nodes.push({
      path,
      subcommands: command.commands.map((c) => c.name()),
      options: [...command.options.map((o) => o.long ?? o.short ?? ''), '--help'].filter((o) => o !== ''),
    });
    for (const sub of command.commands) walk(sub, [...path, sub.name()]);
  };
  walk(program, []);
  return nodes;
}

/**
 * A bash completion function for the tree (zsh loads the same through bashcompinit): after the words typed
 * so far it offers the subcommands and options of the deepest command they name, and file names for
 * arguments (stack, experiment and backup spec files). Pure.
 */
export function completionScript(shell: 'bash' | 'zsh', tree: readonly CommandNode[]): string {
  const cases = tree
    .map((node) => `    "${node.path.join(' ')}") words="${[...node.subcommands, ...node.options].join(' ')}" ;;`)
    .join('\n');
  const bash = `# sciops completion for ${shell}: eval "$(sciops completion ${shell})", or save it in your completions directory.
_sciops() {
  local cur=\${COMP_WORDS[COMP_CWORD]} path="" word i words=""
  COMPREPLY=()
  for ((i = 1; i < COMP_CWORD; i++)); do
    word=\${COMP_WORDS[i]}
    case "$word" in -*) continue ;; esac
    case " $(_sciops_words "$path") " in *" $word "*) path="\${path:+$path }$word" ;; esac
  done
  words=$(_sciops_words "$path")
  if [[ "$cur" == -* || -n "$words" && "$cur" != */* ]]; then
    COMPREPLY=($(compgen -W "$words" -- "$cur"))
  fi
  if [[ \${#COMPREPLY[@]} -eq 0 ]]; then
    COMPREPLY=($(compgen -f -- "$cur"))
  fi
}
_sciops_words() {
  local words=""
  case "$1" in
${cases}
  esac
  echo "$words"
}
`;
  const register = 'complete -o filenames -F _sciops sciops';
  return shell === 'bash' ? `${bash}${register}\n` : `autoload -U +X bashcompinit && bashcompinit\n${bash}${register}\n`;
}

export function registerCompletion(program: Command): void {
  program
    .command('completion <shell>')
    .description('print shell completion for bash or zsh')
    .addHelpText(
      'after',
      '\nExamples:\n  eval "$(sciops completion bash)"     # in ~/.bashrc\n  eval "$(sciops completion zsh)"      # in ~/.zshrc',
    )
    .action((shell: string) => {
      if (shell !== 'bash' && shell !== 'zsh') throw new InputError('shell', [`"${shell}" is not supported: use bash or zsh`]);
      process.stdout.write(completionScript(shell, commandTree(program)));
    });
}
