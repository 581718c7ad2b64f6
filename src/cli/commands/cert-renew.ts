import { accountKeyFile } from '../../acme/account.ts';
import { requireSettings } from '../../config.ts';
import { certRenew, type CertRenewResult } from '../../ops/cert-renew.ts';
import { changeContextOf } from '../change-context.ts';
import type { CliCommand } from '../command.ts';
import { publishingFor } from '../dns-publishing.ts';
import { rows } from '../format.ts';

function render(result: CertRenewResult): string {
  if (!result.renewed) return `Not renewed: the certificate for ${result.name} is ${result.reason.replace(/^not due: /, 'not due — ')} (expires ${result.notAfter ?? 'unknown'}).`;
  return rows([
    ['Renewed', `${result.name} (${result.reason})`],
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
    const { config } = context.runtime;
    requireSettings(config, 'host', 'cert-renew');
    requireSettings(config, 'acme', 'cert-renew');
    const result = await certRenew({
      context: changeContextOf(context),
      acme: {
        directoryUrl: config.ACME_DIRECTORY,
        email: config.ACME_EMAIL as string,
        ...(config.ACME_CA_FILE === undefined ? {} : { caFile: config.ACME_CA_FILE }),
        accountKeyFile: accountKeyFile(config.STATE_DB),
      },
      extraNames: config.CERT_EXTRA_NAMES ?? [],
      // CHASQUID_RESTART has a default; its type is optional only because the default sits inside a transform.
      restartCommand: config.CHASQUID_RESTART as string[],
      publishing: () => publishingFor(context, { wait: options.wait === true }),
      force: options.force === true,
    });
    return { json: result, text: render(result) };
  },
};
