// The field page's service worker, served at /field-sw.js with the scope /field: it keeps the
// page's own files (the shell) so that the page opens with no network, answering from its
// cache first and refreshing the cache from the network behind it (the next load has the new
// files). It never touches /api/: reads and the visits' POSTs go to the network as they would
// without it, and the visits waiting offline are the page's IndexedDB outbox, not the worker's.
// Addresses are relative to the worker's own (a proxy may serve covermap under a prefix).
const CACHE = 'covermap-field-v1';  // a new name drops the old copies on activation
const ROOT = new URL('./', self.location.href);
const PAGE = new URL('field', ROOT).href;
const FILES = new URL('web/field/', ROOT).href;
const SHELL = [
  PAGE,
  ...['field.js', 'api.js', 'dom.js', 'idb.js', 'org-list.js', 'outbox.js', 'problems.js', 'records.js', 'state.js',
    'status.js', 'text.js', 'visit-sheet.js', 'where.js', 'field.css', 'manifest.webmanifest', 'icon.svg'].map((f) => FILES + f),
];

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil(caches.keys()
    .then((keys) => Promise.all(keys.filter((k) => k.startsWith('covermap-field-') && k !== CACHE).map((k) => caches.delete(k))))
    .then(() => self.clients.claim()));
});

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET') return;  // writes go to the network, never into a cache
  const url = new URL(request.url);
  url.hash = '';
  url.search = '';
  const page = url.href === PAGE;
  if (!page && !url.href.startsWith(FILES)) return;  // the API and the rest: untouched
  event.respondWith(cacheFirst(event, page ? PAGE : url.href));
});

async function cacheFirst(event, key) {
  const cache = await caches.open(CACHE);
  const cached = await cache.match(key);
  // The page is one file whatever its query or fragment (the sign-in link's #token=…).
  const network = fetch(key === PAGE ? new Request(PAGE, { credentials: 'same-origin' }) : event.request)
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
