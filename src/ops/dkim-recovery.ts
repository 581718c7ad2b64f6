// Finishing or undoing a dkim-rotate that was cut short (mailops killed, the machine down), the next time anything
// rotates the same domain's key.
//
// The rotation's journal (its steps, recorded before each was taken) says which selector it was making; the host
// says how far it got. A key that is on the host was published first, so the rotation is finished: the key is made
// to sign (a restart on 1.14+, where keys load at start) and the keys it replaced are scheduled for retirement. A key
// that never reached the host only has a DNS record, which nothing signs with: the record is removed. Either way the
// outcome is recorded in the journal, so it happens once. The journal holds names and DNS records, never a key.

import { restartDaemon } from '../chasquid/daemon.ts';
import { readDkimFiles } from '../chasquid/dkim-files.ts';
import { dkimRecordFor } from '../chasquid/dkim-key.ts';
import { ChasquidPaths } from '../chasquid/paths.ts';
import type { DkimLayout } from '../chasquid/version.ts';
import type { RecordPublishing } from '../dns/publisher.ts';
import type { TxtRecord } from '../dns/txt.ts';
import { scheduledSelectors, scheduleRetirement } from '../store/dkim-retirements.ts';
import { recordStep, unrecovered } from '../store/operations.ts';
import type { OperationContext } from './context.ts';

interface RotationStep {
  step: 'publish' | 'activate' | 'recovered';
  selector?: string;
  record?: TxtRecord;
}

/** Finishes or undoes interrupted rotations of `domain`; returns a sentence per rotation for the operator. */
export async function recoverInterruptedRotations(
  context: OperationContext,
  domain: string,
  layout: DkimLayout,
  publishing: () => RecordPublishing
): Promise<string[]> {
  const interrupted = unrecovered(context.database, 'dkim-rotate', domain);
  const said: string[] = [];
  for (const operation of interrupted) {
    const steps = operation.steps as RotationStep[];
    const published = steps.find((step) => step.step === 'publish');
    if (published?.selector === undefined || published.record === undefined) {
      recordStep(context.database, operation.id, { step: 'recovered', how: 'nothing had been changed' });
      continue;
    }
    const selector = published.selector;
    const paths = new ChasquidPaths(context.chasquidDir);
    const files = await readDkimFiles(context.host, paths, domain, layout);
    const onHost = layout === 'builtin' ? files.keys.some((key) => key.selector === selector) : files.selector === selector;
    const when = `started ${operation.startedAt} by ${operation.actor}`;
    if (onHost) {
      if (layout === 'builtin') await restartDaemon(context.host, context.config.CHASQUID_RESTART, context.chasquidDir);
      const due = new Date(context.now().getTime() + context.config.DKIM_GRACE_DAYS * 86_400_000).toISOString();
      const scheduled = new Set(scheduledSelectors(context.database, domain));
      const replaced = files.keys.filter((key) => key.selector !== selector && !scheduled.has(key.selector));
      for (const old of replaced) {
        scheduleRetirement(context.database, {
          domain,
          selector: old.selector,
          record: dkimRecordFor(old.privatePem),
          layout,
          scheduledAt: context.now().toISOString(),
          dueAt: due,
        });
      }
      const how = `finished: the key ${selector} was published and on the host; it signs now${replaced.length > 0 ? `, and ${replaced.map((key) => key.selector).join(', ')} retire after ${due}` : ''}`;
      recordStep(context.database, operation.id, { step: 'recovered', how });
      said.push(`An interrupted dkim-rotate of ${domain} (${when}) was ${how}.`);
    } else {
      await publishing().unpublish(published.record);
      const how = `undone: the key ${selector} never reached the host, so its DNS record was removed`;
      recordStep(context.database, operation.id, { step: 'recovered', how });
      said.push(`An interrupted dkim-rotate of ${domain} (${when}) was ${how}.`);
    }
  }
  return said;
}
