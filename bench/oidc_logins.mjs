// OpenID Connect logins per second at the hub (make bench, beside the submission figure). A hub
// (role = hub, the demo's accounts, SQLite) has a registered client; BENCH_OIDC_CONNS browsers,
// each with the demo citizen's hub session (logged in once: 统一身份认证's single sign-on), run
// BENCH_OIDC_N full logins of a relying party between them, each a whole authorization code flow
// with PKCE (S256) driven by the maintained client library openid-client: GET /oidc/authorize
// (a new state, nonce and verifier: a code by redirect), POST /oidc/token (client_secret_basic,
// the verifier: the ID token, checked by the library against the JWKS, issuer, audience and
// nonce) and GET /oidc/userinfo with the access token. Every login must end with the citizen's
// name, or the run fails. Prints logins/s and the median latency of one login.
//
// Environment: GOVHALL_BIN, BENCH_OIDC_N (default 600), BENCH_OIDC_CONNS (default 16).
import * as oidc from 'openid-client';
import { DEMO, govhall, pageLogin, startServer } from '../tests/api/helpers.mjs';
import { freePort } from '../tests/api/pay-fixtures.mjs';

const N = Number(process.env.BENCH_OIDC_N ?? 600);
const CONNS = Number(process.env.BENCH_OIDC_CONNS ?? 16);
const port = await freePort();
const hubUrl = `http://127.0.0.1:${port}`;
const redirect = 'http://127.0.0.1:9/bench/callback';
const hub = await startServer({ name: 'bench_oidc', extraArgs: ['--listen', `127.0.0.1:${port}`, '--public-url', hubUrl, '--role', 'hub'] });
try {
  const add = await govhall(['federation', 'client', 'add', 'bench', '--name', 'bench', '--redirect', redirect, '--db', hub.db]);
  if (add.code !== 0) throw new Error(`client add: ${add.stderr}`);
  const secret = /client_secret: (\S+)/.exec(add.stdout)[1];
  const config = await oidc.discovery(new URL(hubUrl), 'bench', secret, undefined, { execute: [oidc.allowInsecureRequests] });
  const browsers = [];
  for (let i = 0; i < CONNS; i++) browsers.push(await pageLogin(hubUrl, DEMO.citizen.phone));

  const login = async (c) => {
    const t0 = process.hrtime.bigint();
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: redirect, scope: 'openid profile', state, nonce,
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
    });
    const r = await c.get(url.pathname + url.search);
    if (r.status !== 303) throw new Error(`authorize: ${r.status} ${r.body.slice(0, 200)}`);
    const tokens = await oidc.authorizationCodeGrant(config, new URL(r.location, hubUrl), {
      pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce, idTokenExpected: true,
    });
    const info = await oidc.fetchUserInfo(config, tokens.access_token, tokens.claims().sub);
    if (info.name !== DEMO.citizen.name) throw new Error('userinfo without the citizen\'s name');
    return Number(process.hrtime.bigint() - t0) / 1e6;
  };
  // Warm-up: one login per browser.
  await Promise.all(browsers.map(login));
  let next = 0;
  const t0 = process.hrtime.bigint();
  const ms = (await Promise.all(browsers.map(async (c) => {
    const mine = [];
    while (next < N) {
      next++;
      mine.push(await login(c));
    }
    return mine;
  }))).flat();
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  ms.sort((a, b) => a - b);
  console.log(`OpenID Connect logins: ${N} by ${CONNS} clients in ${s.toFixed(2)} s = ${(N / s).toFixed(1)}/s; `
    + `p50 ${ms[Math.floor(ms.length / 2)].toFixed(1)} ms, p99 ${ms[Math.floor(ms.length * 0.99)].toFixed(1)} ms per login`);
} finally {
  await hub.stop();
}
