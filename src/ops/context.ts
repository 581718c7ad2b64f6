// What an operation receives: the change context (host, config dir, state, logger, actor, clock) plus the
// configuration and the redactor. Front ends build it from their runtime with `operationContext`.

import type { Config } from '../config.ts';
import type { Redactor } from '../log.ts';
import type { Runtime } from '../runtime.ts';
import type { ChangeContext } from './change.ts';

export interface OperationContext extends ChangeContext {
  config: Config;
  /** Register every secret an operation creates or receives, so no log line can carry it. */
  redactor: Redactor;
}

export function operationContext(runtime: Runtime, actor: string): OperationContext {
  return {
    host: runtime.host(),
    chasquidDir: runtime.config.CHASQUID_DIR,
    database: runtime.database(),
    logger: runtime.logger.child({ actor }),
    actor,
    now: () => runtime.now(),
    config: runtime.config,
    redactor: runtime.redactor,
  };
}

/** MAIL_DOMAINS, which host operations require (see requireSettings). */
export function managedDomains(config: Config): string[] {
  return config.MAIL_DOMAINS ?? [];
}
