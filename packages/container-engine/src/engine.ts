import type Docker from 'dockerode';

/** Where this dockerode client talks to, for error messages ("… at unix:///var/run/docker.sock"). */
export function dockerHostDescription(docker: Docker, env: NodeJS.ProcessEnv = process.env): string {
  const modem = docker.modem as { socketPath?: string; host?: string; port?: string | number; protocol?: string };
  const where = modem.socketPath
    ? `unix://${modem.socketPath}`
    : `${modem.protocol ?? 'http'}://${modem.host ?? 'localhost'}${modem.port ? `:${modem.port}` : ''}`;
  return env.DOCKER_HOST ? where : `${where} (the default; set DOCKER_HOST to use another)`;
}

/** The HTTP status of a Docker API error, if the API answered at all. */
export function statusCodeOf(err: unknown): number | undefined {
  const code = (err as { statusCode?: unknown } | null)?.statusCode;
  return typeof code === 'number' ? code : undefined;
}

const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ENOENT',
  'EACCES',
  'EPERM',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/** True when the Docker API could not be reached (as opposed to an answer saying no). */
export function isUnreachable(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  return statusCodeOf(err) === undefined && typeof code === 'string' && UNREACHABLE_CODES.has(code);
}

/** The Docker API's own explanation (`{"message": …}`), else the error's message. */
export function dockerMessage(err: unknown): string {
  const json = (err as { json?: { message?: unknown } } | null)?.json;
  if (json && typeof json.message === 'string') return json.message;
  return err instanceof Error ? err.message : String(err);
}
