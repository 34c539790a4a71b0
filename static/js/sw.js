// sw.js: the service worker of the installable web app, served at /sw.js (scope /) with
// Cache-Control: no-cache, so the browser finds a new version on the next visit (push-free
// update: a new version installs, takes over at once and drops the old caches).
//
// What it keeps, and nothing else:
// - the shell: the stylesheets, scripts, icons and the offline page (/offline, served without
//   a session), fetched at install;
// - the service guides a visitor opened (/services/{code} and /bundles/{code}), for reading
//   offline, and only when the server's answer may be kept: a 200 from this origin whose
//   Cache-Control says neither no-store nor private. The server marks every answer to a
//   logged-in caller "private, no-store", so a guide seen while logged in (with the name in
//   its header) is never kept, and neither is any personal page or API answer: requests
//   under /api/, every other page and every non-GET request go to the network untouched.
// Offline, a kept guide is shown; any other page shows the offline page.
'use strict';

const VERSION = 'v1';
const SHELL = `govhall-shell-${VERSION}`;
const GUIDES = `govhall-guides-${VERSION}`;
const GUIDES_MAX = 50;
const SHELL_URLS = [
  '/offline?lang=zh', '/offline?lang=en',
  '/static/css/site.css', '/static/css/search.css', '/static/js/site.js', '/static/js/search.js',
  '/static/favicon.svg', '/static/icons/icon.svg', '/static/icons/icon-192.png', '/static/icons/icon-512.png',
];
const GUIDE_PATH = /^\/(services|bundles)\/[A-Za-z0-9_-]+$/;

self.addEventListener('install', (event) => {
  // Without cookies: the offline pages' ?lang= must not set the visitor's language cookie.
  const requests = SHELL_URLS.map((u) => new Request(u, { credentials: 'omit' }));
  event.waitUntil(caches.open(SHELL).then((c) => c.addAll(requests)).then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil(caches.keys()
    .then((keys) => Promise.all(keys.filter((k) => k !== SHELL && k !== GUIDES).map((k) => caches.delete(k))))
    .then(() => self.registration.navigationPreload && self.registration.navigationPreload.enable())
    .then(() => self.clients.claim()));
});

/** A page from the network as the browser itself asks for it (navigation preload: the
 * page's own headers, language included, and no delay for starting the worker). */
async function network(event) {
  const pre = await event.preloadResponse;
  return pre || fetch(event.request);
}

/** Whether the server lets this answer be kept: ours, 200, and not private or no-store. */
function keepable(res) {
  if (!res || res.status !== 200 || res.type !== 'basic') return false;
  const cc = (res.headers.get('cache-control') || '').toLowerCase();
  return !/no-store|private/.test(cc);
}

/** The language of a request, from its ?lang= or else the page's cookie-free default. */
function langOf(url) {
  return url.searchParams.get('lang') === 'en' ? 'en' : 'zh';
}

async function guide(event, url) {
  const cache = await caches.open(GUIDES);
  const key = url.origin + url.pathname + (url.searchParams.get('lang') === 'en' ? '?lang=en' : '');
  try {
    const res = await network(event);
    if (keepable(res)) {
      await cache.put(key, res.clone());
      const keys = await cache.keys();
      for (const old of keys.slice(0, Math.max(0, keys.length - GUIDES_MAX))) await cache.delete(old);
    }
    return res;
  } catch (e) {
    const kept = (await cache.match(key)) || (await cache.match(url.origin + url.pathname));
    return kept || offline(url);
  }
}

async function offline(url) {
  return (await caches.match(`/offline?lang=${langOf(url)}`)) || new Response('offline', { status: 503 });
}

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin || url.pathname.startsWith('/api/')) return;
  if (url.pathname.startsWith('/static/')) {
    // The shell: from the network when there is one (it revalidates), else the kept copy.
    if (SHELL_URLS.includes(url.pathname)) {
      event.respondWith(fetch(request).catch(() => caches.match(url.pathname)));
    }
    return;
  }
  if (request.mode !== 'navigate') return;
  if (GUIDE_PATH.test(url.pathname)) {
    event.respondWith(guide(event, url));
    return;
  }
  event.respondWith(network(event).catch(() => offline(url)));
});
