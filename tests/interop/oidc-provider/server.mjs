// A certified OpenID Provider (oidc-provider) for the gateway's interop tests. It runs on 127.0.0.1 and
// issues JWT access tokens for the gateway audience, signed with the first key of a persisted key set.
//
//   node server.mjs serve --port 5556 --keys keys.json [--issuer URL] [--audience ztgw] [--resource urn:ztgw:gateway]
//   node server.mjs keys add keys.json      generate a signing key and sign with it from the next start
//   node server.mjs keys retire keys.json   drop every key but the one in use
//
//     [--web-origin http://127.0.0.1:8081 ...]   gateway origins allowed to sign people in (repeatable)
//
// Clients: "ledger-sync" (client_credentials, a workload) and "finance-portal", which may use the
// test-login grant below to get a user's access token without a browser. Both use client_secret_basic
// with the secret "<client_id>-secret". "ztgw-web" is the gateway's browser sign-in client (authorization
// code with PKCE, client_secret_post, secret "ztgw-web-secret"): people sign in at the login form below
// (user, password "password", "Use MFA"), and sign out through RP-initiated logout.
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';

import Provider, { errors } from 'oidc-provider';

export const TEST_LOGIN_GRANT = 'urn:ztgw:params:oauth:grant-type:test-login';

export const WEB_CLIENT = 'ztgw-web';
export const LOGIN_PASSWORD = 'password';
export const ACR_PASSWORD = 'urn:ztgw:acr:pwd';
export const ACR_MFA = 'urn:ztgw:acr:mfa';

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
      'web-origin': { type: 'string', multiple: true, default: [] },
      // Where the web client's back-channel logout tokens go. Registering one is also what makes the provider put sid
      // in ID tokens; the default is a loopback port nothing listens on (deliveries fail and are logged, logout goes on).
      'backchannel-logout': { type: 'string', default: 'http://127.0.0.1:9/oidc/backchannel-logout' },
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
  const provider = createProvider(issuer, readKeys(values.keys), values.audience, values.resource, values['web-origin'],
    values['backchannel-logout']);
  const callback = provider.callback();
  const server = createServer((req, res) => {
    if (req.url.startsWith('/interaction/')) {
      interaction(provider, req, res).catch((error) => {
        console.error('interaction failed', error);
        if (!res.headersSent) {
          res.statusCode = 400;
          res.setHeader('content-type', 'text/plain; charset=utf-8');
          res.end(`interaction failed: ${error.message}`);
        }
      });
      return;
    }
    callback(req, res);
  });
  server.listen(port, '127.0.0.1', () => {
    console.log(`oidc-provider ${issuer} listening on 127.0.0.1:${port}`);
  });

  const stop = () => server.close(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

// The login form of this provider: the interaction a browser is sent to when a person must (re)authenticate.
// GET shows the form; POST checks the password and finishes the login with the methods used (amr, acr).
async function interaction(provider, req, res) {
  const details = await provider.interactionDetails(req, res);
  if (req.method === 'GET') {
    const users = Object.keys(USERS).map((name) => `<option value="${name}">${name}</option>`).join('');
    const wantsMfa = (details.params.acr_values ?? '').split(' ').includes(ACR_MFA);
    res.setHeader('content-type', 'text/html; charset=utf-8');
    res.setHeader('cache-control', 'no-store');
    res.end(`<!doctype html><html><head><meta charset="utf-8"><title>Sign in</title></head><body>
<h1>Sign in</h1>${wantsMfa ? '<p id="mfa-asked">This sign-in asks for multi-factor authentication.</p>' : ''}
<form method="post" action="/interaction/${details.uid}/login">
<label>User <select name="username" id="username">${users}</select></label>
<label>Password <input type="password" name="password" id="password"></label>
<label><input type="checkbox" name="mfa" value="1" id="mfa"> Use MFA</label>
<button type="submit" id="login">Sign in</button>
</form></body></html>`);
    return;
  }

  if (req.method !== 'POST' || !req.url.endsWith('/login')) {
    res.statusCode = 405;
    res.end();
    return;
  }

  const form = new URLSearchParams(await readBody(req));
  const username = form.get('username');
  if (!USERS[username] || form.get('password') !== LOGIN_PASSWORD) {
    res.statusCode = 401;
    res.setHeader('content-type', 'text/html; charset=utf-8');
    res.end('<!doctype html><p id="login-failed">Wrong user or password.</p>');
    return;
  }

  const mfa = form.get('mfa') === '1';
  await provider.interactionFinished(req, res, {
    login: { accountId: username, amr: mfa ? ['pwd', 'otp', 'mfa'] : ['pwd'], acr: mfa ? ACR_MFA : ACR_PASSWORD },
  }, { mergeWithLastSubmission: false });
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk) => {
      body += chunk;
      if (body.length > 16384) {
        reject(new Error('form too large'));
        req.destroy();
      }
    });
    req.on('end', () => resolve(body));
    req.on('error', reject);
  });
}

function createProvider(issuer, keys, audience, resource, webOrigins = [], backchannelLogoutUri = undefined) {
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
      {
        client_id: WEB_CLIENT,
        client_secret: `${WEB_CLIENT}-secret`,
        grant_types: ['authorization_code'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_post',
        require_auth_time: true,
        redirect_uris: (webOrigins.length > 0 ? webOrigins : ['http://127.0.0.1']).map((origin) => `${origin}/.ztgw/callback`),
        post_logout_redirect_uris: (webOrigins.length > 0 ? webOrigins : ['http://127.0.0.1']).map((origin) => `${origin}/.ztgw/signed-out`),
        ...(backchannelLogoutUri ? { backchannel_logout_uri: backchannelLogoutUri, backchannel_logout_session_required: true } : {}),
        scope: 'openid profile',
      },
    ],
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    acrValues: [ACR_PASSWORD, ACR_MFA],
    // acr, amr and sid go with openid, so every ID token says how and in which session the person signed in.
    claims: { acr: null, amr: null, auth_time: null, sid: null, iss: null, openid: ['sub', 'acr', 'amr', 'sid'], profile: ['groups', 'roles'] },
    conformIdTokenClaims: false,
    // The gateway's own sign-in client is first-party: no consent screen.
    loadExistingGrant: async (ctx) => {
      const grantId = ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
      if (grantId) {
        return ctx.oidc.provider.Grant.find(grantId);
      }
      if (ctx.oidc.client.clientId !== WEB_CLIENT) {
        return undefined;
      }
      const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
      grant.addOIDCScope('openid profile');
      await grant.save();
      ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId, grant.jti);
      return grant;
    },
    jwks: { keys },
    cookies: { keys: [randomUUID()] },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      rpInitiatedLogout: { enabled: true },
      backchannelLogout: { enabled: true },
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
    scopes: ['openid', 'profile', 'gateway'],
    ttl: {
      AccessToken: 3600,
      ClientCredentials: 3600,
    },
    findAccount: async (_ctx, sub) => (USERS[sub]
      ? { accountId: sub, claims: async () => ({ sub, groups: USERS[sub].groups, roles: USERS[sub].roles.length > 0 ? USERS[sub].roles : undefined }) }
      : undefined),
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
