import { z } from './zod';

// Bringing code in and taking it out (docs/code-io.md): the archive and bundle downloads.

const flag = () =>
  z
    .enum(['0', '1', 'true', 'false'])
    .optional()
    .transform((v) => v === '1' || v === 'true');

/** GET /projects/{id}/archive: which tree, in which format. */
export const ArchiveQuery = z
  .object({
    format: z.enum(['tar.gz', 'zip']).default('tar.gz'),
    /** Put `.codex/` (requests, results, logs) in too; only for the live workspace. */
    include_codex: flag(),
    /** The tree as this job left it (its commit in the history) instead of the workspace now. */
    job: z.uuid().optional(),
  })
  .superRefine((q, ctx) => {
    if (q.job && q.include_codex)
      ctx.addIssue({
        code: 'custom',
        path: ['include_codex'],
        message: 'include_codex applies to the workspace only: the history of a job holds no .codex/',
      });
  })
  .openapi('ArchiveQuery');
export type ArchiveQuery = z.infer<typeof ArchiveQuery>;

/**
 * Where a project's code comes from, as POST /projects takes it in JSON (an archive is uploaded
 * as multipart/form-data or as the raw body instead). The URL's form is checked here; where it
 * points (no private addresses unless IMPORT_ALLOW_PRIVATE_HOSTS) when the project is created and
 * again by the runner.
 */
export const GitSource = z
  .object({
    url: z
      .string()
      .min(1)
      .max(2048)
      .openapi({ description: 'https://, ssh:// (or user@host:path) or git:// URL of the repository' }),
    /** A branch, a tag or a commit id; the remote's default branch when absent. */
    ref: z
      .string()
      .min(1)
      .max(255)
      .regex(/^(?!-)(?!.*\.\.)[A-Za-z0-9._/@+-]+$/, { message: 'ref must be a branch, tag or commit id' })
      .optional(),
    /** A credential for https (sent as HTTP basic auth); used once, never stored, logged or shown. */
    token: z.string().min(1).max(4096).optional(),
    /** ssh only: a deploy key (an OpenSSH private key without a passphrase); used once, never stored, logged or shown. */
    ssh_key: z.string().min(1).max(16384).optional(),
    /** ssh only: known_hosts lines; the server's host key must be one of them (else the runner's known_hosts). */
    known_hosts: z.string().min(1).max(65536).optional(),
    submodules: z.boolean().optional().openapi({
      description:
        'Fetch the submodules too (shallow, each URL under the same rules, within the same limits); false by default',
    }),
  })
  .strict()
  .openapi('GitSource');
export type GitSource = z.infer<typeof GitSource>;

export const ProjectSourceInput = z.object({ git: GitSource }).strict().openapi('ProjectSourceInput');
export type ProjectSourceInput = z.infer<typeof ProjectSourceInput>;

/** Where a project's code came from, as the API shows it (credentials never included). */
export const ProjectSource = z
  .discriminatedUnion('kind', [
    z.object({
      kind: z.literal('git'),
      url: z.string().openapi({ description: 'The URL without any credential' }),
      ref: z.string().nullable(),
      /** Absent in projects made before it could be asked. */
      submodules: z.boolean().optional(),
    }),
    z.object({
      kind: z.literal('archive'),
      format: z.enum(['tar.gz', 'zip']),
      bytes: z.number().int().nonnegative(),
      sha256: z.string(),
    }),
  ])
  .openapi('ProjectSource');
export type ProjectSource = z.infer<typeof ProjectSource>;

/**
 * A branch name as git allows it (git-check-ref-format(1) for refs/heads/<branch>): no "..", no
 * control characters, spaces or ~^:?*[\, no part starting with "." or ending with ".lock", no
 * "@{", not "@", not starting with "-" or ending with "/" or ".".
 */
const BRANCH =
  // eslint-disable-next-line no-control-regex -- control characters are what it refuses
  /^(?!-)(?!.*\.\.)(?!.*@\{)(?!.*\/\/)(?!\/)(?!.*\/$)(?!.*\.$)(?!.*(?:^|\/)\.)(?!.*\.lock(?:\/|$))(?!@$)[^\u0000-\u0020\u007f~^:?*[\\]+$/;

/** POST /projects/{id}/push: the history to a branch of a remote repository (docs/code-io.md). */
export const PushRequest = z
  .object({
    url: z
      .string()
      .min(1)
      .max(2048)
      .openapi({ description: 'https://, ssh:// (or user@host:path) or git:// URL of the repository' }),
    branch: z
      .string()
      .min(1)
      .max(255)
      .regex(BRANCH, { message: 'branch must be a valid git branch name' })
      .openapi({ example: 'orchestrator/result' }),
    /** A credential for https (sent as HTTP basic auth); used for this push only, never stored, logged or shown. */
    token: z.string().min(1).max(4096).optional(),
    /** ssh only: a deploy key (an OpenSSH private key without a passphrase); used for this push only, never stored, logged or shown. */
    ssh_key: z.string().min(1).max(16384).optional(),
    /** ssh only: known_hosts lines; the server's host key must be one of them (else the runner's known_hosts). */
    known_hosts: z.string().min(1).max(65536).optional(),
  })
  .strict()
  .openapi('PushRequest', { example: { url: 'https://github.com/org/tool.git', branch: 'codex/result' } });
export type PushRequest = z.infer<typeof PushRequest>;

/** What a push did. */
export const PushResult = z
  .object({
    url: z.string().openapi({ description: 'The URL without any credential' }),
    branch: z.string(),
    /** The commit the branch now points at: the project's last finished job's (or its import). */
    commit: z.string(),
    /** What the branch pointed at before; null when the push created it. */
    previous_commit: z.string().nullable(),
    /** `created`: a new branch; `updated`: a fast-forward; `up_to_date`: it already pointed there. */
    status: z.enum(['created', 'updated', 'up_to_date']),
    /** How many commits the branch gained (0 when up to date). */
    commits: z.number().int().nonnegative(),
    /** The job whose commit was pushed; null for the import commit. */
    job_id: z.uuid().nullable(),
  })
  .openapi('PushResult');
export type PushResult = z.infer<typeof PushResult>;
