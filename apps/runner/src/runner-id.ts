import crypto from 'node:crypto';
import os from 'node:os';

/**
 * A runner process's one id: `<host>:<pid>:<random>`. Its BullMQ worker name, what the job log
 * says ran an attempt, its worker containers' label and its heartbeat key all use it.
 */
export const createRunnerId = (): string => `${os.hostname()}:${process.pid}:${crypto.randomBytes(3).toString('hex')}`;
