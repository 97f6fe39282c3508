// Every request of the page goes through here: the token header, JSON, and one error type
// that carries the server's code and a plain-words message.
import { t } from './i18n.js';
import { state } from './state.js';

export const TOKEN_KEY = 'covermap.token';  // contract: the token's place in localStorage

export class ApiError extends Error {
  constructor(status, code, message, body) {
    super(message);
    this.status = status;
    this.code = code;
    this.body = body;
  }
  /** What a planner reads: the server's message for 4xx, a sentence of ours for the rest. */
  get plain() {
    if (this.status === 0) return t('err.network');
    if (this.status === 401) return t('err.401');
    if (this.status === 403) return t('err.403');
    if (this.status === 412) return t('err.412');
    return t('err.generic', { msg: this.message });
  }
  /** The server's own sentence when it is in Chinese (a refusal it explains), else `fallback`,
   *  a sentence of the page's; network, sign-in, rights and stale versions as `plain` says them. */
  plainOr(fallback) {
    if ([0, 401, 403, 412].includes(this.status)) return this.plain;
    return /[\u4e00-\u9fff]/.test(this.message ?? '') ? this.message : fallback;
  }
}

export function token() { return localStorage.getItem(TOKEN_KEY); }
export function setToken(value) { localStorage.setItem(TOKEN_KEY, value); }
export function clearToken() { localStorage.removeItem(TOKEN_KEY); }

/** Ids are opaque text: always encoded as one path segment. */
export const seg = (id) => encodeURIComponent(id);

let writes = 0;
/** Edits of this page still waiting for their answer (their change ids are not known yet). */
export const writesInFlight = () => writes;

export async function request(method, path, { body, ifMatch, raw } = {}) {
  const write = method !== 'GET' && method !== 'HEAD';
  if (write) writes += 1;
  try {
    return await send(method, path, { body, ifMatch, raw });
  } finally {
    if (write) writes -= 1;
  }
}

async function send(method, path, { body, ifMatch, raw }) {
  const headers = {};
  const tk = token();
  if (tk) headers.Authorization = `Bearer ${tk}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (ifMatch !== undefined) headers['If-Match'] = `"${ifMatch}"`;
  let res;
  try {
    res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'same-origin' });
  } catch (e) {
    throw new ApiError(0, 'Network', e.message);
  }
  if (raw) return res;
  const text = await res.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = null; }
  if (!res.ok) throw new ApiError(res.status, data?.code ?? 'Error', data?.message ?? res.statusText, data);
  state.mine(data?.change_id);  // this page's own change: its event needs no second refresh
  return { data, etag: res.headers.get('ETag') };
}

export const get = (path) => request('GET', path).then((r) => r.data);

/** Sends a file's bytes (POST) with upload progress: fetch reports none, so XMLHttpRequest.
 *  `onProgress(sent, total)` follows the upload; `onSent()` says it is all sent and the server is
 *  at work. Answers and errors as `request`. */
export function upload(path, file, { onProgress, onSent } = {}) {
  writes += 1;
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', path);
    const tk = token();
    if (tk) xhr.setRequestHeader('Authorization', `Bearer ${tk}`);
    xhr.setRequestHeader('Content-Type', file.type || 'application/octet-stream');
    xhr.upload.addEventListener('progress', (e) => onProgress?.(e.loaded, e.lengthComputable ? e.total : file.size));
    xhr.upload.addEventListener('load', () => onSent?.());
    xhr.addEventListener('error', () => reject(new ApiError(0, 'Network', 'network error')));
    xhr.addEventListener('load', () => {
      let data = null;
      try { data = xhr.responseText ? JSON.parse(xhr.responseText) : null; } catch { data = null; }
      if (xhr.status < 200 || xhr.status >= 300) {
        reject(new ApiError(xhr.status, data?.code ?? data?.error ?? 'Error', data?.message ?? xhr.statusText, data));
        return;
      }
      state.mine(data?.change_id);
      resolve({ data });
    });
    xhr.addEventListener('loadend', () => { writes -= 1; });
    xhr.send(file);
  });
}
