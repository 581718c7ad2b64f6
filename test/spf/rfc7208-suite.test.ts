// The RFC 7208 test suite (openspf.org, release 2014.04), as Debian's python3-spf ships it, against mailops's SPF
// evaluation (src/checks/spf-evaluate.ts): every scenario's zone data is served by a DNS server on loopback, asked
// through mailops's own resolver, and every test's expected result (one of several, where the suite allows a choice)
// is compared with ours. The suite is read at test time — test/lab/packages.sh installs python3-spf — and parsed
// with PyYAML, the parser its own driver uses. The explanation text (exp=) is not compared: mailops does not
// evaluate it, since receivers use it only in their rejection message.

import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkHost } from '../../src/checks/spf-evaluate.ts';
import { DnsResolver } from '../../src/dns/caching-resolver.ts';
import { startZoneServer, type ZoneData, type ZoneServer } from './zone-server.ts';

const suiteFile = ['/usr/share/doc/python3-spf/rfc7208-tests.yml.gz', '/usr/share/doc/python3-spf/rfc7208-tests.yml'].find((file) =>
  existsSync(file)
);

interface SuiteTest {
  description?: string;
  spec?: string | string[];
  helo: string;
  host: string;
  mailfrom: string;
  result: string | string[];
  explanation?: string;
}

interface Scenario {
  description: string;
  tests: Record<string, SuiteTest>;
  zonedata: ZoneData;
}

function readSuite(): Scenario[] {
  if (suiteFile === undefined)
    throw new Error('The RFC 7208 test suite is missing: run test/lab/packages.sh as root (it installs python3-spf).');
  const script = [
    'import gzip, json, sys, yaml',
    'opener = gzip.open if sys.argv[1].endswith(".gz") else open',
    'with opener(sys.argv[1], "rb") as f: docs = list(yaml.safe_load_all(f))',
    'json.dump(docs, sys.stdout)',
  ].join('\n');
  return JSON.parse(execFileSync('python3', ['-c', script, suiteFile], { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 })) as Scenario[];
}

const scenarios = readSuite();
const tally = { ran: 0, passed: 0, explanationsNotCompared: 0 };

let server: ZoneServer;

beforeAll(async () => {
  server = await startZoneServer();
});

afterAll(async () => {
  await server.close();
  console.log(
    `RFC 7208 test suite: ${tally.ran} scenarios ran, ${tally.passed} passed (${tally.explanationsNotCompared} of them also expect an exp= text, which is not compared)`
  );
});

// The tables below come from the suite file: one read short (a changed package, a parser change) would register fewer
// tests, or none, silently.
it('reads the whole RFC 7208 suite: every scenario and its tests', () => {
  expect(scenarios.length).toBeGreaterThanOrEqual(10);
  expect(scenarios.reduce((count, scenario) => count + Object.keys(scenario.tests).length, 0)).toBeGreaterThanOrEqual(200);
});

describe.each(scenarios.map((scenario) => [scenario.description, scenario] as const))('RFC 7208 suite: %s', (_name, scenario) => {
  let resolver: DnsResolver;

  beforeAll(() => {
    server.serve(scenario.zonedata);
    // A fresh cache for each scenario: the same names hold other data in other scenarios.
    resolver = new DnsResolver({ server: { host: '127.0.0.1', port: server.port }, timeoutMs: 1000, tries: 1 });
  });

  it.each(Object.entries(scenario.tests))('%s', async (_id, test) => {
    tally.ran += 1;
    const mailfrom = test.mailfrom ?? '';
    const domain = mailfrom === '' ? test.helo : mailfrom.slice(mailfrom.lastIndexOf('@') + 1);
    const evaluation = await checkHost({ ip: test.host, domain, sender: mailfrom, helo: test.helo }, resolver.lookup.bind(resolver));
    const expected = Array.isArray(test.result) ? test.result : [test.result];
    expect(expected, `${evaluation.result}: ${evaluation.reason}`).toContain(evaluation.result);
    tally.passed += 1;
    if (test.explanation !== undefined) tally.explanationsNotCompared += 1;
  });
});
