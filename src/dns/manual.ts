// Publishing by hand: mailops shows the exact record and waits for a person to say it is done. The front end
// decides how that looks — the CLI prints to standard error and waits for Enter (or, with --wait, does not wait and
// lets the propagation check find the record); the Discord bot shows a "Published" button. The operation only
// calls `confirm`, so it stays free of terminals and chat.

import type { DnsPublisher } from './publisher.ts';
import { presentTxtRecord, presentTxtValue, type TxtRecord } from './txt.ts';

export interface ManualDnsStep {
  action: 'add' | 'remove';
  record: TxtRecord;
  /** The record as a zone-file line: `name. 300 IN TXT "…" "…"`. */
  zoneLine: string;
  /** The value as a DNS panel takes it: quoted strings of at most 255 bytes. */
  panelValue: string;
  /** One sentence for a person. */
  instruction: string;
}

/** Resolves once the person says the step is done (or at once, when the front end cannot wait). */
export type ManualConfirm = (step: ManualDnsStep) => Promise<void>;

export function manualStep(action: ManualDnsStep['action'], record: TxtRecord): ManualDnsStep {
  const zoneLine = presentTxtRecord(record);
  const instruction =
    action === 'add'
      ? `Publish this TXT record in the DNS of ${record.name} (keep any other TXT records at that name):`
      : `Remove this TXT record from the DNS of ${record.name} (only this value; other TXT records at that name stay):`;
  return { action, record, zoneLine, panelValue: presentTxtValue(record.value), instruction };
}

export class ManualPublisher implements DnsPublisher {
  readonly kind = 'manual';
  readonly #confirm: ManualConfirm;

  constructor(confirm: ManualConfirm) {
    this.#confirm = confirm;
  }

  describe(record: TxtRecord): string {
    return `${record.name} TXT, published by hand`;
  }

  add(record: TxtRecord): Promise<void> {
    return this.#confirm(manualStep('add', record));
  }

  remove(record: TxtRecord): Promise<void> {
    return this.#confirm(manualStep('remove', record));
  }
}
