// Waiting until a change is visible at every authoritative server of the zone — not at a recursive resolver,
// whose cache may answer with the old state for a whole TTL, and not at one server only: a CA or a receiving mail
// server may ask any of them.
//
// The NS records of the zone are found through DNS_RESOLVER; then each server is asked directly, again and again
// with growing pauses (backoff), until each one answers as expected or the time is up. A name server counts as
// updated when one of its addresses answers with the expected state (its IPv4 and IPv6 addresses are one server).

import type { Resolver } from 'node:dns/promises';
import { failedError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { authoritativeServers, findZone, isNoRecord, resolverFor, type AuthoritativeServer } from './authoritative-servers.ts';
import { formatServer } from './exchange.ts';
import { joinTxt } from './txt.ts';

export interface TxtExpectation {
  name: string;
  value: string;
  /** true: wait until the value is there; false: wait until it is gone. */
  present: boolean;
}

export interface PropagationOptions {
  /** Finds the zone and its name servers (DNS_RESOLVER, or the system resolver). */
  resolver: Resolver;
  /** Ports of configured servers by address (authoritative-servers.ts, knownServerPorts). */
  knownPorts: ReadonlyMap<string, number>;
  /** Give up after this long. */
  timeoutMs: number;
  firstPauseMs?: number;
  maxPauseMs?: number;
  logger?: Logger;
}

export interface PropagationResult {
  zone: string;
  servers: AuthoritativeServer[];
  elapsedMs: number;
}

type Answer = { kind: 'values'; values: string[] } | { kind: 'error'; code: string };

async function ask(server: AuthoritativeServer, name: string): Promise<Answer> {
  const resolver = resolverFor({ host: server.address, port: server.port }, { timeoutMs: 1500, tries: 1 });
  try {
    const records = await resolver.resolveTxt(name);
    return { kind: 'values', values: records.map((strings) => joinTxt(strings)) };
  } catch (error) {
    if (isNoRecord(error)) return { kind: 'values', values: [] };
    return { kind: 'error', code: (error as NodeJS.ErrnoException).code ?? String(error) };
  }
}

function satisfied(answer: Answer, expectation: TxtExpectation): boolean {
  return answer.kind === 'values' && answer.values.includes(expectation.value) === expectation.present;
}

function describe(answer: Answer | undefined, expectation: TxtExpectation): string {
  if (answer === undefined) return 'was not asked';
  if (answer.kind === 'error') return `did not answer (${answer.code})`;
  if (expectation.present)
    return answer.values.length === 0 ? 'has no TXT record there' : `has ${answer.values.length} other value(s) there`;
  return 'still has the value';
}

/** Waits until every authoritative server of the name's zone answers as `expectation` says. */
export async function waitForAuthoritative(expectation: TxtExpectation, options: PropagationOptions): Promise<PropagationResult> {
  const started = Date.now();
  const zone = await findZone(expectation.name, options.resolver);
  const servers = await authoritativeServers(zone, options.resolver, options.knownPorts);
  const pending = new Set(servers.map((server) => server.name));
  const last = new Map<string, Answer>();
  let pause = options.firstPauseMs ?? 200;
  for (;;) {
    const round = servers.filter((server) => pending.has(server.name));
    const answers = await Promise.all(round.map(async (server) => [server, await ask(server, expectation.name)] as const));
    for (const [server, answer] of answers) {
      last.set(`${server.name} ${server.address}`, answer);
      if (satisfied(answer, expectation)) pending.delete(server.name);
    }
    const elapsedMs = Date.now() - started;
    if (pending.size === 0) {
      options.logger?.debug({ name: expectation.name, zone, elapsedMs }, 'the change is visible at every authoritative server');
      return { zone, servers, elapsedMs };
    }
    if (elapsedMs + pause > options.timeoutMs) {
      const lagging = servers
        .filter((server) => pending.has(server.name))
        .map(
          (server) =>
            `${server.name} (${formatServer({ host: server.address, port: server.port })}) ${describe(last.get(`${server.name} ${server.address}`), expectation)}`
        );
      const state = expectation.present ? 'the new TXT record' : 'the TXT record removed';
      throw failedError(
        'dns-not-propagated',
        `After ${Math.round(elapsedMs / 1000)} s, not every authoritative server of ${zone} shows ${state} at ${expectation.name}: ${lagging.join('; ')}.`,
        {
          hint: 'Check that the change reached the primary and that the secondaries are transferring the zone (NOTIFY, serial); then try again.',
        }
      );
    }
    await new Promise((resolve) => setTimeout(resolve, pause));
    pause = Math.min(pause * 2, options.maxPauseMs ?? 5000);
  }
}
