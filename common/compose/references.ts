import type { DraftService } from './draft';
import { originOf } from './draft';
import type { Issues, Where } from './issues';
import type { ComposeModel } from './model';

/**
 * The checks docker makes once the files are merged: every service has a valid image reference (docker/cli
 * `loadComposeFile`); every volume, network, secret and config a service uses is defined at the top level (the
 * swarm converter's "undefined volume" and the like); no service has replicas with mode global, or a healthcheck both
 * disabled and tested (the converter refuses both, also when two files bring the two halves). Each issue points at
 * the reference, and names the other file when the conflict spans two.
 */
export function checkReferences(
  services: Readonly<Record<string, DraftService>>,
  top: Pick<ComposeModel, 'volumes' | 'networks' | 'secrets' | 'configs'>,
  issues: Issues,
): void {
  for (const s of Object.values(services)) {
    if (s.image === undefined || s.image === '') {
      issues.add(s.at, `no image: docker stack deploy runs every service from an image (it ignores build); add image`);
    } else if (!isImageReference(s.image)) {
      issues.add(
        s.imageAt ?? s.at,
        `invalid image reference ${JSON.stringify(s.image)}: expected [registry/]name[:tag][@digest] with a lower-case name`,
      );
    }
    const deploy = s.deploy;
    if (deploy?.mode === 'global' && deploy.replicas !== undefined && deploy.replicasAt && deploy.modeAt) {
      issues.add(
        deploy.replicasAt,
        `replicas cannot be used with mode global (${elsewhere(deploy.modeAt, deploy.replicasAt)}): remove replicas or the global mode`,
      );
    }
    const health = s.healthcheck;
    if (health?.disable && health.test && health.test.length > 0 && health.disableAt && health.testAt) {
      issues.add(
        health.disableAt,
        `a healthcheck cannot be both disabled and given a test (${elsewhere(health.testAt, health.disableAt)}): remove test or disable`,
      );
    }
    for (const volume of s.volumes ?? []) {
      if (volume.type !== 'volume' || volume.source === undefined || Object.hasOwn(top.volumes, volume.source)) continue;
      issues.add(
        originOf(volume, s.at),
        `undefined volume ${JSON.stringify(volume.source)}: define it under the top-level volumes key, or write ./${volume.source} for a bind mount`,
      );
    }
    for (const network of Object.keys(s.networks ?? {})) {
      if (network === 'default' || Object.hasOwn(top.networks, network)) continue;
      const where: Where = s.networkAt[network] ?? s.at;
      issues.add(where, `undefined network ${JSON.stringify(network)}: define it under the top-level networks key`);
    }
    for (const kind of ['secrets', 'configs'] as const) {
      for (const ref of s[kind] ?? []) {
        if (Object.hasOwn(top[kind], ref.source)) continue;
        issues.add(
          originOf(ref, s.at),
          `undefined ${kind.slice(0, -1)} ${JSON.stringify(ref.source)}: define it under the top-level ${kind} key`,
        );
      }
    }
  }
}

/** Where the other half of a conflict is written: its line, and its file when that is another one. */
function elsewhere(other: Where, here: Where): string {
  const key = other.path[other.path.length - 1];
  return other.file === here.file ? `${key} is set on line ${other.line}` : `${key} is set in ${other.file}:${other.line}`;
}

const PATH_COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN = `(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[a-fA-F0-9:]+\\])(?::[0-9]+)?`;
const TAG = '[\\w][\\w.-]{0,127}';
const DIGEST = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}';
const REFERENCE = new RegExp(`^((?:${DOMAIN}/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*)(?::${TAG})?(?:@${DIGEST})?$`);

/** An image reference as docker's `reference.ParseAnyReference` accepts it (name, optional tag and digest, or a 64-hex id). */
export function isImageReference(image: string): boolean {
  if (/^[a-f0-9]{64}$/.test(image)) return true;
  const match = REFERENCE.exec(image);
  return match !== null && (match[1] as string).length <= 255;
}
