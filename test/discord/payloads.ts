// The Discord objects the emulator hands to the client: snowflakes, users, members, the guild, messages and
// interactions, shaped as Discord's API v10 sends them (the fields discord.js 14 reads; docs/design.md, "Discord
// without Discord").

const discordEpoch = 1_420_070_400_000n;
let increment = 0n;

/** A new snowflake: milliseconds since Discord's epoch, then a counter, as Discord makes them (so ids sort by time). */
export function snowflake(): string {
  increment = (increment + 1n) & 0xfffn;
  return (((BigInt(Date.now()) - discordEpoch) << 22n) | increment).toString();
}

export interface EmulatedUser {
  id: string;
  username: string;
  bot?: boolean;
}

export function userPayload(user: EmulatedUser): Record<string, unknown> {
  return {
    id: user.id,
    username: user.username,
    discriminator: '0',
    global_name: user.username,
    avatar: null,
    ...(user.bot ? { bot: true } : {}),
  };
}

export function memberPayload(user: EmulatedUser, roles: string[], joinedAt: string): Record<string, unknown> {
  return {
    user: userPayload(user),
    roles,
    nick: null,
    avatar: null,
    joined_at: joinedAt,
    premium_since: null,
    deaf: false,
    mute: false,
    flags: 0,
    pending: false,
    communication_disabled_until: null,
    permissions: '0',
  };
}

export interface EmulatedRole {
  id: string;
  name: string;
}

export interface EmulatedChannel {
  id: string;
  name: string;
}

export function rolePayload(role: EmulatedRole, position: number): Record<string, unknown> {
  return {
    id: role.id,
    name: role.name,
    color: 0,
    colors: { primary_color: 0, secondary_color: null, tertiary_color: null },
    hoist: false,
    icon: null,
    unicode_emoji: null,
    position,
    permissions: position === 0 ? '1071698660929' : '0',
    managed: false,
    mentionable: false,
    flags: 0,
  };
}

export function channelPayload(channel: EmulatedChannel, guildId: string, position: number): Record<string, unknown> {
  return {
    id: channel.id,
    type: 0,
    guild_id: guildId,
    name: channel.name,
    position,
    permission_overwrites: [],
    nsfw: false,
    topic: null,
    last_message_id: null,
    rate_limit_per_user: 0,
    parent_id: null,
  };
}

export interface GuildShape {
  id: string;
  name: string;
  ownerId: string;
  roles: EmulatedRole[];
  channels: EmulatedChannel[];
  members: Array<{ user: EmulatedUser; roles: string[] }>;
  joinedAt: string;
}

/** GUILD_CREATE's payload: the guild with its roles (the first is @everyone, whose id is the guild's), channels and members. */
export function guildCreatePayload(guild: GuildShape): Record<string, unknown> {
  return {
    id: guild.id,
    name: guild.name,
    icon: null,
    splash: null,
    discovery_splash: null,
    owner_id: guild.ownerId,
    afk_channel_id: null,
    afk_timeout: 300,
    verification_level: 0,
    default_message_notifications: 0,
    explicit_content_filter: 0,
    roles: guild.roles.map((role, index) => rolePayload(role, index)),
    emojis: [],
    stickers: [],
    features: [],
    mfa_level: 0,
    application_id: null,
    system_channel_id: null,
    system_channel_flags: 0,
    rules_channel_id: null,
    vanity_url_code: null,
    description: null,
    banner: null,
    premium_tier: 0,
    preferred_locale: 'en-US',
    public_updates_channel_id: null,
    nsfw_level: 0,
    premium_progress_bar_enabled: false,
    safety_alerts_channel_id: null,
    joined_at: guild.joinedAt,
    large: false,
    unavailable: false,
    member_count: guild.members.length,
    voice_states: [],
    members: guild.members.map((member) => memberPayload(member.user, member.roles, guild.joinedAt)),
    channels: guild.channels.map((channel, index) => channelPayload(channel, guild.id, index)),
    threads: [],
    presences: [],
    stage_instances: [],
    guild_scheduled_events: [],
    soundboard_sounds: [],
  };
}

export const interactionTypes = { command: 2, component: 3, autocomplete: 4, modal: 5 } as const;

export const messageFlags = { ephemeral: 64, loading: 128 } as const;

/** Whether message flags (of a message or a callback's data) make it visible to its recipient only. */
export function isEphemeral(flags: unknown): boolean {
  return typeof flags === 'number' && (flags & messageFlags.ephemeral) !== 0;
}

export interface EmulatedMessage {
  id: string;
  channel_id: string;
  guild_id?: string;
  author: Record<string, unknown>;
  content: string;
  embeds: unknown[];
  components: unknown[];
  flags: number;
  type: number;
  timestamp: string;
  edited_timestamp: string | null;
  tts: boolean;
  mention_everyone: boolean;
  mentions: unknown[];
  mention_roles: string[];
  attachments: unknown[];
  pinned: boolean;
  webhook_id?: string;
  application_id?: string;
  interaction_metadata?: Record<string, unknown>;
  /** The nonce the message was created with, as Discord echoes it. */
  nonce?: string | number;
}

export function newMessage(
  fields: { channelId: string; guildId?: string; author: Record<string, unknown>; type?: number } & Partial<
    Pick<EmulatedMessage, 'content' | 'embeds' | 'components' | 'flags' | 'webhook_id' | 'application_id' | 'interaction_metadata'>
  >
): EmulatedMessage {
  return {
    id: snowflake(),
    channel_id: fields.channelId,
    ...(fields.guildId === undefined ? {} : { guild_id: fields.guildId }),
    author: fields.author,
    content: fields.content ?? '',
    embeds: fields.embeds ?? [],
    components: fields.components ?? [],
    flags: fields.flags ?? 0,
    type: fields.type ?? 0,
    timestamp: new Date().toISOString(),
    edited_timestamp: null,
    tts: false,
    mention_everyone: false,
    mentions: [],
    mention_roles: [],
    attachments: [],
    pinned: false,
    ...(fields.webhook_id === undefined ? {} : { webhook_id: fields.webhook_id }),
    ...(fields.application_id === undefined ? {} : { application_id: fields.application_id }),
    ...(fields.interaction_metadata === undefined ? {} : { interaction_metadata: fields.interaction_metadata }),
  };
}
