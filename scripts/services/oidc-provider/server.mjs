// A real OpenID Provider (npm `oidc-provider`, by panva) for Puratan's
// OIDC login tests. Started by scripts/services/oidc.sh; not for production.
//
// Two providers in one process, sharing their signing keys like the
// tenants of a multi-tenant identity service:
//   main    http://127.0.0.1:$PURATAN_OIDC_PORT         (default 4444)
//   tenant  http://127.0.0.1:$PURATAN_OIDC_TENANT_PORT  (default PORT+1)
// The tenant exists for the wrong-issuer test: its ID tokens carry a valid
// signature under the main provider's JWKS, so only the `iss` check can
// reject them (the classic multi-tenant mix-up).
//
// Clients (identical on both providers):
//   puratan-test   secret "puratan-test-secret", ID tokens RS256
//   other-client   secret "other-client-secret", ID tokens ES256
//   puratan-eddsa  secret "puratan-eddsa-secret", ID tokens EdDSA (Ed25519)
// All are `application_type: native` with loopback redirect URIs
// http://127.0.0.1<path> and http://localhost<path> for each path in
// $PURATAN_OIDC_REDIRECT_PATHS (comma-separated; default: /callback,
// /api/v1/auth/oauth/local/callback, /api/v1/auth/oauth/tenant/callback).
// oidc-provider matches loopback redirect URIs of native clients on any
// port (RFC 8252 §7.3), so a test server bound to port 0 works. Token endpoint authentication is
// client_secret_post; PKCE (S256) is required for every client.
//
// Accounts: any login name with any password (devInteractions' built-in
// login and consent forms). Claims: sub = login name, email =
// "<login>@example.test", email_verified = true unless the login name starts
// with "unverified", name = "Test <login>".
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import Provider from 'oidc-provider';

const HOST = '127.0.0.1';
const PORT = Number(process.env.PURATAN_OIDC_PORT || 4444);
const TENANT_PORT = Number(process.env.PURATAN_OIDC_TENANT_PORT || PORT + 1);
const PATHS = (
  process.env.PURATAN_OIDC_REDIRECT_PATHS
  || '/callback,/api/v1/auth/oauth/local/callback,/api/v1/auth/oauth/tenant/callback'
)
  .split(',')
  .map((p) => p.trim())
  .filter(Boolean);

function jwk(kid, alg, type, options) {
  const { privateKey } = generateKeyPairSync(type, options);
  return { ...privateKey.export({ format: 'jwk' }), kid, alg, use: 'sig' };
}

// Fresh keys per process: tests fetch the JWKS, they never pin keys.
const keys = [
  jwk('rs256-1', 'RS256', 'rsa', { modulusLength: 2048 }),
  jwk('es256-1', 'ES256', 'ec', { namedCurve: 'P-256' }),
  jwk('eddsa-1', 'EdDSA', 'ed25519', {}),
];
const cookieKeys = [randomBytes(32).toString('base64url')];

const redirectUris = PATHS.flatMap((p) => [`http://127.0.0.1${p}`, `http://localhost${p}`]);
const client = (id, alg) => ({
  client_id: id,
  client_secret: `${id}-secret`,
  application_type: 'native',
  redirect_uris: redirectUris,
  grant_types: ['authorization_code'],
  response_types: ['code'],
  token_endpoint_auth_method: 'client_secret_post',
  id_token_signed_response_alg: alg,
});

const claimsFor = (login) => ({
  sub: login,
  email: `${login}@example.test`,
  email_verified: !login.startsWith('unverified'),
  name: `Test ${login}`,
});

function configuration() {
  return {
    clients: [
      client('puratan-test', 'RS256'),
      client('other-client', 'ES256'),
      client('puratan-eddsa', 'EdDSA'),
    ],
    jwks: { keys },
    cookies: { keys: cookieKeys },
    pkce: { required: () => true },
    features: { devInteractions: { enabled: true } },
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name'],
    },
    // Put the scope's claims into the ID token (not only /userinfo), as
    // most hosted providers do for the code flow.
    conformIdTokenClaims: false,
    enabledJWA: { idTokenSigningAlgValues: ['RS256', 'ES256', 'EdDSA'] },
    // Short lifetimes, set explicitly (the defaults log a notice per use).
    ttl: {
      AccessToken: 600,
      AuthorizationCode: 60,
      Grant: 3600,
      IdToken: 600,
      Interaction: 600,
      Session: 3600,
    },
    async findAccount(_ctx, id) {
      return { accountId: id, async claims() { return claimsFor(id); } };
    },
  };
}

async function start(port) {
  const issuer = `http://${HOST}:${port}`;
  const provider = new Provider(issuer, configuration());
  await new Promise((resolve, reject) => {
    const server = provider.listen(port, HOST, resolve);
    server.on('error', reject);
  });
  console.log(`oidc-provider: issuer ${issuer} ready`);
}

await start(PORT);
await start(TENANT_PORT);
