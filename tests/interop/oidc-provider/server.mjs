// A certified OpenID Provider (oidc-provider) for the gateway's interop tests. It runs on 127.0.0.1 and
// issues JWT access tokens for the gateway audience, signed with the first key of a persisted key set.
//
//   node server.mjs serve --port 5556 --keys keys.json [--issuer URL] [--audience ztgw] [--resource urn:ztgw:gateway]
//   node server.mjs keys add keys.json      generate a signing key and sign with it from the next start
//   node server.mjs keys retire keys.json   drop every key but the one in use
//
// Clients: "ledger-sync" (client_credentials, a workload) and "finance-portal", which may use the
// test-login grant below to get a user's access token without a browser. Both use client_secret_basic
// with the secret "<client_id>-secret".
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

import Provider, { errors } from 'oidc-provider';

export const TEST_LOGIN_GRANT = 'urn:ztgw:params:oauth:grant-type:test-login';

// The people this provider knows, with the directory groups and app roles their tokens carry.
const USERS = {
  alice: { groups: ['finance-staff'], roles: ['Controller'] },
  bob: { groups: ['finance-staff'], roles: [] },
  carol: { groups: ['finance-staff', 'contractors'], roles: [] },
};

const [command, ...rest] = process.argv.slice(2);
switch (command) {
  case 'serve':
    await serve(rest);
    break;
  case 'keys':
    await manageKeys(rest);
    break;
  default:
    console.error('usage: node server.mjs serve --port N --keys FILE [--issuer URL] [--audience A] [--resource URI]');
    console.error('       node server.mjs keys add|retire FILE');
    process.exit(2);
}

async function serve(args) {
  const { values } = parseArgs({
    args,
    options: {
      port: { type: 'string' },
      keys: { type: 'string' },
      issuer: { type: 'string' },
      audience: { type: 'string', default: 'ztgw' },
      resource: { type: 'string', default: 'urn:ztgw:gateway' },
    },
  });
  const port = Number.parseInt(values.port ?? '', 10);
  if (!Number.isInteger(port) || port <= 0 || !values.keys) {
    console.error('serve needs --port and --keys');
    process.exit(2);
  }

  if (!existsSync(values.keys)) {
    writeKeys(values.keys, [newSigningKey()]);
  }

  const issuer = values.issuer ?? `http://127.0.0.1:${port}`;
  const provider = createProvider(issuer, readKeys(values.keys), values.audience, values.resource);
  const server = provider.listen(port, '127.0.0.1', () => {
    console.log(`oidc-provider ${issuer} listening on 127.0.0.1:${port}`);
  });

  const stop = () => server.close(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

function createProvider(issuer, keys, audience, resource) {
  // The login context of each user token, read back when the token's claims are assembled.
  const logins = new WeakMap();
  const resourceServer = {
    audience,
    scope: 'gateway',
    accessTokenFormat: 'jwt',
    accessTokenTTL: 3600,
    jwt: { sign: { alg: 'RS256' } },
  };

  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: 'ledger-sync',
        client_secret: 'ledger-sync-secret',
        grant_types: ['client_credentials'],
        response_types: [],
        redirect_uris: [],
        scope: 'gateway',
      },
      {
        client_id: 'finance-portal',
        client_secret: 'finance-portal-secret',
        grant_types: [TEST_LOGIN_GRANT],
        response_types: [],
        redirect_uris: [],
        scope: 'gateway',
      },
    ],
    jwks: { keys },
    cookies: { keys: [randomUUID()] },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: async () => resource,
        useGrantedResource: async () => true,
        getResourceServerInfo: async (_ctx, indicator) => {
          if (indicator !== resource) {
            throw new errors.InvalidTarget();
          }
          return resourceServer;
        },
      },
    },
    scopes: ['openid', 'gateway'],
    ttl: {
      AccessToken: 3600,
      ClientCredentials: 3600,
    },
    findAccount: async (_ctx, sub) => (USERS[sub] ? { accountId: sub, claims: async () => ({ sub }) } : undefined),
    // RFC 9068 section 2.2: a JWT access token carries the authentication context (auth_time, acr,
    // amr) and the user's groups and roles.
    extraTokenClaims: async (_ctx, token) => {
      if (token.kind !== 'AccessToken' || !token.accountId) {
        return undefined;
      }
      const user = USERS[token.accountId];
      const login = logins.get(token);
      return {
        groups: user.groups,
        roles: user.roles.length > 0 ? user.roles : undefined,
        ...(login ? { amr: login.amr, acr: login.acr, auth_time: login.authTime } : undefined),
      };
    },
  });

  // Stands in for an interactive login: the caller names the user and how they authenticated. The token
  // is minted, signed and shaped by the provider itself, exactly as after a browser login.
  provider.registerGrantType(TEST_LOGIN_GRANT, async (ctx) => {
    const { client, params } = ctx.oidc;
    const user = USERS[params.username];
    if (!user) {
      throw new errors.InvalidGrant('unknown user');
    }

    const authAge = Number.parseInt(params.auth_age ?? '300', 10);
    const now = Math.floor(Date.now() / 1000);
    const token = new provider.AccessToken({
      accountId: params.username,
      client,
      gty: TEST_LOGIN_GRANT,
      scope: 'gateway',
    });
    token.resourceServer = new provider.ResourceServer(resource, resourceServer);
    logins.set(token, {
      amr: (params.amr ?? 'pwd mfa').split(' ').filter(Boolean),
      acr: params.acr || undefined,
      authTime: now - (Number.isFinite(authAge) ? authAge : 300),
    });

    const value = await token.save();
    ctx.body = {
      access_token: value,
      token_type: 'Bearer',
      expires_in: token.expiration,
      scope: token.scope,
    };
  }, ['username', 'amr', 'acr', 'auth_age']);

  provider.on('server_error', (_ctx, error) => console.error('server_error', error));
  return provider;
}

async function manageKeys(args) {
  const [action, file] = args;
  if (!file || !['add', 'retire'].includes(action)) {
    console.error('usage: node server.mjs keys add|retire FILE');
    process.exit(2);
  }

  const keys = existsSync(file) ? readKeys(file) : [];
  if (action === 'add') {
    // oidc-provider signs with the first key that fits, so the new key goes first; the old ones stay
    // published until they are retired, for tokens already issued with them.
    writeKeys(file, [newSigningKey(), ...keys]);
  } else {
    writeKeys(file, keys.slice(0, 1));
  }
  console.log(readKeys(file).map((key) => key.kid).join(' '));
}

function newSigningKey() {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { ...privateKey.export({ format: 'jwk' }), kid: randomUUID(), alg: 'RS256', use: 'sig' };
}

function readKeys(file) {
  return JSON.parse(readFileSync(file, 'utf8')).keys;
}

function writeKeys(file, keys) {
  // Written aside then renamed, so a provider starting at the same moment never reads half a file.
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, JSON.stringify({ keys }, null, 2), { mode: 0o600 });
  renameSync(temporary, file);
}
