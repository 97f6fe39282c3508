// Every request of the field page goes through here: the token header, JSON, and one error
// type carrying the server's status, code and a message an instructor can read (Chinese).
import { chineseOrNull } from './text.js';

export const TOKEN_KEY = 'covermap.token';  // the same place as the planner page's

export const token = () => localStorage.getItem(TOKEN_KEY);
export const setToken = (value) => localStorage.setItem(TOKEN_KEY, value);
export const clearToken = () => localStorage.removeItem(TOKEN_KEY);

/** Ids are opaque text: always encoded as one path segment. */
export const seg = (id) => encodeURIComponent(id);

/** '/api/me' -> 'api/me': resolved against the page's own address, so that the page works at
 *  /field and under a proxy's prefix alike (https://host/covermap/field → /covermap/api/me). */
const relative = (path) => path.replace(/^\/+/, '');

export class ApiError extends Error {
  constructor(status, code, message, body) {
    super(message);
    this.status = status;
    this.code = code;
    this.body = body;
  }

  /** No answer at all: the phone is offline or the server out of reach. */
  get network() { return this.status === 0; }

  /** Worth sending again later, unchanged: no answer, or the server busy or failing. */
  get transient() { return this.status === 0 || this.status === 408 || this.status === 429 || this.status >= 500; }

  /** What an instructor reads: the server's own words when they are Chinese, else ours. */
  get plain() {
    const own = chineseOrNull(this.message);
    switch (this.status) {
      case 0: return '连不上服务器，请检查网络。';
      case 401: return '登录已失效，请重新打开管理员发给您的登录链接。';
      case 403: return own ?? '这个组织不由本账号联系，不能提交。';
      case 404: return '找不到这个组织，它可能已被删除。';
      case 412: return own ?? '台账已被他人修改。';
      case 428: return '提交缺少台账版本，未被接受，请重新填写。';
      case 429: return '提交太频繁，请稍后再试。';
      default:
        if (this.status >= 500) return '服务器暂时出错，稍后会自动重试。';
        return own ?? '提交的内容不符合要求，服务器未接受。';
    }
  }
}

export async function request(method, path, { body, ifMatch } = {}) {
  const headers = { Accept: 'application/json' };
  const tk = token();
  if (tk) headers.Authorization = `Bearer ${tk}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (ifMatch !== undefined && ifMatch !== null) headers['If-Match'] = `"${ifMatch}"`;
  let res;
  try {
    res = await fetch(relative(path), { method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: 'no-store' });
  } catch (e) {
    throw new ApiError(0, 'Network', e.message);
  }
  const text = await res.text().catch(() => '');
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = null; }
  if (!res.ok) throw new ApiError(res.status, data?.code ?? 'Error', data?.message ?? res.statusText, data);
  const etag = res.headers.get('ETag');
  return { data, status: res.status, version: etag ? Number(etag.replace(/\D/g, '')) : null };
}

export const get = (path) => request('GET', path).then((r) => r.data);
