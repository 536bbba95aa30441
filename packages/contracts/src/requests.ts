import { z } from './zod';
import { CheckList, FixAttempts } from './checks';
import { CreatableJobType } from './enums';
import { ProjectSourceInput } from './code-io';

export const EMPTY_INSTRUCTION_MESSAGE = 'instruction must not be empty';

/**
 * The instruction rule (docs/http-api.md, "Validation"): trimmed first, then "must not be empty", then the length bounds
 * (so whitespace-only input gets the empty message, not a length message).
 */
function instruction(min: number, max: number) {
  return z
    .string()
    .trim()
    .refine((s) => s.length > 0, { message: EMPTY_INSTRUCTION_MESSAGE, abort: true })
    .pipe(
      z
        .string()
        .min(min, { message: `String should have at least ${min} characters` })
        .max(max, { message: `String should have at most ${max} characters` }),
    )
    .openapi({ type: 'string', minLength: min, maxLength: max });
}

/** Checks and fix attempts: on a project, the defaults of its jobs; on a job, its own (docs/checks.md). */
const checkFields = {
  checks: CheckList.optional(),
  fix_attempts: FixAttempts.optional(),
};

export const ProjectCreate = z
  .object({
    instruction: instruction(5, 2000),
    ...checkFields,
    /** Start from existing code (a git repository); an archive is uploaded instead of JSON. */
    source: ProjectSourceInput.optional(),
  })
  .openapi('ProjectCreate', {
    example: {
      instruction:
        'Generate a minimal Python CLI project that prints the first 10 Fibonacci numbers and includes a basic test.',
    },
  });
export type ProjectCreate = z.infer<typeof ProjectCreate>;

/**
 * PATCH /projects/{id}: new defaults for the project's later jobs (jobs already made keep theirs).
 * Only the fields it names change; it must name one.
 */
export const ProjectUpdate = z
  .object(checkFields)
  .refine((u) => u.checks !== undefined || u.fix_attempts !== undefined, {
    message: 'Give checks or fix_attempts (the only fields a project update changes)',
  })
  .openapi('ProjectUpdate', {
    example: { checks: [{ name: 'tests', run: 'python3 -m pytest -q', timeout_seconds: 120 }], fix_attempts: 1 },
  });
export type ProjectUpdate = z.infer<typeof ProjectUpdate>;

export const JobCreate = z
  .object({ job_type: CreatableJobType, instruction: instruction(1, 2000), ...checkFields })
  .openapi('JobCreate', {
    example: { job_type: 'edit', instruction: 'Append a comment line to app.py describing the change.' },
  });
export type JobCreate = z.infer<typeof JobCreate>;

export const ProjectListQuery = z
  .object({
    limit: z.coerce.number().int().min(1).max(100).default(20),
    offset: z.coerce.number().int().min(0).default(0),
  })
  .openapi('ProjectListQuery');
export type ProjectListQuery = z.infer<typeof ProjectListQuery>;

export const LogQuery = z
  .object({
    offset: z.coerce.number().int().min(0).default(0),
    follow: z
      .enum(['0', '1', 'true', 'false'])
      .optional()
      .transform((v) => v === '1' || v === 'true'),
  })
  .openapi('LogQuery');
export type LogQuery = z.infer<typeof LogQuery>;

/** GET …/files/{path}: `raw=1` asks for the bytes (application/octet-stream) whatever the file holds. */
export const FileReadQuery = z
  .object({
    raw: z
      .enum(['0', '1', 'true', 'false'])
      .optional()
      .transform((v) => v === '1' || v === 'true'),
  })
  .openapi('FileReadQuery');
export type FileReadQuery = z.infer<typeof FileReadQuery>;
