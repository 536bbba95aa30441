// What clients do while the faults happen: create projects and edits at a steady pace (the
// workload), and read (the prober), each request timed. Every answer is counted by status; a 5xx
// other than 503, or a request that takes longer than HANG_MS, is a failure of the system.
import type { ApiClient } from '../helpers/api-client';

export const HANG_MS = 15_000;

/** The API's admin (stack.ts sets it), for the queue board. */
export const BOARD_ADMIN = { user: 'chaos-admin', password: 'chaos admin password' };
const BOARD_AUTH = {
  Authorization: `Basic ${Buffer.from(`${BOARD_ADMIN.user}:${BOARD_ADMIN.password}`).toString('base64')}`,
};

export interface CreatedJob {
  projectId: string;
  jobId: string;
  instruction: string;
}

export class Tally {
  readonly byStatus = new Map<string, number>();
  requests = 0;
  hung = 0;
  readonly serverErrors: string[] = [];

  async timed<T extends { status: number; text: string }>(what: string, call: () => Promise<T>): Promise<T | null> {
    const started = Date.now();
    this.requests++;
    try {
      const res = await Promise.race([
        call(),
        new Promise<never>((_, reject) => setTimeout(() => reject(new Error('hung')), HANG_MS).unref()),
      ]);
      this.count(String(res.status));
      if (res.status >= 500 && res.status !== 503)
        this.serverErrors.push(`${what}: ${res.status} ${res.text.slice(0, 300)}`);
      if (res.status === 503 && !/"code":503/.test(res.text) && !/"status":"unavailable"/.test(res.text)) {
        this.serverErrors.push(`${what}: 503 not in the standard shape: ${res.text.slice(0, 300)}`);
      }
      return res;
    } catch (err) {
      if ((err as Error).message === 'hung') {
        this.hung++;
        this.serverErrors.push(`${what}: no answer within ${HANG_MS} ms`);
      } else {
        // The API process not answering at all: it must never exit, so this is counted too.
        this.count('no-connection');
      }
      return null;
    } finally {
      if (Date.now() - started > HANG_MS) this.hung++;
    }
  }

  private count(key: string): void {
    this.byStatus.set(key, (this.byStatus.get(key) ?? 0) + 1);
  }

  count503(): number {
    return this.byStatus.get('503') ?? 0;
  }
}

/**
 * Creates `projects` projects, then edits of them, one request at a time, at random over the
 * projects, until stopped (so that every fault finds work in flight). A 503 naming the saved ids
 * counts as saved (the reconciler enqueues it); any other failure is tried again with the same
 * instruction, after a pause.
 */
export class Workload {
  readonly created: CreatedJob[] = [];
  private stopped = false;
  done: Promise<void> = Promise.resolve();

  constructor(
    /** The API as it is now (the run starts it again if a fault killed it). */
    private readonly api: () => ApiClient,
    private readonly tally: Tally,
    private readonly plan: { projects: number; pauseMs: number },
  ) {}

  start(): void {
    this.done = this.run();
  }

  /** Stops creating; resolves once the request in flight has been answered. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.done;
  }

  private async run(): Promise<void> {
    const projectIds: string[] = [];
    const editsMade = new Map<string, number>();
    while (!this.stopped) {
      const creatingProject = projectIds.length < this.plan.projects;
      const projectId = creatingProject ? null : projectIds[Math.floor(Math.random() * projectIds.length)]!;
      const n = projectId ? (editsMade.get(projectId) ?? 0) + 1 : 0;
      const instruction = projectId
        ? `chaos edit ${projectId.slice(0, 8)} number ${n}`
        : `chaos project ${projectIds.length + 1}: a Python CLI that prints Fibonacci numbers`;
      const saved = await this.createUntilSaved(projectId, instruction);
      if (!saved) return;
      if (projectId) editsMade.set(projectId, n);
      else {
        projectIds.push(saved.projectId);
        editsMade.set(saved.projectId, 0);
      }
      this.created.push(saved);
      await sleep(this.plan.pauseMs * (0.5 + Math.random()));
    }
  }

  private async createUntilSaved(projectId: string | null, instruction: string): Promise<CreatedJob | null> {
    while (!this.stopped) {
      const path = projectId ? `/api/v1/projects/${projectId}/jobs` : '/api/v1/projects';
      const body = projectId ? { job_type: 'edit', instruction } : { instruction };
      const res = await this.tally.timed(`POST ${path}`, () =>
        this.api()
          .post(path, body)
          .catch(() => ({ status: 0, text: '', body: null }) as never),
      );
      const b = res?.body as {
        id?: string;
        job?: { id: string };
        detail?: { project_id?: string; job_id?: string };
      } | null;
      if (res?.status === 202 && b) {
        return projectId
          ? { projectId, jobId: b.id!, instruction }
          : { projectId: b.id!, jobId: b.job!.id, instruction };
      }
      // Saved while the queue was down: the answer names what was saved.
      if (res?.status === 503 && b?.detail?.job_id) {
        return { projectId: projectId ?? b.detail.project_id!, jobId: b.detail.job_id, instruction };
      }
      await sleep(300);
    }
    return null;
  }
}

/** Reads at a steady pace: readiness and a project, so that outages are seen by a client. */
export class Prober {
  private timer: NodeJS.Timeout | null = null;
  readonly ready: Array<{ at: number; status: number; body: unknown }> = [];

  constructor(
    private readonly api: () => ApiClient,
    private readonly tally: Tally,
    private readonly projectOf: () => string | undefined,
    private readonly readyPath: () => string,
    /** Called on every tick (the log followers start here). */
    private readonly onTick: () => void = () => undefined,
  ) {}

  start(everyMs: number): void {
    const tick = async () => {
      const r = await this.tally.timed(`GET ${this.readyPath()}`, () => this.api().get(this.readyPath()));
      if (r) this.ready.push({ at: Date.now(), status: r.status, body: r.body });
      const project = this.projectOf();
      if (project) await this.tally.timed('GET project', () => this.api().get(`/api/v1/projects/${project}`));
      // The queue board's API, as its page polls it: 503 while Redis is away, never a 500 or a hang.
      await this.tally.timed('GET board', () => this.api().get('/admin/queues/api/queues', BOARD_AUTH));
      this.onTick();
      if (this.timer) this.timer = setTimeout(() => void tick(), everyMs);
    };
    this.timer = setTimeout(() => void tick(), everyMs);
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /** What /readyz said between two instants (e.g. which service it named as down). */
  downDuring(from: number, to: number): Set<string> {
    const down = new Set<string>();
    for (const r of this.ready) {
      if (r.at < from || r.at > to || r.status !== 503) continue;
      const checks = (r.body as { checks?: Record<string, string> } | null)?.checks ?? {};
      for (const [name, state] of Object.entries(checks)) if (state === 'down') down.add(name);
    }
    return down;
  }
}

/**
 * Clients following job logs (`…/logs?follow=1`, server-sent events) through the faults, a few at a
 * time: each stream must end with its `end` event once its job has finished (a 503 at the start,
 * while a dependency is down, is an answer too); none may break or stay open.
 */
export class LogFollowers {
  readonly streams = new Map<string, { projectId: string; startedAt: number; endedAt?: number; outcome?: string }>();

  constructor(
    private readonly api: () => ApiClient,
    private readonly max = 4,
  ) {}

  open(): number {
    return [...this.streams.values()].filter((s) => s.endedAt === undefined).length;
  }

  follow(job: CreatedJob | undefined): void {
    if (!job || this.streams.has(job.jobId) || this.open() >= this.max) return;
    const stream: { projectId: string; startedAt: number; endedAt?: number; outcome?: string } = {
      projectId: job.projectId,
      startedAt: Date.now(),
    };
    this.streams.set(job.jobId, stream);
    this.api()
      .followLog(job.projectId, job.jobId, { timeoutMs: 600_000 })
      .then(
        (r) => {
          stream.outcome =
            r.status !== 200
              ? `answered ${r.status}`
              : r.events.at(-1)?.event === 'end'
                ? 'end'
                : 'closed without its end event';
        },
        (err: Error) => {
          stream.outcome = `broke: ${err.message}`;
        },
      )
      .finally(() => {
        stream.endedAt = Date.now();
      });
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
