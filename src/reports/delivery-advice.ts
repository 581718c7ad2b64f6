// What a failed delivery most likely means, and what the operator can do about it.
//
// Two tables of facts, no I/O: the large mailbox providers by recipient domain (an allow-list: a failure at one of
// them usually says something about our reputation or authentication, not about one recipient), and the replies
// receivers give — SMTP enhanced status codes (RFC 3463) and the well-known texts that Google, Microsoft and Yahoo
// publish for their bounces — each with the cause and a fix in mailops's terms. The reply is a remote server's text:
// it is only matched against, never echoed into the advice.

interface ProviderFamily {
  provider: string;
  /** Exact domains. */
  domains?: string[];
  /** Labels registered by the provider under many country domains (`outlook` for outlook.com, outlook.de, …). */
  labels?: string[];
}

/** The public suffixes under which the provider families above register their country domains. */
const countrySuffixes = new Set([
  'com',
  'ar',
  'at',
  'be',
  'ca',
  'ch',
  'cl',
  'co.id',
  'co.il',
  'co.in',
  'co.jp',
  'co.kr',
  'co.nz',
  'co.th',
  'co.uk',
  'co.za',
  'com.ar',
  'com.au',
  'com.br',
  'com.hk',
  'com.mx',
  'com.my',
  'com.ph',
  'com.sg',
  'com.tr',
  'com.tw',
  'com.vn',
  'cz',
  'de',
  'dk',
  'es',
  'fi',
  'fr',
  'gr',
  'hu',
  'ie',
  'in',
  'it',
  'jp',
  'lv',
  'nl',
  'no',
  'pe',
  'ph',
  'pl',
  'pt',
  'ro',
  'ru',
  'se',
  'sk',
  'ua',
]);

const providers: ProviderFamily[] = [
  { provider: 'Google', domains: ['gmail.com', 'googlemail.com'] },
  { provider: 'Microsoft', domains: ['msn.com', 'passport.com', 'windowslive.com'], labels: ['outlook', 'hotmail', 'live'] },
  {
    provider: 'Yahoo',
    domains: ['ymail.com', 'rocketmail.com', 'aol.com', 'aim.com', 'verizon.net'],
    labels: ['yahoo'],
  },
  { provider: 'Apple', domains: ['icloud.com', 'me.com', 'mac.com'] },
  { provider: 'GMX', domains: ['gmx.de', 'gmx.net', 'gmx.at', 'gmx.ch', 'gmx.com', 'gmx.fr', 'gmx.co.uk', 'gmx.es', 'gmx.us'] },
  { provider: 'WEB.DE', domains: ['web.de'] },
  { provider: 'mail.com', domains: ['mail.com', 'email.com', 'usa.com', 'post.com'] },
  { provider: 'Proton', domains: ['proton.me', 'protonmail.com', 'protonmail.ch', 'pm.me'] },
  { provider: 'Zoho', domains: ['zoho.com', 'zohomail.com', 'zoho.eu', 'zohomail.eu', 'zoho.in'] },
  { provider: 'Yandex', domains: ['yandex.ru', 'yandex.com', 'ya.ru', 'yandex.by', 'yandex.kz', 'yandex.ua', 'narod.ru'] },
  { provider: 'Mail.ru', domains: ['mail.ru', 'inbox.ru', 'list.ru', 'bk.ru', 'internet.ru'] },
  { provider: 'Comcast', domains: ['comcast.net', 'xfinity.com'] },
  { provider: 'AT&T', domains: ['att.net', 'sbcglobal.net', 'bellsouth.net', 'pacbell.net', 'swbell.net', 'flash.net', 'prodigy.net'] },
  { provider: 'Charter', domains: ['charter.net', 'spectrum.net', 'roadrunner.com', 'twc.com'] },
  { provider: 'Cox', domains: ['cox.net'] },
  { provider: 'Fastmail', domains: ['fastmail.com', 'fastmail.fm', 'messagingengine.com'] },
  { provider: 'Tuta', domains: ['tutanota.com', 'tutanota.de', 'tuta.io', 'tuta.com', 'tutamail.com'] },
  { provider: 'Deutsche Telekom', domains: ['t-online.de', 'magenta.de'] },
  { provider: 'freenet', domains: ['freenet.de'] },
  { provider: 'Orange', domains: ['orange.fr', 'wanadoo.fr'] },
  { provider: 'Free', domains: ['free.fr'] },
  { provider: 'SFR', domains: ['sfr.fr', 'neuf.fr'] },
  { provider: 'La Poste', domains: ['laposte.net'] },
  { provider: 'Italiaonline', domains: ['libero.it', 'virgilio.it', 'inwind.it', 'iol.it'] },
  { provider: 'Seznam', domains: ['seznam.cz', 'email.cz', 'post.cz'] },
  { provider: 'Wirtualna Polska', domains: ['wp.pl', 'o2.pl'] },
  { provider: 'Onet', domains: ['onet.pl', 'op.pl'] },
  { provider: 'Interia', domains: ['interia.pl', 'poczta.fm'] },
  { provider: 'Rambler', domains: ['rambler.ru'] },
  { provider: 'Tencent', domains: ['qq.com', 'foxmail.com'] },
  { provider: 'NetEase', domains: ['163.com', '126.com', 'yeah.net'] },
  { provider: 'Naver', domains: ['naver.com'] },
  { provider: 'Daum', domains: ['daum.net', 'hanmail.net'] },
  { provider: 'Rediffmail', domains: ['rediffmail.com'] },
  { provider: 'Telstra', domains: ['bigpond.com', 'bigpond.net.au', 'telstra.com'] },
  { provider: 'Rogers', domains: ['rogers.com'] },
  { provider: 'Shaw', domains: ['shaw.ca'] },
  { provider: 'Virgin Media', domains: ['virginmedia.com', 'ntlworld.com', 'blueyonder.co.uk'] },
  { provider: 'Sky', domains: ['sky.com'] },
  { provider: 'KPN', domains: ['kpnmail.nl', 'planet.nl', 'hetnet.nl', 'home.nl'] },
  { provider: 'Ziggo', domains: ['ziggo.nl', 'upcmail.nl', 'chello.nl'] },
  { provider: 'Bluewin', domains: ['bluewin.ch'] },
  { provider: 'A1', domains: ['aon.at'] },
];

const exactDomains = new Map(providers.flatMap((family) => (family.domains ?? []).map((domain) => [domain, family.provider] as const)));
const labelFamilies = new Map(providers.flatMap((family) => (family.labels ?? []).map((label) => [label, family.provider] as const)));

/**
 * The large mailbox provider that hosts `recipientDomain` (or the domain of an address), by an allow-list of the
 * providers' own domains: `Google` for gmail.com, `Microsoft` for outlook.de, `Yahoo` for aol.com. Undefined for
 * everything else, including look-alikes (outlook.example) and subdomains.
 */
export function mailboxProvider(recipientDomain: string): string | undefined {
  const domain = recipientDomain
    .slice(recipientDomain.lastIndexOf('@') + 1)
    .trim()
    .toLowerCase()
    .replace(/\.$/, '');
  const exact = exactDomains.get(domain);
  if (exact) return exact;
  const dot = domain.indexOf('.');
  if (dot <= 0) return undefined;
  const family = labelFamilies.get(domain.slice(0, dot));
  return family && countrySuffixes.has(domain.slice(dot + 1)) ? family : undefined;
}

export interface DeliveryAdvice {
  /** The enhanced status code of the reply (`5.7.26`), or the basic one (`550`) when it has none. */
  code?: string;
  /** What the receiver most likely objected to. */
  cause: string;
  /** What to do, in mailops's terms. */
  fix: string;
}

interface Rule {
  /** Enhanced status codes this rule is for (any, if absent). */
  codes?: string[];
  /** Reply text this rule is for (any, if absent). */
  text?: RegExp;
  cause: string;
  fix: (domain: string) => string;
}

const check = (domain: string) => `mailops check ${domain}`;

const fixes = {
  authentication: (domain: string) =>
    `Make SPF and DKIM pass and align with the From domain: run \`${check(domain)}\` and fix what it reports (SPF must name this server's IP addresses, the DKIM key must be published under the selector chasquid signs with — \`mailops dkim-rotate ${domain}\` publishes a new one — and a DMARC record must exist).`,
  spf: (domain: string) =>
    `Run \`${check(domain)}\`: the SPF record must name the IPv4 and IPv6 addresses this server sends from (mail over IPv6 counts too) and stay within 10 DNS lookups.`,
  dkim: (domain: string) =>
    `Run \`${check(domain)}\`: the DKIM record must match the key chasquid signs with; if it does not, \`mailops dkim-rotate ${domain}\` installs a key and publishes it.`,
  dmarc: (domain: string) =>
    `Run \`${check(domain)}\`: publish a DMARC record (p=none is enough to start) and make SPF or DKIM pass for the very domain in the From header.`,
  reverseDns: () =>
    "Set reverse DNS (PTR) for each of the server's IP addresses, IPv6 included, to the mail hostname, at the VPS provider (its control panel or support); the hostname must resolve back to the same address. Then check it with `mailops check`.",
  blocklist: () =>
    "The server's IP address is on a blocklist: look it up at the list named in the reply (Spamhaus, Microsoft, …) and request delisting there; find out first why it was listed (a compromised account sending spam shows in the mail log as many queued messages from one sender).",
  microsoftBlocklist: () =>
    "Microsoft blocks this server's IP address: request delisting at sender.office.com (Office 365) or with Outlook.com's sender support form, after checking that no account sends spam (look for many queued messages from one sender in the mail log).",
  reputation: (domain: string) =>
    `The receiver distrusts mail from this server or domain. Check that authentication passes (\`${check(domain)}\`), that no account sends spam or mail people did not ask for, and send less to that provider for a while; reputation recovers over days.`,
  rateLimit: () =>
    'The receiver slows this server down: chasquid retries on its own. If it lasts, send less at once, check that authentication passes and that no account sends bulk mail or spam.',
  recipient: () =>
    'Nothing to fix on this server: the address does not exist (or no longer does). Tell the sender to check the spelling; mailing lists should drop the address.',
  mailboxFull: () => "Nothing to fix on this server: the recipient's mailbox is full. Try again later or reach them another way.",
  mailboxDisabled: () => 'Nothing to fix on this server: the mailbox is disabled or suspended. Reach the recipient another way.',
  tooBig: () => 'The message is larger than the receiver accepts: send the attachment as a link, or in smaller parts.',
  content: (domain: string) =>
    `The receiver judged the message itself as spam or dangerous (content, links, attachments). Check authentication (\`${check(domain)}\`) and the message's links and attachments.`,
  noMailServer: () =>
    "The recipient's domain has no mail server (no MX, or it does not exist): the address is most likely misspelt. Nothing to fix on this server.",
  cannotConnect: () =>
    "This server cannot connect to the recipient's mail server. Many VPS providers block outgoing port 25 for new accounts: ask the provider to open it. If others are affected too, check the server's network and firewall.",
  tls: () =>
    "The TLS handshake with the recipient's server failed, or its security dropped below what this server saw before (chasquid refuses a downgrade). Usually the receiver's problem; chasquid retries.",
  policy: (domain: string) =>
    `The receiver refused the mail by its policy. Read the reply for the reason; check authentication (\`${check(domain)}\`) and whether the server's IP address is on a blocklist.`,
  temporary: () => 'A temporary failure: chasquid retries on its own. Act only if the same reply keeps coming for hours.',
  unknown: () => 'Read the reply for the reason. A 4xx reply is temporary (chasquid retries); a 5xx reply is final.',
};

// More specific rules first: provider texts, then exact codes, then the classes of RFC 3463.
const rules: Rule[] = [
  // Blocklists, named in the text whatever the code.
  {
    text: /banned sending ip|part of their network is on our block list|\bS3150\b|\bS3140\b/i,
    cause: "The sending IP address is on Microsoft's blocklist.",
    fix: fixes.microsoftBlocklist,
  },
  {
    codes: [
      '5.7.606',
      '5.7.607',
      '5.7.608',
      '5.7.609',
      '5.7.610',
      '5.7.611',
      '5.7.612',
      '5.7.613',
      '5.7.614',
      '5.7.615',
      '5.7.616',
      '5.7.617',
      '5.7.618',
      '5.7.619',
      '5.7.620',
      '5.7.621',
      '5.7.622',
      '5.7.623',
      '5.7.624',
      '5.7.625',
      '5.7.626',
      '5.7.627',
      '5.7.628',
      '5.7.629',
      '5.7.630',
      '5.7.631',
      '5.7.632',
      '5.7.633',
      '5.7.634',
      '5.7.635',
      '5.7.636',
      '5.7.637',
      '5.7.638',
      '5.7.639',
      '5.7.640',
      '5.7.641',
      '5.7.642',
      '5.7.643',
      '5.7.644',
      '5.7.645',
      '5.7.646',
      '5.7.647',
      '5.7.648',
      '5.7.649',
    ],
    cause: 'The sending IP address is banned by Microsoft.',
    fix: fixes.microsoftBlocklist,
  },
  {
    codes: ['5.7.708', '5.7.511'],
    cause: 'Microsoft does not accept traffic from the sending IP address (poor reputation or a banned range).',
    fix: fixes.microsoftBlocklist,
  },
  {
    text: /spamhaus|spamcop|barracuda|sorbs|\bdnsbl\b|\brbl\b|block ?list|black ?list|\[BL2\d\]|listed (?:at|on|in)\b/i,
    cause: 'The sending IP address is on a DNS blocklist the receiver uses.',
    fix: fixes.blocklist,
  },
  // Google.
  {
    codes: ['5.7.26', '4.7.26'],
    text: /dmarc/i,
    cause: "The message failed the From domain's DMARC policy: neither SPF nor DKIM passed for that domain.",
    fix: fixes.dmarc,
  },
  {
    codes: ['5.7.26', '4.7.26'],
    cause: 'The message was not authenticated: neither SPF nor DKIM passed (or not for the From domain).',
    fix: fixes.authentication,
  },
  {
    codes: ['5.7.25', '4.7.25', '4.7.23', '5.7.23'],
    cause: "The sending IP address has no reverse DNS (PTR) record, or it does not match the server's name.",
    fix: fixes.reverseDns,
  },
  {
    codes: ['5.7.27', '4.7.27', '5.7.24', '4.7.24'],
    cause: 'SPF did not pass for the sender domain (no SPF record, or it does not name this server).',
    fix: fixes.spf,
  },
  {
    codes: ['5.7.30', '4.7.30'],
    cause: 'DKIM did not pass: the message was not signed, or the signature did not verify.',
    fix: fixes.dkim,
  },
  { codes: ['5.7.32', '4.7.32'], cause: 'The From domain does not align with the domains SPF or DKIM authenticated.', fix: fixes.dmarc },
  {
    codes: ['5.7.29', '4.7.29'],
    cause: "Mail over IPv6 failed the receiver's checks (reverse DNS or authentication for the IPv6 address).",
    fix: fixes.reverseDns,
  },
  { codes: ['5.7.28', '4.7.28'], cause: 'The receiver sees an unusual rate of unsolicited mail from this server.', fix: fixes.rateLimit },
  {
    text: /unusual rate|rate limit|too many (?:messages|connections|recipients)|receiving mail (?:too quickly|at a rate)/i,
    cause: 'The receiver limits how much mail it takes from this server.',
    fix: fixes.rateLimit,
  },
  {
    text: /\[TSS0[1-9]\]|\[TS0[1-9]\]|temporarily deferred|permanently deferred/i,
    cause: 'Yahoo defers mail from this server: unexpected volume, user complaints or a poor reputation.',
    fix: fixes.reputation,
  },
  // Microsoft.
  {
    codes: ['5.7.515'],
    cause: "The From domain does not meet Microsoft's authentication requirements (SPF and DKIM must pass and DMARC must exist and align).",
    fix: fixes.authentication,
  },
  { codes: ['5.7.750'], cause: 'Microsoft refuses mail from an unregistered or unverified sending domain.', fix: fixes.authentication },
  { codes: ['5.7.509', '5.7.510'], cause: "The From domain's DMARC check failed at Microsoft.", fix: fixes.dmarc },
  { codes: ['5.7.350'], cause: 'The receiver flagged the message as spam or malware.', fix: fixes.content },
  {
    codes: ['5.1.10', '5.4.1'],
    text: /recipient|not found|access denied/i,
    cause: 'The recipient address does not exist at the receiver.',
    fix: fixes.recipient,
  },
  {
    text: /reverse dns|\bptr\b|rdns/i,
    cause: "The sending IP address's reverse DNS (PTR) is missing or does not match.",
    fix: fixes.reverseDns,
  },
  { text: /\bdmarc\b/i, cause: "The message failed the From domain's DMARC policy.", fix: fixes.dmarc },
  { text: /\bdkim\b/i, cause: 'DKIM did not pass.', fix: fixes.dkim },
  { text: /\bspf\b/i, cause: 'SPF did not pass.', fix: fixes.spf },
  {
    text: /unauthenticated|not authenticated|authentication (?:check|information|requirement)/i,
    cause: 'The message was not authenticated.',
    fix: fixes.authentication,
  },
  // Reputation and content texts, after the authentication ones (Google's old 5.7.1 names spam in an authentication refusal).
  {
    text: /likely unsolicited|low reputation|poor reputation|reputation of|spam|junk/i,
    cause: 'The receiver judged the message or the sender as likely spam (reputation or content).',
    fix: fixes.reputation,
  },
  { text: /virus|malware|dangerous|phishing/i, cause: 'The receiver flagged the message as dangerous.', fix: fixes.content },
  // chasquid's own errors (the reply text starts with what chasquid tried).
  {
    text: /could not find mail server|no such host|\bNXDOMAIN\b/i,
    cause: "The recipient's domain has no mail server.",
    fix: fixes.noMailServer,
  },
  {
    text: /could not dial|connection refused|i\/o timeout|network is unreachable|no route to host/i,
    cause: "This server could not reach the recipient's mail server.",
    fix: fixes.cannotConnect,
  },
  {
    text: /TLS error|security level check failed|STS policy/i,
    cause: "TLS with the recipient's server failed or was weaker than before.",
    fix: fixes.tls,
  },
  // RFC 3463 codes.
  { codes: ['5.1.1', '5.1.0', '5.1.6', '5.1.3'], cause: 'The recipient address does not exist.', fix: fixes.recipient },
  { codes: ['5.1.2', '4.1.2'], cause: "The recipient's domain is wrong or does not receive mail.", fix: fixes.noMailServer },
  { codes: ['5.2.2', '4.2.2'], cause: "The recipient's mailbox is full.", fix: fixes.mailboxFull },
  { codes: ['5.2.1', '4.2.1'], cause: 'The mailbox is disabled or not accepting mail right now.', fix: fixes.mailboxDisabled },
  { codes: ['5.3.4', '5.2.3', '4.3.4'], cause: 'The message is too large for the receiver.', fix: fixes.tooBig },
  { codes: ['5.7.1', '5.7.0'], cause: 'The receiver refused the message by its policy.', fix: fixes.policy },
];

const enhancedCode = /\b([245])\.(\d{1,3})\.(\d{1,3})\b/;
const basicCode = /\b([245]\d\d)[ -]/;

/**
 * The likely cause of a failed delivery, and what to do, from the reply chasquid logged (`failed (…): <reply>`).
 * `senderDomain` is named in the commands of the fix (default `<your domain>`).
 */
export function likelyFix(reply: string, senderDomain = '<your domain>'): DeliveryAdvice {
  const enhanced = enhancedCode.exec(reply)?.[0];
  const basic = basicCode.exec(reply)?.[1];
  const code = enhanced ?? basic;
  const withCode = code ? { code } : {};
  for (const rule of rules) {
    if (rule.codes && !(enhanced && rule.codes.includes(enhanced))) continue;
    if (rule.text && !rule.text.test(reply)) continue;
    return { ...withCode, cause: rule.cause, fix: rule.fix(senderDomain) };
  }
  const temporary = enhanced?.startsWith('4') ?? basic?.startsWith('4') ?? false;
  const subject = enhanced?.split('.')[1];
  if (temporary) return { ...withCode, cause: 'The receiver refused the message for now.', fix: fixes.temporary() };
  if (subject === '1') return { ...withCode, cause: 'The receiver refused the recipient address.', fix: fixes.recipient() };
  if (subject === '2') return { ...withCode, cause: "The recipient's mailbox cannot take the message.", fix: fixes.mailboxDisabled() };
  if (subject === '7')
    return { ...withCode, cause: 'The receiver refused the message for a security or policy reason.', fix: fixes.policy(senderDomain) };
  return { ...withCode, cause: 'The receiver refused the message.', fix: fixes.unknown() };
}
