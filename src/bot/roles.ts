// Who may run what. The bot decides this itself on every interaction, whatever Discord's command permissions say
// (a server admin can change those, and a registered command is visible to everyone by default):
//   a change   needs one of DISCORD_ADMIN_ROLE_IDS;
//   a reading  needs one of DISCORD_ADMIN_ROLE_IDS or DISCORD_VIEWER_ROLE_IDS;
//   outside a server (a DM) nothing is allowed.

import type { Interaction } from 'discord.js';
import type { Access } from '../command/definition.ts';
import type { Config } from '../config.ts';

/** The role ids of the member behind an interaction (cached member or the raw member of the payload). */
export function memberRoleIds(interaction: Interaction): string[] {
  const member = interaction.member;
  if (!member) return [];
  return Array.isArray(member.roles) ? member.roles : [...member.roles.cache.keys()];
}

export type AccessDecision = { allowed: true } | { allowed: false; reason: string; message: string };

export function decideAccess(config: Config, access: Access, interaction: Interaction, commandLabel: string): AccessDecision {
  if (!interaction.inGuild()) {
    return { allowed: false, reason: 'outside a server', message: `${commandLabel} works only inside the server where mailops runs.` };
  }
  const roles = new Set(memberRoleIds(interaction));
  const admin = (config.DISCORD_ADMIN_ROLE_IDS ?? []).some((id) => roles.has(id));
  const viewer = config.DISCORD_VIEWER_ROLE_IDS.some((id) => roles.has(id));
  if (access === 'change' && !admin) {
    return {
      allowed: false,
      reason: 'no admin role',
      message: `${commandLabel} changes the mail server and needs a mailops admin role. Ask a server admin for it.`,
    };
  }
  if (access === 'read' && !admin && !viewer) {
    return {
      allowed: false,
      reason: 'no viewer or admin role',
      message: `${commandLabel} needs a mailops viewer or admin role. Ask a server admin for one.`,
    };
  }
  return { allowed: true };
}
