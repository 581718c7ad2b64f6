// A local Discord for tests: enough of Discord's REST API and gateway for the real discord.js 14 client, so that the
// bot runs end to end without Discord (none can be reached from here, and a mocked discord.js would test nothing).
// Written by hand because no npm package emulates Discord's side of the protocol.
//
// REST, under `${apiUrl}/v10` (apiUrl is what DISCORD_API_URL points at):
//   GET  /gateway/bot                                   the gateway URL (WebSocket on the same port; see gateway.ts)
//   PUT  /applications/{app}/guilds/{guild}/commands    guild command registration; PUT /applications/{app}/commands global
//   POST /interactions/{id}/{token}/callback            the first answer to an interaction (types 4, 5, 6, 7, 8, 9):
//                                                       404 10062 after the 3-second window, 400 40060 when answered twice
//   PATCH/GET/DELETE /webhooks/{app}/{token}/messages/@original | {id}, POST /webhooks/{app}/{token}
//                                                       edits and follow-ups; 401 50027 once the token has expired
//   POST /channels/{id}/messages, GET /channels/{id}    channel messages (audit posts, alerts), with `Bot <token>`;
//                                                       a message with `enforce_nonce` and the nonce of a message the
//                                                       bot posted there in the last few minutes returns that message
//                                                       instead of creating another, as Discord does
// Outages: `failNext` fails one request; `refuseRequests` fails every matching request until `acceptRequests`;
// `loseNextResponse` handles a request and then drops the connection without answering (the client cannot tell
// whether it happened).
// Every request is recorded (method, decoded path, query, Authorization, body, status, and for a message-creating or
// -editing request whether that message is ephemeral), so tests assert on exactly what the bot sent.
//
// Interactions are built from the commands the bot registered: `command()` fails, as Discord's client would refuse,
// when a subcommand or option is not in the registered tree.

import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { waitFor } from '../wait.ts';
import { Gateway } from './gateway.ts';
import {
  guildCreatePayload,
  interactionTypes,
  memberPayload,
  messageFlags,
  newMessage,
  snowflake,
  userPayload,
  type EmulatedChannel,
  type EmulatedMessage,
  type EmulatedRole,
  type EmulatedUser,
} from './payloads.ts';

export interface RecordedRequest {
  at: number;
  method: string;
  /** Decoded path below the API version: `/interactions/1/abc/callback`, `/webhooks/9/abc/messages/@original`. */
  path: string;
  query: Record<string, string>;
  authorization: string | undefined;
  body: unknown;
  status: number;
  response: unknown;
  /** For requests that create or edit a message: that message's id and whether only its recipient sees it. */
  message?: { id: string; ephemeral: boolean };
}

export interface EmulatorOptions {
  token?: string;
  applicationId?: string;
  guildId?: string;
  /** Discord's limit for the first answer to an interaction. */
  callbackWindowMs?: number;
  /** How long an interaction token works for edits and follow-ups (Discord: 15 minutes). */
  tokenLifetimeMs?: number;
  heartbeatIntervalMs?: number;
  channels?: EmulatedChannel[];
  roles?: EmulatedRole[];
}

export interface RegisteredOption {
  type: number;
  name: string;
  description: string;
  required?: boolean;
  autocomplete?: boolean;
  choices?: Array<{ name: string; value: string }>;
  options?: RegisteredOption[];
}

export interface RegisteredCommand {
  id: string;
  application_id: string;
  guild_id?: string;
  name: string;
  description: string;
  type: number;
  options?: RegisteredOption[];
  [key: string]: unknown;
}

export type OptionValue = string | boolean | number;

/** One interaction the emulator sent and everything the bot answered to it. */
export class InteractionRecord {
  readonly id: string;
  readonly token: string;
  readonly type: number;
  readonly user: EmulatedUser;
  readonly createdAt: number;
  readonly payload: Record<string, unknown>;
  /** The answer to POST …/callback that was accepted (type and data), if any. */
  callback: { type: number; data: Record<string, unknown> | undefined; at: number } | undefined;
  /** Callback attempts that Discord refused (late, twice). */
  readonly rejectedCallbacks: Array<{ code: number; at: number }> = [];
  /** The message this interaction's token edits as @original (a reply, or the message of a pressed button). */
  original: EmulatedMessage | undefined;
  originalDeleted = false;
  readonly followUps: EmulatedMessage[] = [];
  expired = false;

  constructor(fields: {
    id: string;
    token: string;
    type: number;
    user: EmulatedUser;
    payload: Record<string, unknown>;
    createdAt: number;
  }) {
    this.id = fields.id;
    this.token = fields.token;
    this.type = fields.type;
    this.user = fields.user;
    this.payload = fields.payload;
    this.createdAt = fields.createdAt;
  }

  /** The autocomplete choices the bot answered with. */
  get choices(): Array<{ name: string; value: string }> | undefined {
    return this.callback?.type === 8 ? (this.callback.data?.choices as Array<{ name: string; value: string }>) : undefined;
  }

  /** The modal the bot showed. */
  get modal(): Record<string, unknown> | undefined {
    return this.callback?.type === 9 ? this.callback.data : undefined;
  }

  /** All visible text of the original response: content, embed titles, descriptions and fields. */
  get text(): string {
    return this.original ? messageText(this.original) : '';
  }
}

/** The text a person sees in a message: content and every embed's title, description, fields and footer. */
export function messageText(message: EmulatedMessage): string {
  const parts = [message.content];
  for (const embed of message.embeds as Array<{
    title?: string;
    description?: string;
    fields?: Array<{ name: string; value: string }>;
    footer?: { text?: string };
  }>) {
    parts.push(embed.title ?? '', embed.description ?? '');
    for (const field of embed.fields ?? []) parts.push(field.name, field.value);
    parts.push(embed.footer?.text ?? '');
  }
  return parts.filter((part) => part !== '').join('\n');
}

/** The custom ids of the buttons on a message. */
export function buttonIds(message: EmulatedMessage | undefined): string[] {
  if (!message) return [];
  return (message.components as Array<{ components?: Array<{ custom_id?: string }> }>)
    .flatMap((row) => row.components ?? [])
    .map((component) => component.custom_id)
    .filter((id): id is string => id !== undefined);
}

class HttpError extends Error {
  readonly status: number;
  readonly body: Record<string, unknown>;

  constructor(status: number, code: number, message: string) {
    super(message);
    this.status = status;
    this.body = { code, message };
  }
}

interface InjectedFailure {
  method: string;
  path: RegExp;
  status: number;
  code: number;
  message: string;
}

export class DiscordEmulator {
  readonly token: string;
  readonly applicationId: string;
  readonly guildId: string;
  readonly botUser: EmulatedUser;
  readonly requests: RecordedRequest[] = [];
  readonly interactions: InteractionRecord[] = [];
  readonly channels: EmulatedChannel[];
  readonly roles: EmulatedRole[];
  readonly gateway: Gateway;
  readonly commands = { guild: [] as RegisteredCommand[], global: [] as RegisteredCommand[] };
  /** Messages posted to channels (not interaction responses), by channel id. */
  readonly channelMessages = new Map<string, EmulatedMessage[]>();
  /** Failures of the emulator itself (should stay empty). */
  readonly emulatorErrors: unknown[] = [];
  callbackWindowMs: number;
  tokenLifetimeMs: number;
  readonly #members = new Map<string, { user: EmulatedUser; roles: string[] }>();
  readonly #failures: InjectedFailure[] = [];
  readonly #refusals: InjectedFailure[] = [];
  readonly #lostResponses: Array<{ method: string; path: RegExp }> = [];
  /** Messages by `channel nonce`, for enforce_nonce. */
  readonly #nonces = new Map<string, { message: EmulatedMessage; at: number }>();
  readonly #server: Server;
  #port = 0;

  constructor(options: EmulatorOptions = {}) {
    this.token = options.token ?? `emulated.${randomBytes(24).toString('base64url')}`;
    this.applicationId = options.applicationId ?? snowflake();
    this.guildId = options.guildId ?? snowflake();
    this.callbackWindowMs = options.callbackWindowMs ?? 3000;
    this.tokenLifetimeMs = options.tokenLifetimeMs ?? 15 * 60_000;
    this.botUser = { id: this.applicationId, username: 'mailops', bot: true };
    this.channels = options.channels ?? [{ id: snowflake(), name: 'mail-ops' }];
    this.roles = [{ id: this.guildId, name: '@everyone' }, ...(options.roles ?? [])];
    this.#members.set(this.botUser.id, { user: this.botUser, roles: [] });
    const joinedAt = new Date().toISOString();
    this.gateway = new Gateway({
      token: this.token,
      heartbeatIntervalMs: options.heartbeatIntervalMs ?? 41_250,
      readyPayload: (sessionId) => ({
        v: 10,
        user: { ...userPayload(this.botUser), verified: true, mfa_enabled: false, flags: 0 },
        guilds: [{ id: this.guildId, unavailable: true }],
        session_id: sessionId,
        session_type: 'normal',
        resume_gateway_url: `ws://127.0.0.1:${this.#port}/resume`,
        shard: [0, 1],
        application: { id: this.applicationId, flags: 0 },
        private_channels: [],
        presences: [],
        relationships: [],
        guild_join_requests: [],
        user_settings: {},
        geo_ordered_rtc_regions: [],
        auth_session_id_hash: '',
      }),
      afterReady: () => [
        {
          t: 'GUILD_CREATE',
          d: guildCreatePayload({
            id: this.guildId,
            name: 'mailops test guild',
            ownerId: this.botUser.id,
            roles: this.roles,
            channels: this.channels,
            members: [...this.#members.values()],
            joinedAt,
          }),
        },
      ],
    });
    this.#server = createServer((request, response) => void this.#handle(request, response));
    this.#server.on('upgrade', (request, socket, head) => this.gateway.upgrade(request, socket, head));
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    this.#port = (this.#server.address() as AddressInfo).port;
    return this;
  }

  async stop(): Promise<void> {
    this.gateway.close();
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  /** DISCORD_API_URL for the bot. */
  get apiUrl(): string {
    return `http://127.0.0.1:${this.#port}/api`;
  }

  /** The Discord variables of the interface, pointing at this emulator. */
  get env(): Record<string, string> {
    return {
      DISCORD_TOKEN: this.token,
      DISCORD_APPLICATION_ID: this.applicationId,
      DISCORD_GUILD_ID: this.guildId,
      DISCORD_API_URL: this.apiUrl,
    };
  }

  /** A guild member with these roles (role ids). */
  addMember(username: string, roles: string[] = []): EmulatedUser {
    const user = { id: snowflake(), username };
    this.#members.set(user.id, { user, roles });
    return user;
  }

  /**
   * A server admin gives or takes away roles: from now on the member's interactions carry these roles, as Discord
   * sends them. (The bot asks for no member events, so nothing else tells it.)
   */
  setRoles(user: EmulatedUser, roles: string[]): void {
    const member = this.#members.get(user.id);
    if (!member) throw new Error(`emulator: ${user.username} is not a member of the guild`);
    member.roles = roles;
  }

  /** The next request matching method and path fails with this Discord error (once). */
  failNext(method: string, path: RegExp, status: number, code: number, message: string): void {
    this.#failures.push({ method, path, status, code, message });
  }

  /** Every matching request fails with this error until `acceptRequests` (an outage of Discord's REST API). */
  refuseRequests(method: string, path: RegExp, status = 503, code = 0, message = '503: Service Unavailable'): void {
    this.#refusals.push({ method, path, status, code, message });
  }

  /** Ends every `refuseRequests`. */
  acceptRequests(): void {
    this.#refusals.length = 0;
  }

  /** The next matching request is carried out, and then its connection is dropped without an answer (once). */
  loseNextResponse(method: string, path: RegExp): void {
    this.#lostResponses.push({ method, path });
  }

  /** Messages the bot posted to a channel. */
  messagesIn(channelId: string): EmulatedMessage[] {
    return this.channelMessages.get(channelId) ?? [];
  }

  // ---- interactions ------------------------------------------------------------------------------------------

  /** Someone runs `/<command> <subcommand> option:value …`; `age` pretends the interaction was sent that long ago. */
  command(
    user: EmulatedUser,
    subcommand: string,
    options: Record<string, OptionValue> = {},
    extra: { command?: string; ageMs?: number; directMessage?: boolean } = {}
  ): InteractionRecord {
    const registered = this.#registered(extra.command ?? 'mail');
    const sub = registered.options?.find((option) => option.type === 1 && option.name === subcommand);
    if (!sub) throw new Error(`emulator: /${registered.name} has no registered subcommand "${subcommand}"`);
    const data = {
      id: registered.id,
      name: registered.name,
      type: 1,
      guild_id: registered.guild_id,
      options: [{ type: 1, name: subcommand, options: this.#commandOptions(sub, options) }],
    };
    return this.#send(interactionTypes.command, user, data, {}, extra.ageMs, extra.directMessage);
  }

  /** Someone types into an autocomplete option; resolves when the bot answered (or the window closed). */
  async autocomplete(
    user: EmulatedUser,
    subcommand: string,
    focused: string,
    typed: string,
    others: Record<string, OptionValue> = {}
  ): Promise<InteractionRecord> {
    const registered = this.#registered('mail');
    const sub = registered.options?.find((option) => option.type === 1 && option.name === subcommand);
    const focusedOption = sub?.options?.find((option) => option.name === focused);
    if (!sub || !focusedOption?.autocomplete) throw new Error(`emulator: /mail ${subcommand} ${focused} is not an autocomplete option`);
    const options = [...this.#commandOptions(sub, others, false), { type: focusedOption.type, name: focused, value: typed, focused: true }];
    const record = this.#send(interactionTypes.autocomplete, user, {
      id: registered.id,
      name: 'mail',
      type: 1,
      options: [{ type: 1, name: subcommand, options }],
    });
    await this.until(
      () => record.callback !== undefined || Date.now() - record.createdAt > this.callbackWindowMs + 200,
      this.callbackWindowMs + 1000,
      'the answer to the autocomplete (or the end of its window)'
    );
    return record;
  }

  /** Someone presses a button on a message. */
  press(user: EmulatedUser, message: EmulatedMessage | undefined, customId: string): InteractionRecord {
    if (!message) throw new Error('emulator: there is no message to press a button on');
    if (!buttonIds(message).includes(customId))
      throw new Error(`emulator: the message has no button "${customId}" (it has: ${buttonIds(message).join(', ') || 'none'})`);
    const record = this.#send(
      interactionTypes.component,
      user,
      { custom_id: customId, component_type: 2 },
      { message: structuredClone(message) }
    );
    record.original = message;
    return record;
  }

  /** Someone fills in and submits the modal that `shown` answered with: values by text input custom id. */
  submitModal(user: EmulatedUser, shown: InteractionRecord, values: Record<string, string>): InteractionRecord {
    const modal = shown.modal;
    if (!modal) throw new Error('emulator: that interaction was not answered with a modal');
    const inputs = (modal.components as Array<Record<string, unknown>>).map((row) => {
      if (row.type === 18) {
        const input = row.component as { custom_id: string; type: number };
        return { type: 18, id: row.id, component: { type: input.type, custom_id: input.custom_id, value: values[input.custom_id] ?? '' } };
      }
      const inputsOfRow = row.components as Array<{ custom_id: string; type: number }>;
      return {
        type: 1,
        components: inputsOfRow.map((input) => ({ type: input.type, custom_id: input.custom_id, value: values[input.custom_id] ?? '' })),
      };
    });
    return this.#send(interactionTypes.modal, user, { custom_id: modal.custom_id, components: inputs });
  }

  /** Makes the token of an interaction stop working, as after 15 minutes. */
  expire(record: InteractionRecord): void {
    record.expired = true;
  }

  /** Sends any dispatch (a malformed interaction, an unknown event) as the gateway would. */
  dispatchRaw(t: string, d: unknown): void {
    this.gateway.dispatch(t, d);
  }

  /** Waits until `condition` holds; fails with `what` after `timeoutMs`. */
  async until(condition: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
    await waitFor(`emulator: ${what}`, condition, { timeoutMs, intervalMs: 10 });
  }

  /** Requests whose body (as JSON) contains `text`. */
  requestsContaining(text: string): RecordedRequest[] {
    return this.requests.filter((request) => JSON.stringify(request.body ?? null).includes(text) || request.path.includes(text));
  }

  #registered(name: string): RegisteredCommand {
    const registered = [...this.commands.guild, ...this.commands.global].find((command) => command.name === name);
    if (!registered) throw new Error(`emulator: /${name} is not registered (register the commands first)`);
    return registered;
  }

  #commandOptions(
    sub: RegisteredOption,
    values: Record<string, OptionValue>,
    checkRequired = true
  ): Array<{ type: number; name: string; value: OptionValue }> {
    const known = sub.options ?? [];
    for (const name of Object.keys(values)) {
      if (!known.some((option) => option.name === name)) throw new Error(`emulator: /mail ${sub.name} has no option "${name}"`);
    }
    const result: Array<{ type: number; name: string; value: OptionValue }> = [];
    for (const option of known) {
      const value = values[option.name];
      if (value === undefined) {
        if (checkRequired && option.required) throw new Error(`emulator: /mail ${sub.name} needs the option "${option.name}"`);
        continue;
      }
      if (option.choices && !option.choices.some((choice) => choice.value === value)) {
        throw new Error(`emulator: "${String(value)}" is not a choice of /mail ${sub.name} ${option.name}`);
      }
      result.push({ type: option.type, name: option.name, value });
    }
    return result;
  }

  #send(
    type: number,
    user: EmulatedUser,
    data: Record<string, unknown>,
    extra: Record<string, unknown> = {},
    ageMs = 0,
    directMessage = false
  ): InteractionRecord {
    const member = this.#members.get(user.id);
    if (!member) throw new Error(`emulator: ${user.username} is not a member of the guild`);
    const channel = this.channels[0] as EmulatedChannel;
    const id = snowflake();
    const token = `aW50ZXJhY3Rpb24.${randomBytes(32).toString('base64url')}`;
    const payload = {
      id,
      application_id: this.applicationId,
      type,
      token,
      version: 1,
      data,
      guild_id: this.guildId,
      guild: { id: this.guildId, locale: 'en-US', features: [] },
      channel_id: channel.id,
      channel: { id: channel.id, type: 0, guild_id: this.guildId, name: channel.name, flags: 0, permissions: '1071698660929' },
      member: { ...memberPayload(member.user, member.roles, new Date().toISOString()), permissions: '1071698660929' },
      locale: 'en-US',
      guild_locale: 'en-US',
      app_permissions: '1071698660929',
      entitlements: [],
      authorizing_integration_owners: { 0: this.guildId },
      context: 0,
      attachment_size_limit: 10_485_760,
      ...extra,
    };
    if (directMessage) {
      // A DM with the bot: no guild, no member, the user at the top level, a DM channel.
      for (const key of ['guild_id', 'guild', 'member', 'guild_locale', 'channel_id']) delete (payload as Record<string, unknown>)[key];
      Object.assign(payload, {
        user: userPayload(user),
        context: 1,
        authorizing_integration_owners: { 1: user.id },
        channel: { id: snowflake(), type: 1, recipients: [userPayload(user)], flags: 0 },
      });
    }
    const record = new InteractionRecord({ id, token, type, user, payload, createdAt: Date.now() - ageMs });
    this.interactions.push(record);
    this.gateway.dispatch('INTERACTION_CREATE', payload);
    return record;
  }

  // ---- REST --------------------------------------------------------------------------------------------------

  async #handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://emulator');
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const recorded: RecordedRequest = {
      at: Date.now(),
      method: request.method ?? 'GET',
      path: decodeURIComponent(url.pathname.replace(/^\/api\/v10/, '')),
      query: Object.fromEntries(url.searchParams),
      authorization: request.headers.authorization,
      body: undefined,
      status: 0,
      response: undefined,
    };
    this.requests.push(recorded);
    let status: number;
    let body: unknown;
    try {
      recorded.body = raw === '' ? undefined : parseBody(raw, request.headers['content-type']);
      if (!url.pathname.startsWith('/api/v10/')) throw new HttpError(404, 0, '404: Not Found');
      const failure = this.#failures.findIndex((item) => item.method === recorded.method && item.path.test(recorded.path));
      if (failure >= 0) {
        const [injected] = this.#failures.splice(failure, 1) as [InjectedFailure];
        throw new HttpError(injected.status, injected.code, injected.message);
      }
      const refusal = this.#refusals.find((item) => item.method === recorded.method && item.path.test(recorded.path));
      if (refusal) throw new HttpError(refusal.status, refusal.code, refusal.message);
      const result = this.#route(recorded);
      status = result.status ?? 200;
      body = result.body;
      if (result.message) recorded.message = { id: result.message.id, ephemeral: (result.message.flags & messageFlags.ephemeral) !== 0 };
    } catch (error) {
      if (error instanceof HttpError) {
        status = error.status;
        body = error.body;
      } else {
        // A bug in the emulator: answer like Discord's 500 and keep it for the test to see.
        this.emulatorErrors.push(error);
        status = 500;
        body = { code: 0, message: '500: Internal Server Error' };
      }
    }
    recorded.status = status;
    recorded.response = body;
    const lost = this.#lostResponses.findIndex((item) => item.method === recorded.method && item.path.test(recorded.path));
    if (lost >= 0) {
      this.#lostResponses.splice(lost, 1);
      recorded.status = 0;
      response.socket?.destroy();
      return;
    }
    if (status === 204) {
      response.writeHead(204).end();
      return;
    }
    response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  }

  #requireBot(request: RecordedRequest): void {
    if (request.authorization !== `Bot ${this.token}`) throw new HttpError(401, 0, '401: Unauthorized');
  }

  #route(request: RecordedRequest): { status?: number; body?: unknown; message?: EmulatedMessage } {
    const { method, path } = request;
    let match: RegExpExecArray | null;
    if (method === 'GET' && path === '/gateway/bot') {
      this.#requireBot(request);
      return {
        body: {
          url: `ws://127.0.0.1:${this.#port}/gateway`,
          shards: 1,
          session_start_limit: { total: 1000, remaining: 999, reset_after: 14_400_000, max_concurrency: 1 },
        },
      };
    }
    if ((match = /^\/applications\/(\d+)(?:\/guilds\/(\d+))?\/commands$/.exec(path))) {
      this.#requireBot(request);
      if (match[1] !== this.applicationId) throw new HttpError(403, 50001, 'Missing Access');
      if (match[2] !== undefined && match[2] !== this.guildId) throw new HttpError(403, 50001, 'Missing Access');
      const scope = match[2] === undefined ? 'global' : 'guild';
      if (method === 'GET') return { body: this.commands[scope] };
      if (method !== 'PUT') throw new HttpError(405, 0, '405: Method Not Allowed');
      if (!Array.isArray(request.body)) throw new HttpError(400, 50035, 'Invalid Form Body');
      this.commands[scope] = (request.body as Array<Record<string, unknown>>).map((command) => {
        if (typeof command.name !== 'string' || typeof command.description !== 'string')
          throw new HttpError(400, 50035, 'Invalid Form Body');
        return {
          ...command,
          id: snowflake(),
          application_id: this.applicationId,
          ...(match?.[2] ? { guild_id: match[2] } : {}),
          type: Number(command.type ?? 1),
        } as RegisteredCommand;
      });
      return { body: this.commands[scope] };
    }
    if (method === 'POST' && (match = /^\/interactions\/(\d+)\/([^/]+)\/callback$/.exec(path))) {
      return this.#callback(match[1] as string, match[2] as string, request.body as { type: number; data?: Record<string, unknown> });
    }
    if ((match = /^\/webhooks\/(\d+)\/([^/]+)(?:\/messages\/([^/]+))?$/.exec(path))) {
      return this.#webhook(request, match[1] as string, match[2] as string, match[3]);
    }
    if ((match = /^\/channels\/(\d+)(\/messages)?$/.exec(path))) {
      this.#requireBot(request);
      const channel = this.channels.find((item) => item.id === match?.[1]);
      if (!channel) throw new HttpError(404, 10003, 'Unknown Channel');
      if (method === 'GET' && match[2] === undefined)
        return { body: { id: channel.id, type: 0, guild_id: this.guildId, name: channel.name, position: 0, permission_overwrites: [] } };
      if (method === 'POST' && match[2] !== undefined) {
        const body = (request.body ?? {}) as Record<string, unknown>;
        const nonce = typeof body.nonce === 'string' || typeof body.nonce === 'number' ? body.nonce : undefined;
        if (nonce !== undefined && String(nonce).length > 25)
          throw new HttpError(400, 50035, 'Invalid Form Body: nonce is longer than 25 characters');
        const nonceKey = `${channel.id} ${String(nonce)}`;
        const earlier = nonce === undefined ? undefined : this.#nonces.get(nonceKey);
        if (body.enforce_nonce === true && earlier !== undefined && Date.now() - earlier.at < 5 * 60_000)
          return { body: earlier.message, message: earlier.message };
        const message = newMessage({
          channelId: channel.id,
          guildId: this.guildId,
          author: userPayload(this.botUser),
          ...messageFields(body),
        });
        if (nonce !== undefined) {
          message.nonce = nonce;
          this.#nonces.set(nonceKey, { message, at: Date.now() });
        }
        const list = this.channelMessages.get(channel.id) ?? [];
        list.push(message);
        this.channelMessages.set(channel.id, list);
        return { body: message, message };
      }
    }
    throw new HttpError(404, 0, '404: Not Found');
  }

  #interactionByToken(applicationId: string, token: string): InteractionRecord {
    const record = this.interactions.find((item) => item.token === token);
    if (!record || applicationId !== this.applicationId) throw new HttpError(404, 10015, 'Unknown Webhook');
    if (record.expired || Date.now() - record.createdAt > this.tokenLifetimeMs) throw new HttpError(401, 50027, 'Invalid Webhook Token');
    return record;
  }

  #callback(
    id: string,
    token: string,
    body: { type: number; data?: Record<string, unknown> }
  ): { status?: number; body?: unknown; message?: EmulatedMessage } {
    const record = this.interactions.find((item) => item.id === id && item.token === token);
    if (!record) throw new HttpError(404, 10062, 'Unknown interaction');
    const now = Date.now();
    if (record.callback) {
      record.rejectedCallbacks.push({ code: 40060, at: now });
      throw new HttpError(400, 40060, 'Interaction has already been acknowledged.');
    }
    if (now - record.createdAt > this.callbackWindowMs) {
      record.rejectedCallbacks.push({ code: 10062, at: now });
      throw new HttpError(404, 10062, 'Unknown interaction');
    }
    const allowed: Record<number, number[]> = {
      [interactionTypes.command]: [4, 5, 9],
      [interactionTypes.component]: [4, 5, 6, 7, 9],
      [interactionTypes.autocomplete]: [8],
      [interactionTypes.modal]: [4, 5, 6, 7],
    };
    if (!(allowed[record.type] ?? []).includes(body.type))
      throw new HttpError(400, 50035, `Invalid Form Body: callback type ${body.type} for interaction type ${record.type}`);
    record.callback = { type: body.type, data: body.data, at: now };
    const metadata = {
      id: record.id,
      type: record.type,
      user: userPayload(record.user),
      authorizing_integration_owners: { 0: this.guildId },
    };
    const base = {
      channelId: (this.channels[0] as EmulatedChannel).id,
      guildId: this.guildId,
      author: userPayload(this.botUser),
      webhook_id: this.applicationId,
      application_id: this.applicationId,
      interaction_metadata: metadata,
      type: record.type === interactionTypes.command ? 20 : 19,
    };
    switch (body.type) {
      case 4:
        record.original = newMessage({ ...base, ...messageFields(body.data ?? {}) });
        return { status: 204, message: record.original };
      case 5:
        record.original = newMessage({ ...base, flags: ((body.data?.flags as number | undefined) ?? 0) | messageFlags.loading });
        return { status: 204, message: record.original };
      case 6:
        return { status: 204 };
      case 7: {
        const message = record.original;
        if (!message) throw new HttpError(400, 50035, 'Invalid Form Body: no message to update');
        applyEdit(message, body.data ?? {});
        return { status: 204, message };
      }
      default:
        return { status: 204 };
    }
  }

  #webhook(
    request: RecordedRequest,
    applicationId: string,
    token: string,
    messageId: string | undefined
  ): { status?: number; body?: unknown; message?: EmulatedMessage } {
    const record = this.#interactionByToken(applicationId, token);
    if (!record.callback || record.callback.type === 8 || record.callback.type === 9) throw new HttpError(404, 10015, 'Unknown Webhook');
    if (messageId === undefined) {
      if (request.method !== 'POST') throw new HttpError(405, 0, '405: Method Not Allowed');
      const body = (request.body ?? {}) as Record<string, unknown>;
      const message = newMessage({
        channelId: (this.channels[0] as EmulatedChannel).id,
        guildId: this.guildId,
        author: userPayload(this.botUser),
        webhook_id: this.applicationId,
        application_id: this.applicationId,
        ...messageFields(body),
      });
      record.followUps.push(message);
      return { body: message, message };
    }
    const message =
      messageId === '@original'
        ? record.originalDeleted
          ? undefined
          : record.original
        : record.followUps.find((item) => item.id === messageId);
    if (!message) throw new HttpError(404, 10008, 'Unknown Message');
    switch (request.method) {
      case 'GET':
        return { body: message };
      case 'PATCH':
        applyEdit(message, (request.body ?? {}) as Record<string, unknown>);
        return { body: message, message };
      case 'DELETE':
        if (messageId === '@original') record.originalDeleted = true;
        else record.followUps.splice(record.followUps.indexOf(message), 1);
        return { status: 204, message };
      default:
        throw new HttpError(405, 0, '405: Method Not Allowed');
    }
  }
}

function parseBody(raw: string, contentType: string | undefined): unknown {
  if (contentType?.startsWith('multipart/form-data')) {
    const json = /name="payload_json"\r\n(?:[^\r\n]+\r\n)*\r\n([\s\S]*?)\r\n--/.exec(raw);
    return json ? JSON.parse(json[1] as string) : raw;
  }
  try {
    return JSON.parse(raw);
  } catch {
    throw new HttpError(400, 50109, 'The request body contains invalid JSON.');
  }
}

function messageFields(body: Record<string, unknown>): Partial<Pick<EmulatedMessage, 'content' | 'embeds' | 'components' | 'flags'>> {
  return {
    ...(typeof body.content === 'string' ? { content: body.content } : body.content === null ? { content: '' } : {}),
    ...(Array.isArray(body.embeds) ? { embeds: body.embeds } : {}),
    ...(Array.isArray(body.components) ? { components: body.components } : {}),
    ...(typeof body.flags === 'number' ? { flags: body.flags & messageFlags.ephemeral } : {}),
  };
}

/** An edit: the fields it names replace the message's; ephemerality never changes; the loading state ends. */
function applyEdit(message: EmulatedMessage, body: Record<string, unknown>): void {
  const fields = messageFields(body);
  if (fields.content !== undefined) message.content = fields.content;
  if (fields.embeds !== undefined) message.embeds = fields.embeds;
  if (fields.components !== undefined) message.components = fields.components;
  message.flags &= ~messageFlags.loading;
  message.edited_timestamp = new Date().toISOString();
}
