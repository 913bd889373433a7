import type { ComposePort } from './model';

/**
 * The short syntax of a service port, `[[IP:]PUBLISHED:]TARGET[/PROTOCOL]`, parsed as docker's loader parses it
 * (go-connections `nat.ParsePortSpec`, then swarmopts `ConvertPortToPortConfig`): ranges on both sides must be of the
 * same length (`8000-8001:80-81`), a published range with a single target publishes each port of the range to it
 * (`7000-7002:70`), a target range without published ports publishes none, the protocol is tcp, udp or sctp (any
 * case), the mode is always ingress. docker ignores a host IP with a warning ("service will listen on 0.0.0.0");
 * sciops refuses it unless it is an unspecified address (0.0.0.0, ::), so nothing is dropped silently.
 */
export function parseShortPort(spec: string): ComposePort[] | string {
  const parts = spec.split(':');
  let ip = '';
  let published = '';
  let container: string;
  if (parts.length === 1) container = parts[0] as string;
  else if (parts.length === 2) [published, container] = parts as [string, string];
  else {
    ip = parts.slice(0, -2).join(':');
    published = parts[parts.length - 2] as string;
    container = parts[parts.length - 1] as string;
  }
  const slash = container.indexOf('/');
  const targetText = slash < 0 ? container : container.slice(0, slash);
  const protocolText = slash < 0 ? '' : container.slice(slash + 1);
  if (targetText === '') return `${JSON.stringify(spec)} names no container port: write [PUBLISHED:]TARGET[/PROTOCOL], e.g. "8080:80"`;
  const protocol = (protocolText === '' ? 'tcp' : protocolText).toLowerCase() as ComposePort['protocol'];
  if (protocol !== 'tcp' && protocol !== 'udp' && protocol !== 'sctp')
    return `${JSON.stringify(spec)}: unknown protocol ${JSON.stringify(protocolText)} (tcp, udp or sctp)`;
  if (ip.startsWith('[')) {
    if (!ip.endsWith(']')) return `${JSON.stringify(spec)}: invalid IP address ${ip}`;
    ip = ip.slice(1, -1);
  }
  if (ip !== '') {
    if (!isIpAddress(ip)) return `${JSON.stringify(spec)}: invalid IP address ${JSON.stringify(ip)}`;
    if (!isUnspecified(ip)) {
      return `${JSON.stringify(spec)} binds host address ${ip}, which a swarm service cannot do (docker stack deploy ignores it and listens on all addresses): remove "${ip}:"`;
    }
  }
  const targets = portRange(targetText);
  if (typeof targets === 'string') return `${JSON.stringify(spec)}: invalid container port ${JSON.stringify(targetText)} (${targets})`;
  const [start, end] = targets;
  const ports: ComposePort[] = [];
  if (published === '') {
    for (let p = start; p <= end; p++) ports.push({ target: p, protocol, mode: 'ingress' });
    return ports;
  }
  const hosts = portRange(published);
  if (typeof hosts === 'string') return `${JSON.stringify(spec)}: invalid published port ${JSON.stringify(published)} (${hosts})`;
  const [hostStart, hostEnd] = hosts;
  if (start === end) {
    for (let p = hostStart; p <= hostEnd; p++) ports.push({ target: start, published: p, protocol, mode: 'ingress' });
    return ports;
  }
  if (end - start !== hostEnd - hostStart) {
    return `${JSON.stringify(spec)}: the published range ${published} and the container range ${targetText} differ in length`;
  }
  for (let i = 0; i <= end - start; i++) ports.push({ target: start + i, published: hostStart + i, protocol, mode: 'ingress' });
  return ports;
}

/** A port or `start-end` range of ports 0-65535, as go-connections parses it. */
function portRange(text: string): [number, number] | string {
  const dash = text.indexOf('-');
  const startText = dash < 0 ? text : text.slice(0, dash);
  const endText = dash < 0 ? undefined : text.slice(dash + 1);
  const start = portNumber(startText);
  if (typeof start === 'string') return start;
  if (endText === undefined || endText === startText) return [start, start];
  const end = portNumber(endText);
  if (typeof end === 'string') return end;
  if (end < start) return `the range ends before it starts`;
  return [start, end];
}

function portNumber(text: string): number | string {
  if (text === '') return 'no port number';
  if (!/^[+-]?\d+$/.test(text)) return 'not a number';
  const n = Number(text);
  if (n < 0 || n > 65535) return 'out of range 0-65535';
  return n;
}

function isIpAddress(ip: string): boolean {
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(ip)) return ip.split('.').every((o) => Number(o) <= 255);
  return /^[0-9a-fA-F:.]+$/.test(ip) && ip.includes(':') && (ip.match(/::/g)?.length ?? 0) <= 1;
}

function isUnspecified(ip: string): boolean {
  return ip === '0.0.0.0' || /^[0:]+$/.test(ip);
}
