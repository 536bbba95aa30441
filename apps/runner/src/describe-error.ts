/**
 * One short line for an error, for job errors and logs. Prisma's messages span many lines (the
 * call site, then the cause on the last line): the last line is the one that says what happened.
 */
export function describeError(err: unknown, maxChars = 500): string {
  const message = err instanceof Error ? err.message : String(err);
  const lines = message
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  const line = lines[lines.length - 1] ?? (err instanceof Error ? err.name : 'unknown error');
  return line.length > maxChars ? `${line.slice(0, maxChars)}…` : line;
}
