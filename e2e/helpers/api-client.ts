// What a client of the API does, over HTTP: JSON requests, polling, and reading a log stream
// (server-sent events) as it arrives.

export interface HttpResult<T = any> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

export interface SseEvent {
  event: string;
  id?: string;
  data: string;
}

const FINISHED = ['completed', 'error', 'cancelled'];

export class ApiClient {
  constructor(readonly baseUrl: string) {}

  async request<T = any>(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<HttpResult<T>> {
    const res = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: { ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}), ...headers },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    let parsed: unknown = text;
    if ((res.headers.get('content-type') ?? '').includes('json') && text !== '') parsed = JSON.parse(text);
    return { status: res.status, headers: res.headers, body: parsed as T, text };
  }

  get<T = any>(path: string, headers?: Record<string, string>) {
    return this.request<T>('GET', path, undefined, headers);
  }

  post<T = any>(path: string, body?: unknown) {
    return this.request<T>('POST', path, body);
  }

  async createProject(instruction: string): Promise<{ id: string; job: { id: string } }> {
    const res = await this.post('/api/v1/projects', { instruction });
    if (res.status !== 202) throw new Error(`POST /projects answered ${res.status}: ${res.text}`);
    return res.body;
  }

  async addJob(projectId: string, instruction: string, jobType = 'edit'): Promise<{ id: string; status: string }> {
    const res = await this.post(`/api/v1/projects/${projectId}/jobs`, { job_type: jobType, instruction });
    if (res.status !== 202) throw new Error(`POST /jobs answered ${res.status}: ${res.text}`);
    return res.body;
  }

  async job(projectId: string, jobId: string): Promise<any> {
    const res = await this.get(`/api/v1/projects/${projectId}/jobs/${jobId}`);
    if (res.status !== 200) throw new Error(`GET job answered ${res.status}: ${res.text}`);
    return res.body;
  }

  /** Polls the job until it has finished (or `status` when given). */
  async waitForJob(projectId: string, jobId: string, timeoutMs = 60_000, status?: string): Promise<any> {
    const deadline = Date.now() + timeoutMs;
    let last: any;
    while (Date.now() < deadline) {
      last = await this.job(projectId, jobId);
      if (status ? last.status === status : FINISHED.includes(last.status)) return last;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(
      `job ${jobId} did not ${status ? `reach ${status}` : 'finish'} within ${timeoutMs} ms; last: ${JSON.stringify(last)}`,
    );
  }

  /**
   * Opens `…/logs?follow=1` and collects its events until the `end` event (or `timeoutMs`).
   * `onEvent` sees each event as it arrives.
   */
  async followLog(
    projectId: string,
    jobId: string,
    opts: { lastEventId?: string; timeoutMs?: number; onEvent?: (e: SseEvent) => void } = {},
  ): Promise<{ status: number; contentType: string | null; events: SseEvent[] }> {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), opts.timeoutMs ?? 60_000);
    const events: SseEvent[] = [];
    try {
      const res = await fetch(`${this.baseUrl}/api/v1/projects/${projectId}/jobs/${jobId}/logs?follow=1`, {
        headers: opts.lastEventId ? { 'Last-Event-ID': opts.lastEventId } : {},
        signal: controller.signal,
      });
      const decoder = new TextDecoder();
      let buffer = '';
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        let split: number;
        while ((split = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, split);
          buffer = buffer.slice(split + 2);
          const event = parseEvent(block);
          if (!event) continue;
          events.push(event);
          opts.onEvent?.(event);
          if (event.event === 'end')
            return { status: res.status, contentType: res.headers.get('content-type'), events };
        }
      }
      return { status: res.status, contentType: res.headers.get('content-type'), events };
    } catch (err) {
      if (controller.signal.aborted)
        throw new Error(`the log stream did not end; events so far: ${JSON.stringify(events).slice(0, 2000)}`);
      throw err;
    } finally {
      clearTimeout(timer);
      controller.abort();
    }
  }
}

function parseEvent(block: string): SseEvent | null {
  let event = 'message';
  let id: string | undefined;
  const data: string[] = [];
  for (const line of block.split('\n')) {
    if (line.startsWith(':')) continue; // comment (keep-alive)
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'event') event = value;
    else if (field === 'id') id = value;
    else if (field === 'data') data.push(value);
  }
  if (data.length === 0 && event === 'message') return null; // e.g. the retry hint
  return { event, id, data: data.join('\n') };
}

/** The log lines carried by a stream's `log` events. */
export const logLines = (events: SseEvent[]): string[] =>
  events.filter((e) => e.event === 'log').flatMap((e) => e.data.split('\n'));
