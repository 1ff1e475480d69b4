// Tiny HTTP helpers for setup steps (not for load: that is autocannon's job).

/** A response read to the end. */
export interface HttpResult { status: number; text: string }

/** Sends one request and reads the whole body; never throws on a non-2xx status. */
export async function request(url: string, init: { method?: string; headers?: Record<string, string>; json?: unknown } = {}): Promise<HttpResult> {
  const headers: Record<string, string> = { ...init.headers };
  if (init.json !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(url, {
    method: init.method ?? (init.json === undefined ? 'GET' : 'POST'),
    headers,
    body: init.json === undefined ? undefined : JSON.stringify(init.json),
    signal: AbortSignal.timeout(30_000),
  });
  return { status: response.status, text: await response.text() };
}

/** POSTs JSON and returns the parsed JSON body; throws unless the status is the expected one. */
export async function postJson<T>(url: string, body: unknown, expectedStatus: number): Promise<T> {
  const result = await request(url, { json: body });
  if (result.status !== expectedStatus) throw new Error(`POST ${url}: expected ${expectedStatus}, got ${result.status}: ${result.text.slice(0, 500)}`);
  return JSON.parse(result.text) as T;
}

/** GETs a URL and returns the body text; throws unless the status is 200. */
export async function getText(url: string, headers: Record<string, string> = {}): Promise<string> {
  const result = await request(url, { headers });
  if (result.status !== 200) throw new Error(`GET ${url}: expected 200, got ${result.status}: ${result.text.slice(0, 500)}`);
  return result.text;
}
