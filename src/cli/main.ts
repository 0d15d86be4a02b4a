import fs from 'node:fs';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { ConfigError, loadConfig, type Config } from '../config.js';
import { buildDeps, type Deps } from '../deps.js';
import { isLocale } from '../domain/locale.js';
import { isAppError } from '../kernel/errors.js';
import { loggerOptions } from '../kernel/logger.js';
import { startServer } from '../main.js';
import { openStore } from '../store/db.js';
import { migrateToLatest } from '../store/migrations/index.js';
import { runDemo } from './demo.js';
import { DIRECTORY_USAGE, UsageError, runDirectoryCommand } from './directory.js';
import { runBackup, runBitrixImport, runRestore } from './import-backup.js';
import { addClient, listClients, removeClient, rotateClientSecret } from '../oidc/clients.js';
import { rotateSigningKeys } from '../oidc/keys.js';
import { resetSecondFactorByOperator } from '../flows/second-factor-suspension.js';
import { addPortal, addUser, setPortal, disableAccount, enableAccount, setPasswordByOperator, signInMethodsByOperator, unlinkByOperator } from '../flows/operator.js';

const USAGE = `Usage: latchkey <command>
  start                                   migrate if needed, then serve
  migrate                                 apply database migrations
  portal add <slug> --title <t> [--url <u>] [--support <contact>]
  portal set <slug> [--title <t>] [--url <u>] [--support <contact>] [--require-2fa on|off]
           [--recovery-channels email,phone,admin] [--min-password-length N] [--color #rrggbb]
  user add --login <l> [--email <e>] [--phone <p>] [--name <n>] [--locale ru|en]
           [--password-stdin] [--portal <slug>[:admin]]...
  user set-password <login> --password-stdin
  user sign-in-methods <login>            password and linked social sign-ins of an account
  user unlink <login> --provider <id>     unlink a social sign-in (never the last way in)
  user disable <login>                    no sign-in or recovery; every session and token dies
  user enable <login>                     undo disable, or lift a "this wasn't me" lock
  user reset-2fa <login>                  remove the second factor and recovery codes (lost phone)
${DIRECTORY_USAGE}
  demo                                    add demo portals and accounts, print how to sign in
  import bitrix --file <users.csv> [--portal <slug>] [--json]
                                          accounts from Bitrix's user table, passwords as they are
  backup --to <file>                      copy the SQLite database, safe while a server runs
  restore --from <file> [--force]         put a backup in place (never while a server runs on it)
  client add <client-id> --portal <slug> --redirect-uri <uri> [--redirect-uri <uri>]...
           [--post-logout-redirect-uri <uri>]... [--backchannel-logout-uri <uri>] [--public]
  client list | client remove <client-id> | client rotate-secret <client-id>
  keys rotate                             new OIDC signing keys (restart the nodes to sign with them)`;

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  // One trailing newline is what `echo` adds; it is not part of the password.
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

async function withDeps<T>(config: Config, run: (deps: Deps) => Promise<T>): Promise<T> {
  const deps = await buildDeps(config, { logger: pino(loggerOptions('warn')) });
  try {
    return await run(deps);
  } finally {
    await deps.close();
  }
}

export async function runCli(argv: string[], env: Record<string, string | undefined> = process.env): Promise<number> {
  const [command, sub, ...rest] = argv;
  if (command === undefined || command === 'help' || command === '--help') {
    console.log(USAGE);
    return command === undefined ? 2 : 0;
  }
  const config = loadConfig(env);

  if (command === 'start') {
    await startServer(config);
    return -1; // keeps running
  }
  if (command === 'migrate') {
    const store = openStore(config.databaseUrl);
    try {
      const applied = await migrateToLatest(store);
      console.log(applied.length ? `applied: ${applied.join(', ')}` : 'database is up to date');
    } finally {
      await store.close();
    }
    return 0;
  }
  if (command === 'demo') {
    await withDeps(config, (deps) => runDemo(deps));
    return 0;
  }
  if (command === 'portal' && sub === 'add') {
    const { values, positionals } = parseArgs({
      args: rest,
      allowPositionals: true,
      options: { title: { type: 'string' }, url: { type: 'string' }, support: { type: 'string' } },
    });
    const slug = positionals[0];
    if (!slug || !values.title) throw new UsageError('portal add needs <slug> and --title');
    const portal = await withDeps(config, (deps) => addPortal(deps, { slug, title: values.title ?? '', url: values.url, support: values.support }));
    console.log(`portal ${portal.slug} added (${portal.url})`);
    return 0;
  }
  if (command === 'portal' && sub === 'set') {
    const { values, positionals } = parseArgs({
      args: rest,
      allowPositionals: true,
      options: {
        title: { type: 'string' },
        url: { type: 'string' },
        support: { type: 'string' },
        'require-2fa': { type: 'string' },
        'recovery-channels': { type: 'string' },
        'min-password-length': { type: 'string' },
        color: { type: 'string' },
      },
    });
    const slug = positionals[0];
    if (!slug || positionals.length > 1) throw new UsageError('portal set needs <slug>');
    const require2fa = values['require-2fa'];
    if (require2fa !== undefined && require2fa !== 'on' && require2fa !== 'off') throw new UsageError('--require-2fa must be on or off');
    const changes = { title: values.title, url: values.url, support: values.support, require2fa, recoveryChannels: values['recovery-channels'], minPasswordLength: values['min-password-length'], color: values.color };
    await withDeps(config, (deps) => setPortal(deps, slug, changes));
    console.log(`portal ${slug} updated`);
    return 0;
  }
  if (command === 'user' && sub === 'add') {
    const { values } = parseArgs({
      args: rest,
      options: {
        login: { type: 'string' },
        email: { type: 'string' },
        phone: { type: 'string' },
        name: { type: 'string' },
        locale: { type: 'string' },
        'password-stdin': { type: 'boolean' },
        portal: { type: 'string', multiple: true },
      },
    });
    if (!values.login) throw new UsageError('user add needs --login');
    if (values.locale !== undefined && !isLocale(values.locale)) throw new UsageError('--locale must be ru or en');
    const password = values['password-stdin'] ? await readStdin() : undefined;
    const portals = (values.portal ?? []).map((entry) => {
      const [slug = '', role] = entry.split(':');
      if (role !== undefined && role !== 'admin') throw new UsageError(`--portal ${entry}: the only role suffix is :admin`);
      return { slug, role: role === 'admin' ? ('admin' as const) : ('employee' as const) };
    });
    const account = await withDeps(config, (deps) =>
      addUser(deps, { login: values.login ?? '', email: values.email, phone: values.phone, name: values.name, locale: isLocale(values.locale) ? values.locale : undefined, password, portals }),
    );
    console.log(`user ${account.login} added (id ${account.id})`);
    return 0;
  }
  if (command === 'user' && sub === 'set-password') {
    const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { 'password-stdin': { type: 'boolean' } } });
    const login = positionals[0];
    if (!login || !values['password-stdin']) throw new UsageError('user set-password needs <login> and --password-stdin');
    const password = await readStdin();
    await withDeps(config, (deps) => setPasswordByOperator(deps, login, password));
    console.log(`password of ${login} set; their sessions were signed out`);
    return 0;
  }
  if (command === 'user' && sub === 'sign-in-methods') {
    const login = rest[0];
    if (!login) throw new UsageError('user sign-in-methods needs <login>');
    const { methods, identities } = await withDeps(config, (deps) => signInMethodsByOperator(deps, login));
    console.log(`password: ${methods.password ? 'set' : 'not set'}`);
    for (const identity of identities) {
      console.log(`${identity.provider}: ${identity.issuer} ${identity.subject}${identity.email ? ` <${identity.email}>` : ''}, linked ${identity.created_at}, last used ${identity.last_used_at ?? 'never'}`);
    }
    return 0;
  }
  if (command === 'user' && sub === 'unlink') {
    const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { provider: { type: 'string' } } });
    const login = positionals[0];
    if (!login || !values.provider) throw new UsageError('user unlink needs <login> and --provider <id>');
    const provider = values.provider;
    const count = await withDeps(config, (deps) => unlinkByOperator(deps, login, provider));
    console.log(`${count} ${provider} sign-in(s) unlinked from ${login}`);
    return 0;
  }
  if (command === 'user' && (sub === 'disable' || sub === 'enable')) {
    const login = rest[0];
    if (!login || rest.length > 1) throw new UsageError(`user ${sub} needs <login>`);
    const changed = await withDeps(config, (deps) => (sub === 'disable' ? disableAccount(deps, login) : enableAccount(deps, login)));
    const state = sub === 'disable' ? 'disabled; its sessions and tokens were revoked' : 'enabled';
    console.log(changed ? `user ${login} ${state}` : `user ${login} was already ${sub}d`);
    return 0;
  }
  if (command === 'user' && sub === 'reset-2fa') {
    const login = rest[0];
    if (!login || rest.length > 1) throw new UsageError('user reset-2fa needs <login>');
    const had = await withDeps(config, (deps) => resetSecondFactorByOperator(deps, login));
    console.log(had ? `two-factor sign-in of ${login} removed with its recovery codes; they were told` : `${login} had no two-factor sign-in`);
    return 0;
  }
  if (command === 'import' && sub === 'bitrix') {
    const { values } = parseArgs({ args: rest, options: { file: { type: 'string' }, portal: { type: 'string' }, json: { type: 'boolean' } } });
    if (!values.file) throw new UsageError('import bitrix needs --file <users.csv>');
    const file = values.file;
    return withDeps(config, (deps) => runBitrixImport(deps, { file, portal: values.portal, json: values.json === true }));
  }
  if (command === 'backup') {
    const { values } = parseArgs({ args: sub === undefined ? rest : [sub, ...rest], options: { to: { type: 'string' } } });
    if (!values.to) throw new UsageError('backup needs --to <file>');
    await runBackup(config, values.to);
    return 0;
  }
  if (command === 'restore') {
    const { values } = parseArgs({ args: sub === undefined ? rest : [sub, ...rest], options: { from: { type: 'string' }, force: { type: 'boolean' } } });
    if (!values.from) throw new UsageError('restore needs --from <file>');
    await runRestore(config, values.from, values.force === true);
    return 0;
  }
  if (command === 'client' || command === 'keys') return runOidcCommand(config, command, sub, rest);
  const directory = await runDirectoryCommand((run) => withDeps(config, run), command, sub, rest);
  if (directory !== undefined) return directory;
  throw new UsageError(`unknown command: ${argv.join(' ')}`);
}

/** `latchkey client …` and `latchkey keys rotate` (SPEC §4): OpenID Connect clients of portals and signing keys. */
async function runOidcCommand(config: Config, command: string, sub: string | undefined, rest: string[]): Promise<number> {
  if (command === 'client' && sub === 'add') {
    const { values, positionals } = parseArgs({
      args: rest,
      allowPositionals: true,
      options: {
        portal: { type: 'string' },
        'redirect-uri': { type: 'string', multiple: true },
        'post-logout-redirect-uri': { type: 'string', multiple: true },
        'backchannel-logout-uri': { type: 'string' },
        public: { type: 'boolean' },
      },
    });
    const clientId = positionals[0];
    if (!clientId || !values.portal || !values['redirect-uri']?.length) throw new UsageError('client add needs <client-id>, --portal and --redirect-uri');
    const registration = {
      clientId,
      portalSlug: values.portal,
      redirectUris: values['redirect-uri'],
      postLogoutRedirectUris: values['post-logout-redirect-uri'],
      backchannelLogoutUri: values['backchannel-logout-uri'],
      public: values.public,
    };
    const added = await withDeps(config, (deps) => addClient(deps, registration, config.production));
    console.log(`client_id=${added.clientId}`);
    // The secret is shown this once; only its sealed form is stored.
    if (added.secret) console.log(`client_secret=${added.secret}`);
    return 0;
  }
  if (command === 'client' && sub === 'list') {
    const clients = await withDeps(config, (deps) => listClients(deps));
    for (const c of clients) console.log(`${c.clientId} portal=${c.portal} ${c.public ? 'public' : 'confidential'} redirect_uris=${c.redirectUris.join(',')} created ${c.createdAt}`);
    return 0;
  }
  if (command === 'client' && (sub === 'remove' || sub === 'rotate-secret')) {
    const clientId = rest[0];
    if (!clientId) throw new UsageError(`client ${sub} needs <client-id>`);
    if (sub === 'remove') {
      await withDeps(config, (deps) => removeClient(deps, clientId));
      console.log(`client ${clientId} removed; its codes, tokens and grants with it`);
    } else {
      const secret = await withDeps(config, (deps) => rotateClientSecret(deps, clientId));
      console.log(`client_id=${clientId}`);
      console.log(`client_secret=${secret}`);
    }
    return 0;
  }
  if (command === 'keys' && sub === 'rotate') {
    const kids = await withDeps(config, (deps) => rotateSigningKeys(deps));
    console.log(`new signing keys ${kids.join(', ')}; restart the nodes to sign with them (the old keys stay published)`);
    return 0;
  }
  throw new UsageError(`unknown command: ${[command, sub, ...rest].join(' ')}`);
}

function describe(error: unknown): string {
  if (error instanceof ConfigError) return error.problems.join('\n');
  if (error instanceof UsageError) return `${error.message}\n${USAGE}`;
  if (isAppError(error)) {
    const reasons = error.extras.reasons ? `: ${error.extras.reasons.join(', ')}` : '';
    return `${error.code}${error.detail && error.detail !== error.code ? `: ${error.detail}` : ''}${reasons}`;
  }
  return error instanceof Error ? error.message : String(error);
}

// `.env` is read if present (SPEC §3); real environment variables win.
if (fs.existsSync('.env')) process.loadEnvFile('.env');
runCli(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (error: unknown) => {
    for (const line of describe(error).split('\n')) console.error(`latchkey: ${line}`);
    process.exitCode = 1;
  },
);
