// How an error appears in a log line: what happened, its code, and where (a few stack frames).
// Never the error's whole text: Prisma's messages quote the calling line of its minified
// runtime (tens of thousands of characters on one line), and other libraries' can be as long.

export interface ErrorSummary {
  name: string;
  message: string;
  code?: string | number;
  /** The innermost frames, one per line, each cut to a readable length. */
  stack?: string;
  cause?: ErrorSummary;
}

/** Characters of a message kept in a log line. */
export const MAX_MESSAGE_CHARS = 1000;
const STACK_FRAMES = 6;
const MAX_FRAME_CHARS = 200;

const clip = (s: string, max: number) =>
  s.length > max ? `${s.slice(0, max)}… (${s.length - max} more characters)` : s;

/**
 * Prisma's errors say what happened on their last line, after the quoted call site; other
 * errors say it first. Lines of minified code (one line of hundreds of characters) are dropped.
 */
function meaningfulMessage(err: Error): string {
  const lines = err.message
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
  if (lines.length === 0) return err.name;
  if (err.name.startsWith('PrismaClient')) return clip(lines[lines.length - 1]!, MAX_MESSAGE_CHARS);
  return clip(
    lines
      .filter((l) => l.length <= MAX_MESSAGE_CHARS)
      .join('\n')
      .trim() || lines[0]!,
    MAX_MESSAGE_CHARS,
  );
}

function shortStack(stack: string | undefined): string | undefined {
  if (!stack) return undefined;
  const frames = stack
    .split('\n')
    .filter((l) => /^\s+at /.test(l))
    .slice(0, STACK_FRAMES)
    .map((l) => clip(l.trim(), MAX_FRAME_CHARS));
  return frames.length ? frames.join('\n') : undefined;
}

function codeOf(err: Error): string | number | undefined {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' || typeof code === 'number' ? code : undefined;
}

/** An error as a log line shows it; `cause` is followed two levels deep. */
export function summarizeError(err: Error, depth = 0): ErrorSummary {
  const code = codeOf(err);
  const stack = shortStack(err.stack);
  const cause = err.cause instanceof Error && depth < 2 ? summarizeError(err.cause, depth + 1) : undefined;
  return {
    name: err.name,
    message: meaningfulMessage(err),
    ...(code !== undefined ? { code } : {}),
    ...(stack ? { stack } : {}),
    ...(cause ? { cause } : {}),
  };
}

/** The one line a person reads first: the message, and the code when there is one. */
export function errorLine(err: unknown): string {
  if (!(err instanceof Error)) return clip(String(err), MAX_MESSAGE_CHARS);
  const { message, code } = summarizeError(err);
  return code !== undefined && !message.includes(String(code)) ? `${message} (${code})` : message;
}
