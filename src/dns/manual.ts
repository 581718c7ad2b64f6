// Publishing by hand: mailops shows the exact record and waits for a person to say it is done. The front end
// decides how that looks — the CLI prints to standard error and waits for Enter (or, with --wait, does not wait and
// lets the propagation check find the record); the Discord bot shows a "Published" button. The operation only
// calls `confirm`, so it stays free of terminals and chat.

import type { DnsPublisher } from './publisher.ts';
import { presentTxtRecord, presentTxtValue, zoneLine, type TxtRecord } from './txt.ts';
import { parseCaaValue, type UpdateChange } from './update-message.ts';

export interface ManualDnsStep {
  action: 'add' | 'remove';
  record: TxtRecord;
  /** The record as a zone-file line: `name. 300 IN TXT "…" "…"`. */
  zoneLine: string;
  /** The value as a DNS panel takes it: quoted strings of at most 255 bytes. */
  panelValue: string;
  /** One sentence for a person. */
  instruction: string;
  /**
   * Present when the step is several records at once (setup): then `zoneLine` is their zone-file block, `panelValue`
   * one line per record (`name TYPE value`), and `record` the first of them.
   */
  records?: UpdateChange[];
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

/** A CAA record as DNS panels ask for it, in three fields (the value unquoted). */
function caaPanelFields(value: string): string {
  const caa = parseCaaValue(value);
  return `flags ${caa.flags}, tag ${caa.tag}, value ${caa.value}`;
}

/** Several records as one step: one block to paste, one wait for all of them. */
export function manualBatchStep(changes: readonly UpdateChange[]): ManualDnsStep {
  const first = changes[0]?.record ?? { name: '', value: '', ttl: 0 };
  const line = (change: UpdateChange) => zoneLine(change.record.name, change.record.type ?? 'TXT', change.record.value, change.record.ttl);
  return {
    action: 'add',
    record: { name: first.name, value: first.value, ttl: first.ttl },
    zoneLine: changes.map((change) => `${change.action === 'delete' ? '; remove: ' : ''}${line(change)}`).join('\n'),
    panelValue: changes
      .map((change) => {
        const type = change.record.type ?? 'TXT';
        const fields =
          type === 'TXT'
            ? `value ${presentTxtValue(change.record.value)}`
            : type === 'CAA'
              ? caaPanelFields(change.record.value)
              : `value ${change.record.value}`;
        return `${change.action === 'delete' ? 'remove' : 'add'}: name ${change.record.name}, type ${type}, ${fields}`;
      })
      .join('\n'),
    instruction: `Publish these ${changes.length} DNS records (lines starting "; remove:" are values to remove; keep every other record):`,
    records: [...changes],
  };
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

  /** Asks for several records at once: one wait for all of them. */
  applyAll(changes: readonly UpdateChange[]): Promise<void> {
    return this.#confirm(manualBatchStep(changes));
  }
}
