import { z } from './zod';
import { unstorableText } from './storable-text';

// Checks: shell commands run after the agent, in the agent's own sandbox, that decide whether a
// job counts as completed (docs/checks.md). The limits below bound what a job stores and what its
// detail and webhooks carry: at most MAX_CHECKS × (MAX_FIX_ATTEMPTS + 1) outputs of
// CHECK_OUTPUT_MAX_BYTES each.

/** The last this many bytes of a check's output (stdout and stderr, as they came) are kept. */
export const CHECK_OUTPUT_MAX_BYTES = 64 * 1024;
/** A check's time limit when it names none, and the most it may name. */
export const CHECK_DEFAULT_TIMEOUT_SECONDS = 300;
export const CHECK_MAX_TIMEOUT_SECONDS = 3600;
export const MAX_CHECKS = 10;
export const MAX_FIX_ATTEMPTS = 3;

export const CheckSpec = z
  .object({
    name: z
      .string()
      .trim()
      .min(1)
      .max(64)
      .regex(/^[A-Za-z0-9][A-Za-z0-9 ._:-]*$/, 'letters, digits, spaces and . _ : - (starting with a letter or digit)'),
    run: z.string().trim().min(1).max(4000),
    timeout_seconds: z.number().int().min(1).max(CHECK_MAX_TIMEOUT_SECONDS).optional(),
  })
  .strict()
  .openapi('Check', {
    description: `A shell command (\`sh -c\`) run in the workspace after the agent; it passes when it exits 0 within \`timeout_seconds\` (default ${CHECK_DEFAULT_TIMEOUT_SECONDS}).`,
    example: { name: 'tests', run: 'python3 -m pytest -q' },
  });
export type CheckSpec = z.infer<typeof CheckSpec>;

export const CheckList = z
  .array(CheckSpec)
  .max(MAX_CHECKS)
  .refine((checks) => new Set(checks.map((c) => c.name)).size === checks.length, {
    message: 'check names must be unique',
  })
  .openapi({ description: `At most ${MAX_CHECKS} checks, run in order; every one must pass.` });

export const FixAttempts = z
  .number()
  .int()
  .min(0)
  .max(MAX_FIX_ATTEMPTS)
  .openapi({
    description: `How many times the agent is given the failing checks' commands and output to fix them (0–${MAX_FIX_ATTEMPTS}).`,
  });

/** Text a check printed, as stored: no NUL, no lone surrogate (Postgres could not store it). */
const CheckOutput = z
  .string()
  .max(CHECK_OUTPUT_MAX_BYTES)
  .refine((s) => unstorableText(s) === undefined, { message: 'output must be storable text' });

export const CheckResult = z
  .object({
    name: z.string().max(64),
    run: z.string().max(4000),
    passed: z.boolean(),
    /** The command's exit code; null when it was stopped (time limit, cancel) or died of a signal. */
    exit_code: z.number().int().nullable(),
    timed_out: z.boolean(),
    duration_ms: z.number().int().nonnegative(),
    /** The last CHECK_OUTPUT_MAX_BYTES of its output (stdout and stderr interleaved as they came). */
    output: CheckOutput,
    /** True when earlier output was dropped to keep the last CHECK_OUTPUT_MAX_BYTES. */
    output_truncated: z.boolean(),
  })
  .openapi('CheckResult');
export type CheckResult = z.infer<typeof CheckResult>;

/** One run of every check: the first after the agent's work, one more after each fix attempt. */
export const CheckRound = z
  .object({
    round: z.number().int().min(1),
    passed: z.boolean(),
    results: z.array(CheckResult).max(MAX_CHECKS),
  })
  .openapi('CheckRound');
export type CheckRound = z.infer<typeof CheckRound>;

/** What a job's checks found, round by round; `passed` is the last round's verdict. */
export const CheckResults = z
  .object({
    passed: z.boolean(),
    rounds: z.array(CheckRound).max(MAX_FIX_ATTEMPTS + 1),
  })
  .openapi('CheckResults');
export type CheckResults = z.infer<typeof CheckResults>;
