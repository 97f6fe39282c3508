// The field page's service worker, served at /field-sw.js with the scope /field: it keeps the
// page's own files (the shell) so that the page opens with no network, answering from its
// cache first and refreshing the cache from the network behind it (the next load has the new
// files). It never touches /api/: reads and the visits' POSTs go to the network as they would
// without it, and the visits waiting offline are the page's IndexedDB outbox, not the worker's.
const CACHE = 'covermap-field-v1';
const SHELL = [
  '/field',
  '/web/field/field.js',
  '/web/field/api.js',
  '/web/field/dom.js',
  '/web/field/idb.js',
  '/web/field/org-list.js',
  '/web/field/outbox.js',
  '/web/field/problems.js',
  '/web/field/records.js',
  '/web/field/state.js',
  '/web/field/status.js',
  '/web/field/text.js',
  '/web/field/visit-sheet.js',
  '/web/field/where.js',
  '/web/field/field.css',
  '/web/field/manifest.webmanifest',
  '/web/field/icon.svg',
];

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil(caches.keys()
    .then((keys) => Promise.all(keys.filter((k) => k.startsWith('covermap-field-') && k !== CACHE).map((k) => caches.delete(k))))
    .then(() => self.clients.claim()));
});

const inShell = (url) => url.origin === self.location.origin && (url.pathname === '/field' || url.pathname.startsWith('/web/field/'));

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET') return;  // writes go to the network, never into a cache
  const url = new URL(request.url);
  if (!inShell(url)) return;             // the API and the rest: untouched
  event.respondWith(cacheFirst(event, url));
});

async function cacheFirst(event, url) {
  const cache = await caches.open(CACHE);
  // The page is one file whatever its fragment or query (the sign-in link's #token=…).
  const page = url.pathname === '/field';
  const key = page ? '/field' : url.pathname;
  const cached = await cache.match(key, { ignoreSearch: true });
  const network = fetch(page ? new Request('/field', { credentials: 'same-origin' }) : event.request)
    .then(async (response) => {
      if (response.ok && response.type === 'basic') await cache.put(key, response.clone());
      return response;
    });
  if (cached) {
    event.waitUntil(network.catch(() => {}));  // offline: the cached copy stands
    return cached;
  }
  return network;
}
