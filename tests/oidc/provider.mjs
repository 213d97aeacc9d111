// A real OpenID provider (oidc-provider) on loopback over HTTPS, for test_oidc.c only.
//
//   node provider.mjs PORT CERT KEY REDIRECT_URI [MODE]
//
// Issuer https://127.0.0.1:PORT. Two clients, both with PKCE S256 required:
//   lis     public (token_endpoint_auth_method none), ID tokens RS256
//   lis-es  confidential (client_secret_basic, secret "lis-es-secret"), ID tokens ES256
// Users alice and bob; devInteractions log anyone in by name with any password.
// Keys are made afresh at each start. MODE "foreign-jwks": jwks_uri publishes other keys
// than those that sign, so that every ID token is signed by a key not in the JWKS.
// Issuers ISSUER/huge, ISSUER/plain-token and ISSUER/redirect have spoilt discovery
// documents (below).
import https from 'node:https';
import fs from 'node:fs';
import crypto from 'node:crypto';
import Provider from 'oidc-provider';

const [port, certFile, keyFile, redirectUri, mode = 'normal'] = process.argv.slice(2);
const issuer = `https://127.0.0.1:${port}`;

function makeKeys(tag) {
  const rsa = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
  const ec = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  return [
    { ...rsa.export({ format: 'jwk' }), kid: `${tag}-rsa`, use: 'sig', alg: 'RS256' },
    { ...ec.export({ format: 'jwk' }), kid: `${tag}-ec`, use: 'sig', alg: 'ES256' },
  ];
}
const signing = makeKeys(crypto.randomBytes(6).toString('hex'));
const publicOnly = (k) => {
  const { d, p, q, dp, dq, qi, ...pub } = k; // eslint-disable-line no-unused-vars
  return pub;
};
const foreign = makeKeys('foreign').map(publicOnly);

const users = {
  alice: { sub: 'alice', email: 'alice@example.org', email_verified: true, name: 'Alice Example' },
  bob: { sub: 'bob', email: 'bob@example.org', email_verified: true, name: 'Bob Example' },
};

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: 'lis',
      token_endpoint_auth_method: 'none',
      redirect_uris: [redirectUri],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      id_token_signed_response_alg: 'RS256',
    },
    {
      client_id: 'lis-es',
      client_secret: 'lis-es-secret',
      token_endpoint_auth_method: 'client_secret_basic',
      redirect_uris: [redirectUri],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      id_token_signed_response_alg: 'ES256',
    },
  ],
  pkce: { methods: ['S256'], required: () => true },
  jwks: { keys: signing },
  cookies: { keys: [crypto.randomBytes(16).toString('hex')] },
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
  // The claims go into the ID token itself: the module reads no userinfo endpoint.
  conformIdTokenClaims: false,
  features: { devInteractions: { enabled: true } },
  async findAccount(ctx, id) {
    if (!Object.hasOwn(users, id)) return undefined;
    return { accountId: id, async claims() { return users[id]; } };
  },
});

// Discovery documents of issuers under this one, each spoilt in one way, for the checks of
// lis_oidc_open(): one over 64 KiB, one with an http token endpoint, one that redirects.
const spoilt = {
  '/huge': () => ({ issuer: `${issuer}/huge`, padding: 'x'.repeat(100000) }),
  '/plain-token': () => ({
    issuer: `${issuer}/plain-token`,
    authorization_endpoint: `${issuer}/auth`,
    token_endpoint: `http://127.0.0.1:${port}/token`,
    jwks_uri: `${issuer}/jwks`,
  }),
};
provider.use(async (ctx, next) => {
  const m = ctx.path.match(/^(\/[a-z-]+)\/\.well-known\/openid-configuration$/);
  if (m && m[1] === '/redirect') {
    ctx.redirect(`${issuer}/.well-known/openid-configuration`);
    return;
  }
  if (m && Object.hasOwn(spoilt, m[1])) {
    ctx.body = spoilt[m[1]]();
    return;
  }
  await next();
});

if (mode === 'foreign-jwks') {
  provider.use(async (ctx, next) => {
    if (ctx.path === '/jwks') {
      ctx.type = 'application/jwk-set+json';
      ctx.body = { keys: foreign };
      return;
    }
    await next();
  });
}

const server = https.createServer({
  cert: fs.readFileSync(certFile),
  key: fs.readFileSync(keyFile),
}, provider.callback());
server.listen(Number(port), '127.0.0.1', () => {
  console.log(`oidc-provider ${mode} listening on ${issuer}`);
});
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => process.exit(0));
