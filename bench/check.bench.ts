// Benchmark: `check` against the lab with 50 ms added to every DNS answer (bench/dns-delay-proxy.ts).
//
// It prints the wall time of a check divided by its critical path — the deepest chain of DNS lookups that depend on
// each other, times 50 ms. For the lab's right domain that chain is 2 lookups deep:
//   the hostname's A/AAAA → the PTR of each address, and the DNSBL queries of each address;
//   the domain's TXT → the MX of the SPF `mx` term (its A/AAAA is the hostname's, already asked);
//   _dmarc TXT → the authorisation of the external report address.
// (chasquid's hostname comes from chasquid.conf over SSH, not from DNS.) Target: ≤ 1.3.
//
// The check runs in-process on a warm SSH connection, as the bot runs it, with a new resolver (an empty DNS cache)
// each time; the median of several runs is reported. As in the bot, the process remembers the hostname of the previous
// check and asks DNS about it while chasquid.conf is read over SSH (checks/facts.ts, prefetch); the first, cold run
// (the warm-up) is not counted. The end-to-end probe is a mail round trip whose time does not
// depend on DNS; it is measured and printed separately, without a target.

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseConfig } from '../src/config.ts';
import { DnsResolver } from '../src/dns/caching-resolver.ts';
import { mailHostFromConfig } from '../src/host/mail-host.ts';
import { createLogger, Redactor } from '../src/log.ts';
import { check } from '../src/ops/check.ts';
import { openDatabase } from '../src/store/database.ts';
import { dkimKey, mailZone, txt, zone } from '../test/lab/check-zones.ts';
import { startLab } from '../test/lab/lab.ts';
import { startDelayProxyProcess } from './dns-delay-proxy.ts';

const delayMs = 50;
const depth = 2;
const runs = 7;
const target = 1.3;

const hostname = 'mail.good.test';
const key = dkimKey();
const lab = await startLab({
  chasquid: '1.15',
  domains: ['good.test'],
  zones: {
    'good.test': mailZone('good.test', hostname, {
      dmarc: ['v=DMARC1; p=reject; rua=mailto:reports@reports.test'],
      extra: ['mail A 127.0.0.1', txt('s1._domainkey', key.record), txt('_smtp._tls', 'v=TLSRPTv1; rua=mailto:tls@good.test')],
    }),
    'reports.test': zone('reports.test', [txt('good.test._report._dmarc', 'v=DMARC1')]),
    'ipbl.test': zone('ipbl.test', []),
    'dombl.test': zone('dombl.test', []),
  },
  dkimKeys: [{ domain: 'good.test', selector: 's1', privateKeyPem: key.privateKeyPem }],
});
const proxy = await startDelayProxyProcess({ host: '127.0.0.1', port: lab.ports.dns }, delayMs);
const logger = createLogger({ level: 'silent', redactor: new Redactor() });
const config = parseConfig({
  ...lab.env,
  DNS_RESOLVER: `127.0.0.1:${proxy.port}`,
  DNSBL_IP_ZONES: 'ipbl.test',
  DNSBL_DOMAIN_ZONES: 'dombl.test',
});
const host = mailHostFromConfig(config, logger);
const database = openDatabase(config.STATE_DB);
const extraCa = [readFileSync(path.join(lab.chasquidDir, 'certs', hostname, 'fullchain.pem'), 'utf8')];
const operation = {
  host,
  chasquidDir: lab.chasquidDir,
  database,
  logger,
  actor: 'bench',
  now: () => new Date(),
  config,
  redactor: new Redactor(),
};

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? NaN;

async function timed(withProbe: boolean): Promise<{ ms: number; lookups: number; failed: string[] }> {
  const resolver = new DnsResolver({ server: config.DNS_RESOLVER });
  const started = performance.now();
  const report = await check(withProbe ? operation : { host, config, now: () => new Date() }, { domain: 'good.test', resolver, extraCa });
  const ms = performance.now() - started;
  if (process.env.BENCH_TRACE)
    console.log(
      resolver.lookups
        .map(
          (entry) => `${(entry.startedAt - started).toFixed(0)}-${((entry.endedAt ?? 0) - started).toFixed(0)} ${entry.type} ${entry.name}`
        )
        .join('\n')
    );
  return {
    ms,
    lookups: resolver.lookups.length,
    failed: report.checks.filter((result) => result.status === 'fail').map((result) => `${result.id}: ${result.summary}`),
  };
}

try {
  await timed(true); // warm up: the SSH connection, chasquid's version, the probe sender and alias
  const plain: number[] = [];
  let lookups = 0;
  for (let run = 0; run < runs; run += 1) {
    const result = await timed(false);
    if (result.failed.length > 0) throw new Error(`the lab's right domain failed a check: ${result.failed.join('; ')}`);
    plain.push(result.ms);
    if (process.env.BENCH_TRACE) console.log(`run ${run}: ${result.ms.toFixed(1)} ms`);
    lookups = result.lookups;
  }
  const withProbe: number[] = [];
  for (let run = 0; run < 3; run += 1) withProbe.push((await timed(true)).ms);
  const wall = median(plain);
  const ratio = wall / (depth * delayMs);
  console.log(
    `check (DNS +${delayMs} ms per answer): ${lookups} lookups, critical path ${depth} × ${delayMs} ms, median wall ${wall.toFixed(1)} ms over ${runs} runs`
  );
  console.log(`check ratio: ${ratio.toFixed(2)} (target ≤ ${target}) ${ratio <= target ? 'OK' : 'OVER TARGET'}`);
  console.log(`check with the end-to-end probe: median wall ${median(withProbe).toFixed(1)} ms (a mail round trip; no target)`);
  if (ratio > target) process.exitCode = 1;
} finally {
  database.close();
  await host.close();
  await proxy.close();
  await lab.stop();
}
