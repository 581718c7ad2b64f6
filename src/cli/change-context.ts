// What an operation that changes the host needs from a CLI run (see src/ops/change.ts).

import type { ChangeContext } from '../ops/change.ts';
import type { CommandContext } from './command.ts';

export function changeContextOf({ runtime, actor }: CommandContext): ChangeContext {
  return {
    host: runtime.host(),
    chasquidDir: runtime.config.CHASQUID_DIR,
    database: runtime.database(),
    logger: runtime.logger,
    actor,
    now: () => runtime.now(),
  };
}
