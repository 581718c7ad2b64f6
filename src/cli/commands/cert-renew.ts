import type { CertRenewResult } from '../../ops/cert-renew.ts';
import { operationContext } from '../../ops/context.ts';
import type { CliCommand } from '../command.ts';
import { publishingFor } from '../dns-publishing.ts';
import { rows } from '../format.ts';

function render(result: CertRenewResult): string {
  if (!result.renewed) return `Not renewed: the certificate for ${result.name} is ${result.reason.replace(/^not due: /, 'not due — ')} (expires ${result.notAfter ?? 'unknown'}).`;
  return rows([
    ['Renewed', result.name],
    ['Why', result.reason],
    ['Names', result.names.join(', ')],
    ['Issuer', result.issuer ?? 'unknown'],
    ['Valid until', result.notAfter ?? 'unknown'],
    ['Served on', result.served.length === 0 ? 'no listener' : `ports ${result.served.join(', ')}`],
  ]);
}

export const certRenewCommand: CliCommand = {
  name: 'cert-renew',
  summary: 'obtain a certificate from the ACME CA (DNS-01) and install it on the mail host',
  arguments: [],
  options: [
    { flags: '--force', description: 'renew even when the certificate is not due' },
    { flags: '--wait', description: 'with DNS_PROVIDER=manual: do not wait for Enter; poll DNS until the record appears' },
  ],
  async run(context, _args, options) {
    // Loaded when used: acme-client and its dependencies would slow every other command's start.
    const { certRenew } = await import('../../ops/cert-renew.ts');
    const result = await certRenew(operationContext(context.runtime, context.actor), {
      publishing: () => publishingFor(context, { wait: options.wait === true }),
      force: options.force === true,
    });
    return { json: result, text: render(result) };
  },
};
