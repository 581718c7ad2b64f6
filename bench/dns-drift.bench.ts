// Benchmark: the dns-drift job over 500 domains served by the lab's Knot (generated zones, each a right mail domain
// with a DKIM key that chasquid 1.15 signs with), against the same job over 50 of them.
//
// It prints the wall time of each (median of 5 runs, after a first run that records the accepted state), the ratio of
// the 500-domain time to the 50-domain time (target ≤ 11: linear, with the fixed costs shared), and the process's peak
// memory. The job looks at a bounded number of domains at a time (JobOptions.concurrency), with one resolver and one
// read of the host's facts for all of them; every domain still costs its own DNS questions and DKIM key reads over SSH.

import { parseConfig } from '../src/config.ts';
import { createRuntime } from '../src/runtime.ts';
import { defaultJobOptions } from '../src/schedule/job.ts';
import { runJob } from '../src/schedule/runner.ts';
import { dkimKey, mailZone, txt } from '../test/lab/check-zones.ts';
import { startLab } from '../test/lab/lab.ts';

const total = 500;
const small = 50;
const runs = 5;
const target = 11;

const domains = Array.from({ length: total }, (_, index) => `d${String(index).padStart(3, '0')}.test`);
const hostname = `mail.${domains[0]}`;
const key = dkimKey();
const zones = Object.fromEntries(
  domains.map((domain, index) => [
    domain,
    mailZone(domain, hostname, {
      extra: [...(index === 0 ? ['mail A 127.0.0.1'] : []), txt('s1._domainkey', key.record)],
    }),
  ])
);
const lab = await startLab({
  chasquid: '1.15',
  domains,
  zones,
  dkimKeys: domains.map((domain) => ({ domain, selector: 's1', privateKeyPem: key.privateKeyPem })),
});

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? NaN;
const megabytes = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;
// Node.js itself (with TypeScript type stripping) starts at about 100 MB RSS; what the job adds is the difference.
const rssBefore = process.memoryUsage().rss;
let peakRss = 0;
let peakHeap = 0;
const sample = () => {
  const usage = process.memoryUsage();
  peakRss = Math.max(peakRss, usage.rss);
  peakHeap = Math.max(peakHeap, usage.heapUsed);
};
const sampler = setInterval(sample, 20);

/** A runtime (its own SSH connection) that runs the job over the first `count` domains. */
function runner(count: number): { runtime: ReturnType<typeof createRuntime>; once: () => Promise<{ ms: number; summary: string }> } {
  const config = parseConfig({ ...lab.env, MAIL_DOMAINS: domains.slice(0, count).join(',') });
  const runtime = createRuntime({ config, secrets: [], logLevel: 'silent' });
  return {
    runtime,
    async once() {
      const started = performance.now();
      const result = await runJob(runtime, 'dns-drift', { trigger: 'manual', actor: 'bench' });
      const ms = performance.now() - started;
      if (result.status !== 'done') throw new Error('the job was busy');
      if (!result.outcome.ok) throw new Error(`the lab's domains drift: ${result.outcome.summary}`);
      return { ms, summary: result.outcome.summary };
    },
  };
}

const few = runner(small);
const many = runner(total);
try {
  // The first run of each records the accepted state and opens its SSH connection; then the two sizes alternate, so
  // that the machine's ups and downs fall on both.
  await few.once();
  await many.once();
  const times = { few: [] as number[], many: [] as number[] };
  let summaries = { few: '', many: '' };
  for (let run = 0; run < runs; run += 1) {
    const a = await few.once();
    const b = await many.once();
    times.few.push(a.ms);
    times.many.push(b.ms);
    summaries = { few: a.summary, many: b.summary };
  }
  const fifty = { ms: median(times.few), summary: summaries.few };
  const all = { ms: median(times.many), summary: summaries.many };
  sample();
  const ratio = all.ms / fifty.ms;
  console.log(`dns-drift over ${small} domains: median ${fifty.ms.toFixed(0)} ms (${fifty.summary})`);
  console.log(
    `dns-drift over ${total} domains: median ${all.ms.toFixed(0)} ms (${all.summary}), ${defaultJobOptions.concurrency} domains at a time`
  );
  console.log(
    `dns-drift peak memory: ${megabytes(peakRss)} RSS (${megabytes(rssBefore)} before any job: Node.js and the lab's set-up), JavaScript heap at most ${megabytes(peakHeap)}`
  );
  console.log(`dns-drift ratio ${total}/${small}: ${ratio.toFixed(2)} (target ≤ ${target}) ${ratio <= target ? 'OK' : 'OVER TARGET'}`);
  if (ratio > target) process.exitCode = 1;
} finally {
  clearInterval(sampler);
  await few.runtime.close();
  await many.runtime.close();
  await lab.stop();
}
