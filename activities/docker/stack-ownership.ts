import { Failure, permanent } from '../../common/failures';
import { STACK_LABEL } from '../../common/labels';

/**
 * Refuses to adopt an object another sciops stack made: names are `<stack>_<name>`, and without this check a
 * second stack whose names meet the first's would share its volume or update its service. An object that no
 * sciops stack labelled (made by `docker stack deploy`, say) is taken over, as docker would. Pure.
 */
export function refuseForeign(
  kind: 'volume' | 'network' | 'service',
  name: string,
  existing: Readonly<Record<string, string>> | undefined,
  wanted: Readonly<Record<string, string>>,
): void {
  const owner = existing?.[STACK_LABEL];
  if (owner === undefined || owner === wanted[STACK_LABEL]) return;
  throw permanent(
    Failure.stackRejected,
    `${kind} ${name} belongs to stack ${owner}, not ${wanted[STACK_LABEL]}: rename one of them; nothing of it was changed`,
  );
}
