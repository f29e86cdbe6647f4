// Drives the console through Fastify inject like a browser would: cookies kept per "browser",
// same-origin headers, CSRF token read from the page.
import type { App } from '../../src/platform/http/app.ts';

export class Browser {
  cookies = new Map<string, string>();
  constructor(
    private app: App,
    readonly ip = '127.0.0.1',
  ) {}

  private cookieHeader(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  private keep(setCookie: string | string[] | undefined) {
    for (const c of [setCookie ?? []].flat()) {
      const [pair, ...attrs] = c.split(';');
      const [k, ...v] = pair!.split('=');
      const expired = attrs.some(
        (a) => /expires=thu, 01 jan 1970/i.test(a.trim()) || /^max-age=0$/i.test(a.trim()),
      );
      if (expired) this.cookies.delete(k!.trim());
      else this.cookies.set(k!.trim(), v.join('='));
    }
  }

  async get(url: string, accept = 'text/html') {
    const r = await this.app.inject({
      method: 'GET',
      url,
      remoteAddress: this.ip,
      headers: { accept, cookie: this.cookieHeader() },
    });
    this.keep(r.headers['set-cookie']);
    return r;
  }

  async post(url: string, form: Record<string, string>, headers: Record<string, string> = {}) {
    const r = await this.app.inject({
      method: 'POST',
      url,
      remoteAddress: this.ip,
      headers: {
        accept: 'text/html',
        'content-type': 'application/x-www-form-urlencoded',
        origin: 'http://console.test',
        host: 'console.test',
        cookie: this.cookieHeader(),
        ...headers,
      },
      payload: new URLSearchParams(form).toString(),
    });
    this.keep(r.headers['set-cookie']);
    return r;
  }

  /** A POST with a body of the given type (a file streamed by the page's script, JSON). */
  async postRaw(url: string, payload: string, contentType: string, headers: Record<string, string> = {}) {
    const r = await this.app.inject({
      method: 'POST',
      url,
      remoteAddress: this.ip,
      headers: {
        accept: 'application/json',
        'content-type': contentType,
        origin: 'http://console.test',
        host: 'console.test',
        cookie: this.cookieHeader(),
        ...headers,
      },
      payload,
    });
    this.keep(r.headers['set-cookie']);
    return r;
  }

  /** The CSRF token of the signed-in session, read from a page as a browser's form would. */
  async csrf(): Promise<string> {
    const r = await this.get('/console/account');
    const m = /data-csrf="([^"]+)"/.exec(r.body);
    if (!m) throw new Error(`no CSRF token on the page (status ${r.statusCode})`);
    return m[1]!;
  }

  signIn(email: string, password: string) {
    return this.post('/console/sign-in', { email, password });
  }
}
