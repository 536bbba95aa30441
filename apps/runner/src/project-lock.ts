import crypto from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from '@cwo/logger';

// One job per project at a time, across every runner process: the lock is a Redis key
// (SET NX PX) holding a token unique to one attempt of one job, renewed while the job runs and
// removed only by its holder (compare-and-delete in Lua). A runner that dies stops renewing, so
// the key expires after PROJECT_LOCK_TTL_SECONDS and the project moves on.

const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;
const RENEW = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`;

export interface ProjectLock {
  readonly projectId: string;
  readonly token: string;
  /** True once the lock has expired or been taken by someone else while held. */
  readonly lost: boolean;
  /**
   * True while the lock is certainly still ours: not lost, and renewed within its TTL. A process
   * that was frozen (SIGSTOP, a paused VM) wakes with every due timer firing at once, the agent's
   * before the renewal that would find the lock gone; this check needs no timer and no Redis.
   */
  isFresh(): boolean;
  /** Called once if the lock is lost while held (the job must stop: another may start). */
  onLost(listener: () => void): void;
  release(): Promise<void>;
}

export interface ProjectLocksOptions {
  redis: Redis;
  /** QUEUE_PREFIX: the lock keys live next to the queue's. */
  prefix: string;
  ttlMs: number;
  logger: Logger;
}

/** The client with the two scripts defined: ioredis sends EVALSHA, and the script only when Redis lacks it. */
type LockRedis = Redis & {
  cwoLockRelease(key: string, token: string): Promise<number>;
  cwoLockRenew(key: string, token: string, ttlMs: string): Promise<number>;
};

function withLockScripts(redis: Redis): LockRedis {
  const scripted = redis as LockRedis;
  if (typeof scripted.cwoLockRelease !== 'function') {
    redis.defineCommand('cwoLockRelease', { numberOfKeys: 1, lua: RELEASE });
    redis.defineCommand('cwoLockRenew', { numberOfKeys: 1, lua: RENEW });
  }
  return scripted;
}

export class ProjectLocks {
  private readonly redis: LockRedis;

  constructor(private readonly opts: ProjectLocksOptions) {
    this.redis = withLockScripts(opts.redis);
  }

  key(projectId: string): string {
    return `${this.opts.prefix}:project-lock:${projectId}`;
  }

  /** The lock for `jobId`'s project, or null when another job holds it. */
  async acquire(projectId: string, jobId: string): Promise<ProjectLock | null> {
    const token = `${jobId}:${crypto.randomUUID()}`;
    const key = this.key(projectId);
    const ok = await this.opts.redis.set(key, token, 'PX', this.opts.ttlMs, 'NX');
    if (ok !== 'OK') return null;
    return new HeldLock(this.opts, this.redis, projectId, key, token);
  }

  /** The job id holding the project's lock, if any (the reconciler leaves such jobs alone). */
  async holderJobId(projectId: string): Promise<string | null> {
    const value = await this.opts.redis.get(this.key(projectId));
    return value ? (value.split(':')[0] ?? null) : null;
  }
}

class HeldLock implements ProjectLock {
  lost = false;
  private released = false;
  private lastRenewed = Date.now();
  private readonly listeners: Array<() => void> = [];
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly opts: ProjectLocksOptions,
    private readonly redis: LockRedis,
    readonly projectId: string,
    private readonly key: string,
    readonly token: string,
  ) {
    // Renewing at a third of the TTL leaves two chances before it expires.
    this.timer = setInterval(() => void this.renew(), Math.max(50, Math.floor(opts.ttlMs / 3)));
    this.timer.unref();
  }

  isFresh(): boolean {
    return !this.lost && !this.released && Date.now() - this.lastRenewed < this.opts.ttlMs;
  }

  onLost(listener: () => void): void {
    if (this.lost) listener();
    else this.listeners.push(listener);
  }

  private async renew(): Promise<void> {
    if (this.released || this.lost) return;
    try {
      const renewed = await this.redis.cwoLockRenew(this.key, this.token, String(this.opts.ttlMs));
      if (renewed === 1) {
        this.lastRenewed = Date.now();
        return;
      }
      this.markLost('the lock key was gone or held by another token');
    } catch (err) {
      // Redis unreachable: the key may still be ours until the TTL runs out.
      if (Date.now() - this.lastRenewed >= this.opts.ttlMs) this.markLost(`renewal failed: ${(err as Error).message}`);
    }
  }

  private markLost(why: string): void {
    if (this.released || this.lost) return;
    this.lost = true;
    clearInterval(this.timer);
    this.opts.logger.warn('project lock lost', { projectId: this.projectId, why });
    for (const listener of this.listeners.splice(0)) listener();
  }

  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    clearInterval(this.timer);
    if (this.lost) return;
    try {
      await this.redis.cwoLockRelease(this.key, this.token);
    } catch (err) {
      // It expires on its own after the TTL.
      this.opts.logger.warn('could not release a project lock', {
        projectId: this.projectId,
        error: err,
      });
    }
  }
}
