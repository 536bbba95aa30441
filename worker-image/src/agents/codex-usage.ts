import fs from 'node:fs/promises';
import path from 'node:path';
import { TokenUsage } from '@cwo/contracts';

// `turn.completed` carries the thread's running totals, and a resumed thread goes on counting
// from its earlier turns. A job's own usage is the difference, so the totals at the end of each
// job are kept beside Codex's sessions, in CODEX_HOME, which lives exactly as long as they do.

const ZERO: TokenUsage = { input_tokens: 0, cached_input_tokens: 0, output_tokens: 0 };

function totalsFile(codexHome: string, threadId: string): string {
  return path.join(codexHome, 'thread-usage', `${threadId}.json`);
}

/** The thread's totals after its last job; zero for a thread we have not seen finish a turn. */
export async function readThreadTotals(codexHome: string, threadId: string): Promise<TokenUsage> {
  try {
    const parsed = TokenUsage.safeParse(JSON.parse(await fs.readFile(totalsFile(codexHome, threadId), 'utf8')));
    return parsed.success ? parsed.data : ZERO;
  } catch {
    return ZERO;
  }
}

export async function writeThreadTotals(codexHome: string, threadId: string, totals: TokenUsage): Promise<void> {
  const file = totalsFile(codexHome, threadId);
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs.writeFile(file, JSON.stringify(totals));
}

/** This job's usage: the thread's totals now minus those before it. */
export function usageSince(totals: TokenUsage, before: TokenUsage): TokenUsage {
  const diff = (a: number, b: number) => Math.max(0, a - b);
  return {
    input_tokens: diff(totals.input_tokens, before.input_tokens),
    cached_input_tokens: diff(totals.cached_input_tokens, before.cached_input_tokens),
    output_tokens: diff(totals.output_tokens, before.output_tokens),
  };
}
