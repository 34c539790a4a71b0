// Crawling the hall's pages as one caller: the links a page offers, the route template a
// path belongs to, and a breadth-first walk that takes up to `perTemplate` pages of each
// template; the kinds of account of the demo and logging in as one. Shared by the navigation
// test (no link answers 403) and the phone test (no page overflows a 360-pixel screen).
import { Client, DEMO, pageLogin } from './helpers.mjs';

/** Every kind of caller of the demo hall: null (anonymous) or pageLogin's login and options. */
export const ROLES = {
  anonymous: null,
  citizen: [DEMO.citizen.phone],
  agent: [DEMO.agent.phone],
  enterprise: [DEMO.enterprise.phone],
  staffA: [DEMO.staffA.phone],
  staffB: [DEMO.staffB.phone],
  admin: [DEMO.admin.phone, { totpSecret: DEMO.admin.totp }],
};

/** A Client of the server at baseUrl logged in as role (one of ROLES), in lang. */
export function loginAs(baseUrl, role, lang = 'zh') {
  const args = ROLES[role];
  if (!args) return new Client(baseUrl, { lang });
  return pageLogin(baseUrl, args[0], undefined, { ...(args[1] ?? {}), lang });
}

/** The route template a path belongs to ("/services/{code}") in `table` (govhall routes
 * --json, GET routes), or null. */
export function templateOf(table, p) {
  const segs = p.split('?')[0].split('/');
  for (const r of table) {
    const ps = r.pattern.split('/');
    const rest = ps.at(-1)?.endsWith('*}');
    if (rest ? segs.length < ps.length : segs.length !== ps.length) continue;
    if (ps.every((s, i) => (s.startsWith('{') ? segs[i] !== '' : s === segs[i]))) return r.pattern;
  }
  return null;
}

/** Links of a page worth following: the hall's own pages (not files, feeds, APIs, switches). */
export function links(html) {
  const out = [];
  for (const m of html.matchAll(/<a\b[^>]*\bhref="(\/[^"]*)"/g)) {
    const h = m[1].replace(/&amp;/g, '&');
    if (/^\/(static|api|open311)\b/.test(h) || /[?&](lang|elder)=/.test(h) || /^\/kiosk/.test(h)) continue;
    if (/\/(pdf|json|feed|export|download)\b|\/attachments\//.test(h)) continue;
    out.push(h.split('#')[0]);
  }
  return out;
}

/**
 * Walks the pages a Client can reach from `start`, following links() breadth first and at
 * most perTemplate pages of each route template. Resolves {pages: [{path, template, status,
 * html, from}], forbidden: ["path (linked from page)"]}.
 */
export async function crawl(client, table, { start = ['/'], perTemplate = 3 } = {}) {
  const count = new Map();
  const seen = new Set(start);
  const queue = start.map((p) => [p, null]);
  const pages = [];
  const forbidden = [];
  while (queue.length) {
    const [p, from] = queue.shift();
    const r = await client.get(p);
    const template = templateOf(table, p);
    const html = /text\/html/.test(r.headers.get('content-type') ?? '');
    pages.push({ path: p, template, status: r.status, html, from });
    if (r.status === 403) { forbidden.push(`${p} (linked from ${from})`); continue; }
    const to = r.location && new URL(r.location, 'http://x/');
    if (r.status >= 300 && r.status < 400 && to?.host === 'x' && !seen.has(to.pathname + to.search)) {
      seen.add(to.pathname + to.search);
      queue.push([to.pathname + to.search, p]); // a page that sends on (/admin -> /admin/accounts)
      continue;
    }
    if (r.status !== 200 || !html) continue;
    for (const h of links(r.body)) {
      if (seen.has(h)) continue;
      seen.add(h);
      const t = templateOf(table, h) ?? h;
      const n = count.get(t) ?? 0;
      if (n >= perTemplate) continue;
      count.set(t, n + 1);
      queue.push([h, p]);
    }
  }
  return { pages, forbidden };
}
