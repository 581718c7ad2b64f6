// Keeps malformed interactions away from discord.js. discord.js 14 builds an interaction object from an
// INTERACTION_CREATE dispatch without checking it, inside an async gateway handler: a payload without `data`, or a
// null one, becomes an unhandled promise rejection — which ends a Node.js process. discord.js emits every dispatch
// as the client's `raw` event first, with the same packet object it then handles, so a `raw` listener can rename
// the event of a packet that lacks what discord.js reads unguarded; discord.js then has no handler for it and
// ignores it. (`mailops start` also logs any rejection that still slips through instead of dying.)

import type { Logger } from '../log.ts';

export const ignoredEvent = 'MAILOPS_IGNORED_MALFORMED_INTERACTION';

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const hasString = (value: Record<string, unknown>, key: string) => typeof value[key] === 'string';

/** What is missing from an INTERACTION_CREATE payload that discord.js needs, or undefined when it looks whole. */
export function interactionProblem(payload: unknown): string | undefined {
  if (!isObject(payload)) return 'the payload is not an object';
  for (const key of ['id', 'token', 'application_id']) if (!hasString(payload, key)) return `"${key}" is missing`;
  const user = isObject(payload.member) ? payload.member.user : payload.user;
  if (!isObject(user) || !hasString(user, 'id')) return 'the user is missing';
  if (isObject(payload.member) && !Array.isArray(payload.member.roles)) return 'the member has no role list';
  const data = payload.data;
  if (!isObject(data)) return '"data" is missing';
  switch (payload.type) {
    case 2:
    case 4:
      if (!hasString(data, 'name') || !hasString(data, 'id')) return 'the command name is missing';
      if (data.options !== undefined && !Array.isArray(data.options)) return 'the options are not a list';
      return undefined;
    case 3:
      if (!isObject(payload.message) || !hasString(payload.message, 'id')) return 'the message of the component is missing';
      return hasString(data, 'custom_id') ? undefined : 'the custom id is missing';
    case 5:
      if (data.components !== undefined && !Array.isArray(data.components)) return 'the components are not a list';
      return hasString(data, 'custom_id') ? undefined : 'the custom id is missing';
    default:
      return `type ${String(payload.type)} is not an interaction type mailops handles`;
  }
}

/** The `raw` listener: diverts malformed interactions (logged) before discord.js sees them. */
export function guardInteractions(logger: Logger): (packet: { t?: unknown; d?: unknown }) => void {
  return (packet) => {
    if (packet?.t !== 'INTERACTION_CREATE') return;
    const problem = interactionProblem(packet.d);
    if (problem === undefined) return;
    packet.t = ignoredEvent;
    logger.warn({ problem }, 'ignored a malformed interaction from the gateway');
  };
}
