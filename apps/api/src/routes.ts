import {
  ArchiveQuery,
  DeliveryListQuery,
  FileContent,
  FileList,
  FileReadQuery,
  Health,
  Preview,
  PreviewStart,
  JobCreate,
  JobDetail,
  JobList,
  JobSummary,
  LogQuery,
  ProjectCreate,
  ProjectCreated,
  ProjectDetail,
  ProjectList,
  ProjectListQuery,
  ProjectSummary,
  ProjectUpdate,
  PushRequest,
  PushResult,
  Readiness,
  SessionCreate,
  SessionInfo,
  Webhook,
  WebhookCreate,
  WebhookDelivery,
  WebhookDeliveryList,
  WebhookList,
  WebhookWithSecret,
} from '@cwo/contracts';
import { downloadArchive, downloadHistoryBundle } from './handlers/archive';
import { listFiles, readFile } from './handlers/files';
import { pushProject } from './handlers/push';
import { liveness, readiness } from './handlers/health';
import { cancelJob, createJob, getJob, listProjectJobs, revertJob } from './handlers/jobs';
import { readJobDiff } from './handlers/diff';
import { readJobLog } from './handlers/logs';
import { getSession, signIn, signOut } from './handlers/session';
import { getPreview, startPreview, stopPreview } from './handlers/previews';
import { createProject, deleteProject, getProject, listAllProjects, updateProject } from './handlers/projects';
import {
  createWebhook,
  deleteWebhook,
  enableWebhook,
  getWebhook,
  listWebhookDeliveries,
  listWebhooks,
  redeliver,
  rotateWebhookSecret,
} from './handlers/webhooks';
import { isUploadType, UPLOAD_DOC } from './handlers/project-sources';
import { alias, publicRoute, route, type Route } from './http/route';

// The whole HTTP surface on one screen. API routes are mounted under API_V1_STR; the short
// forms (/{id}, /{id}/jobs, /{id}/files…) are aliases of the canonical /projects/{id}/… routes. Every
// route() needs an authenticated caller and sees only the caller's projects; publicRoute() is
// open. `rateLimit: 'create'` counts a call against the caller's creation rate limit.

const projectRoutes: Route[] = [
  route({
    method: 'post',
    path: '/projects',
    body: ProjectCreate,
    uploads: { match: isUploadType, doc: UPLOAD_DOC },
    handler: createProject,
    rateLimit: 'create',
    doc: {
      tag: 'projects',
      summary: 'Create a project; its initial job is queued',
      description:
        'Starts from existing code with `source.git` ({url, ref?, token?}: https, ssh or git URLs; the token is ' +
        'used once, never stored or shown), or with an archive (tar.gz or zip, at most MAX_IMPORT_BYTES) sent as ' +
        '`multipart/form-data` (`instruction`, `archive`) or as the raw body (`application/gzip`, ' +
        '`application/zip`) with `?instruction=`. The runner imports it as the initial job\u2019s first step ' +
        '(the history\u2019s "import" commit); a refused or failed import ends the job with an import_* error_code. ' +
        'See docs/code-io.md.',
      responses: { 202: { description: 'The project (queued) and its initial job', schema: ProjectCreated } },
      errors: [400, 413, 415, 422],
    },
  }),
  route({
    method: 'get',
    path: '/projects',
    query: ProjectListQuery,
    handler: listAllProjects,
    doc: {
      tag: 'projects',
      summary: "List the caller's projects, newest first",
      responses: { 200: { description: 'One page of projects', schema: ProjectList } },
      errors: [422],
    },
  }),
  route({
    method: 'get',
    path: '/projects/:projectId',
    handler: getProject,
    doc: {
      tag: 'projects',
      summary: 'A project with its jobs in creation order',
      responses: { 200: { description: 'The project', schema: ProjectDetail } },
      errors: [404],
    },
  }),
  route({
    method: 'patch',
    path: '/projects/:projectId',
    body: ProjectUpdate,
    handler: updateProject,
    doc: {
      tag: 'projects',
      summary: "Change a project's default checks and fix attempts (for the jobs made from now on)",
      description:
        'Only the fields it names change; `checks: []` removes them. Jobs already made, queued or not, keep the ' +
        'checks they were made with. See docs/checks.md.',
      responses: { 200: { description: 'The project, with its new defaults', schema: ProjectSummary } },
      errors: [404, 413, 415, 422],
    },
  }),
  route({
    method: 'delete',
    path: '/projects/:projectId',
    handler: deleteProject,
    doc: {
      tag: 'projects',
      summary: 'Delete a project: cancels its jobs, removes its workspace and rows',
      responses: { 204: { description: 'Deleted' } },
      errors: [404],
    },
  }),
];

const jobRoutes: Route[] = [
  route({
    method: 'post',
    path: '/projects/:projectId/jobs',
    body: JobCreate,
    handler: createJob,
    rateLimit: 'create',
    doc: {
      tag: 'jobs',
      summary: 'Queue a job (an edit) on a project',
      responses: { 202: { description: 'The job (queued)', schema: JobSummary } },
      errors: [400, 404, 413, 422],
    },
  }),
  route({
    method: 'get',
    path: '/projects/:projectId/jobs',
    handler: listProjectJobs,
    doc: {
      tag: 'jobs',
      summary: "A project's jobs in creation order",
      responses: { 200: { description: 'The jobs', schema: JobList } },
      errors: [404],
    },
  }),
  route({
    method: 'get',
    path: '/projects/:projectId/jobs/:jobId',
    handler: getJob,
    doc: {
      tag: 'jobs',
      summary: 'A job: status, result, timings, attempts',
      responses: { 200: { description: 'The job', schema: JobDetail } },
      errors: [404],
    },
  }),
  route({
    method: 'post',
    path: '/projects/:projectId/jobs/:jobId/cancel',
    handler: cancelJob,
    doc: {
      tag: 'jobs',
      summary: 'Cancel a queued or running job',
      responses: {
        200: { description: 'The job was queued and is now cancelled', schema: JobDetail },
        202: {
          description: 'The job is running; the runner stops it within seconds (poll the job)',
          schema: JobDetail,
        },
      },
      errors: [404, 409],
    },
  }),
  route({
    method: 'post',
    path: '/projects/:projectId/jobs/:jobId/revert',
    handler: revertJob,
    rateLimit: 'create',
    doc: {
      tag: 'jobs',
      summary: 'Undo a finished job: queues a job of type revert',
      description:
        'The revert runs in order like any job and undoes the job’s changes on top of the project’s state then ' +
        '(git revert: the inverse of the job’s commit applied three-way), with its own log, commit and diff. ' +
        'Where later changes overlap it, it ends in error with error_code `revert_conflict` naming the files, the ' +
        'workspace unchanged. 409 for a job that has not finished or changed nothing, or that another revert (queued, running or ' +
        'completed) undoes already. See docs/code-io.md.',
      responses: { 202: { description: 'The revert job (queued)', schema: JobSummary } },
      errors: [404, 409],
    },
  }),
  route({
    method: 'get',
    path: '/projects/:projectId/jobs/:jobId/logs',
    query: LogQuery,
    handler: readJobLog,
    doc: {
      tag: 'jobs',
      summary: "A job's log, from an offset or followed live",
      description:
        'Without `follow`: the bytes from `offset` to the current end (X-Log-Offset: the next offset, ' +
        'X-Job-Status: the job status; empty while the job has no log). With `follow=1`: server-sent events ' +
        '(`log` events whose id is the byte offset after them; `end` with the final status). ' +
        'Last-Event-ID resumes a stream.',
      responses: {
        200: {
          description: 'The log',
          media: {
            'text/plain': 'The log bytes from the offset',
            'text/event-stream': 'log events, then end',
          },
          headers: { 'X-Log-Offset': 'Offset to ask for next', 'X-Job-Status': 'The job status' },
        },
      },
      errors: [400, 404, 422],
    },
  }),
  route({
    method: 'get',
    path: '/projects/:projectId/jobs/:jobId/diff',
    handler: readJobDiff,
    doc: {
      tag: 'jobs',
      summary: "A job's changes as a unified diff",
      description:
        'The diff of the commit the runner made when the job ended (the job detail names it as ' +
        "`commit`): against the previous job's commit, or against nothing for the first job. `.codex/` is " +
        'not part of the history. 404 while the job has no commit (queued, running, cancelled before it ran).',
      responses: {
        200: {
          description: 'The diff (empty when the job changed nothing)',
          media: { 'text/plain': 'A unified diff, as `git show --patch` prints it' },
          headers: { 'X-Commit': 'The commit id' },
        },
      },
      errors: [404],
    },
  }),
];

const fileRoutes: Route[] = [
  route({
    method: 'get',
    path: '/projects/:projectId/files',
    handler: listFiles,
    doc: {
      tag: 'files',
      summary: 'Every file of the workspace, .codex included, with sizes',
      responses: { 200: { description: 'The files, sorted by path', schema: FileList } },
      errors: [404],
    },
  }),
  route({
    method: 'get',
    path: '/projects/:projectId/files/*path',
    query: FileReadQuery,
    handler: readFile,
    doc: {
      tag: 'files',
      summary: 'A file of the workspace',
      description:
        'UTF-8 text up to MAX_TEXT_FILE_BYTES as `{path, contents}`; binary or larger files, `raw=1` or ' +
        '`Accept: application/octet-stream` as raw bytes. Absolute, drive, UNC, traversal (encoded or not) and ' +
        'symlink escapes are 400 "Invalid path"; a safe path with no file, or a directory, is 404 "File not found".',
      responses: {
        200: { description: 'The file', schema: FileContent, media: { 'application/octet-stream': 'The raw bytes' } },
      },
      errors: [400, 404, 422],
    },
  }),
];

// Taking the code out (docs/code-io.md).
const exportRoutes: Route[] = [
  route({
    method: 'get',
    path: '/projects/:projectId/archive',
    query: ArchiveQuery,
    handler: downloadArchive,
    doc: {
      tag: 'code',
      summary: 'The workspace, or the tree a job left, as a tar.gz or zip archive',
      description:
        'Streamed as it is made, entries under `<projectId>/`. Without `job`: the workspace now (`.codex/` left ' +
        'out unless `include_codex=1`; symlinks as symlinks, never followed; FIFOs and devices left out; while a ' +
        'job runs it may be caught half-way, so ask for `job` for a settled tree). With `job=<jobId>`: the tree ' +
        'of that job’s commit in the project history. 409 past EXPORT_MAX_FILES or EXPORT_MAX_BYTES.',
      responses: {
        200: {
          description: 'The archive',
          media: { 'application/gzip': 'format=tar.gz (the default)', 'application/zip': 'format=zip' },
          headers: {
            'Content-Disposition': 'attachment; filename="<projectId>.<format>"',
            'X-Commit': 'with job: the commit archived',
          },
        },
      },
      errors: [404, 409, 422],
    },
  }),
  route({
    method: 'get',
    path: '/projects/:projectId/history.bundle',
    handler: downloadHistoryBundle,
    doc: {
      tag: 'code',
      summary: 'The project history as a git bundle (`git clone project.bundle`)',
      description:
        'One commit per job that ran, in order (an imported project starts with its "import" commit); each ' +
        'message has the job type, the instruction and a `Job-Id:` trailer. `.codex/` is not in the history. ' +
        '404 while no job has finished.',
      responses: { 200: { description: 'The bundle', media: { 'application/x-git-bundle': 'A git bundle (v2)' } } },
      errors: [404],
    },
  }),
  route({
    method: 'post',
    path: '/projects/:projectId/push',
    body: PushRequest,
    handler: pushProject,
    rateLimit: 'create',
    doc: {
      tag: 'code',
      summary: 'Push the project history to a branch of a remote repository',
      description:
        'Pushes the commit of the project’s last finished job (with every commit before it: one per job) to ' +
        '`refs/heads/<branch>` of `url`, never forced. The URL rules are the imports’: https, ssh or git URLs ' +
        '(http with IMPORT_ALLOW_HTTP), public addresses only unless IMPORT_ALLOW_PRIVATE_HOSTS (a 422 on `url` ' +
        'saying why); the token is sent as HTTP basic auth for this push only, never stored, logged or shown. ' +
        '409 when the remote branch has commits the history lacks (not a fast-forward) or nothing has finished; ' +
        '502 when the remote could not be reached or refused (authentication), or past IMPORT_TIMEOUT_SECONDS. ' +
        'See docs/code-io.md.',
      responses: { 200: { description: 'What was pushed', schema: PushResult } },
      errors: [404, 409, 413, 422, 502],
    },
  }),
];

const previewRoutes: Route[] = [
  route({
    method: 'get',
    path: '/projects/:projectId/preview',
    handler: getPreview,
    doc: {
      tag: 'previews',
      summary: "Where the project's preview opens, and its state",
      description:
        'The workspace served as a site at an origin of its own (PREVIEW_BASE_URL), index.html by default; ' +
        '`.codex/` is never served. With AUTH_MODE=api_key `preview_url` is a signed link (its host is the ' +
        'capability) that expires at `expires_at`. See docs/previews.md.',
      responses: { 200: { description: 'The preview', schema: Preview } },
      errors: [404],
    },
  }),
  route({
    method: 'post',
    path: '/projects/:projectId/preview',
    body: PreviewStart.optional(),
    handler: startPreview,
    doc: {
      tag: 'previews',
      summary: "Start the project's server in a preview container",
      description:
        'With `{command, port}`, or without a body the `preview` the agent named in its result.json: the ' +
        'command runs in the worker image with the workspace mounted read-only and the worker limits, and ' +
        'the preview origin is proxied to its port (HTTP and WebSocket). 202 while it starts; poll GET ' +
        'for running or failed (with the log). Without either, the static preview (200). One per project: ' +
        'a second start replaces the first. Stopped after PREVIEW_IDLE_SECONDS without a request.',
      responses: {
        200: { description: 'Nothing to run: the static preview', schema: Preview },
        202: { description: 'Starting', schema: Preview },
      },
      errors: [404, 422, 503],
    },
  }),
  route({
    method: 'delete',
    path: '/projects/:projectId/preview',
    handler: stopPreview,
    doc: {
      tag: 'previews',
      summary: "Stop the project's preview server (the static preview stays)",
      responses: { 204: { description: 'Stopped' } },
      errors: [404],
    },
  }),
];

const webhookRoutes: Route[] = [
  route({
    method: 'post',
    path: '/webhooks',
    body: WebhookCreate,
    handler: createWebhook,
    doc: {
      tag: 'webhooks',
      summary: 'Register an endpoint for events of your jobs and projects',
      description:
        'Deliveries are signed as the Standard Webhooks specification says (webhook-id, webhook-timestamp, ' +
        'webhook-signature: HMAC-SHA256 with the secret in the answer, shown only now). The URL must be https ' +
        '(http when WEBHOOK_ALLOW_HTTP=true) and resolve to public addresses only (unless ' +
        'WEBHOOK_ALLOW_PRIVATE_HOSTS=true): a refused URL is a 422 on `url` saying why. See docs/webhooks.md.',
      responses: { 201: { description: 'The endpoint and its secret', schema: WebhookWithSecret } },
      errors: [400, 409, 413, 422],
    },
  }),
  route({
    method: 'get',
    path: '/webhooks',
    handler: listWebhooks,
    doc: {
      tag: 'webhooks',
      summary: 'Your endpoints (secrets are never shown again)',
      responses: { 200: { description: 'The endpoints, oldest first', schema: WebhookList } },
      errors: [],
    },
  }),
  route({
    method: 'get',
    path: '/webhooks/:webhookId',
    handler: getWebhook,
    doc: {
      tag: 'webhooks',
      summary: 'An endpoint: its events, and whether and why it was disabled',
      responses: { 200: { description: 'The endpoint', schema: Webhook } },
      errors: [404],
    },
  }),
  route({
    method: 'delete',
    path: '/webhooks/:webhookId',
    handler: deleteWebhook,
    doc: {
      tag: 'webhooks',
      summary: 'Delete an endpoint, with its deliveries',
      responses: { 204: { description: 'Deleted' } },
      errors: [404],
    },
  }),
  route({
    method: 'post',
    path: '/webhooks/:webhookId/rotate-secret',
    handler: rotateWebhookSecret,
    doc: {
      tag: 'webhooks',
      summary: 'A new signing secret (shown only now); the old one keeps signing beside it for 24 hours',
      responses: { 200: { description: 'The endpoint and its new secret', schema: WebhookWithSecret } },
      errors: [404],
    },
  }),
  route({
    method: 'post',
    path: '/webhooks/:webhookId/enable',
    handler: enableWebhook,
    doc: {
      tag: 'webhooks',
      summary: 'Enable an endpoint that was disabled for failing',
      responses: { 200: { description: 'The endpoint, enabled', schema: Webhook } },
      errors: [404],
    },
  }),
  route({
    method: 'get',
    path: '/webhooks/:webhookId/deliveries',
    query: DeliveryListQuery,
    handler: listWebhookDeliveries,
    doc: {
      tag: 'webhooks',
      summary: "An endpoint's deliveries, newest first, each with every attempt",
      description:
        'Each attempt: when, the HTTP status (null when no answer came), the latency, why it failed, and the ' +
        'first 1 KB of the answer.',
      responses: { 200: { description: 'One page of deliveries', schema: WebhookDeliveryList } },
      errors: [404, 422],
    },
  }),
  route({
    method: 'post',
    path: '/webhooks/:webhookId/deliveries/:deliveryId/redeliver',
    handler: redeliver,
    doc: {
      tag: 'webhooks',
      summary: 'Send a delivery’s event again (a new delivery, the same webhook-id)',
      responses: { 202: { description: 'The new delivery, pending', schema: WebhookDelivery } },
      errors: [404, 409],
    },
  }),
];

const canonicalRoutes = [
  ...projectRoutes,
  ...jobRoutes,
  ...fileRoutes,
  ...exportRoutes,
  ...previewRoutes,
  ...webhookRoutes,
];

/** A canonical route under its short path. */
function shortForm(method: Route['method'], path: string, shortPath: string): Route {
  const target = canonicalRoutes.find((r) => r.method === method && r.path === path);
  if (!target) throw new Error(`no route ${method.toUpperCase()} ${path} to alias`);
  return alias(target, shortPath);
}

/** Mounted under API_V1_STR (and projectShortForms after them). */
export const apiRoutes: Route[] = [
  ...canonicalRoutes,
  shortForm('post', '/projects/:projectId/jobs', '/:projectId/jobs'),
  shortForm('get', '/projects/:projectId/jobs', '/:projectId/jobs'),
  shortForm('get', '/projects/:projectId/jobs/:jobId', '/:projectId/jobs/:jobId'),
  shortForm('get', '/projects/:projectId/jobs/:jobId/logs', '/:projectId/jobs/:jobId/logs'),
  shortForm('post', '/projects/:projectId/jobs/:jobId/cancel', '/:projectId/jobs/:jobId/cancel'),
  shortForm('get', '/projects/:projectId/jobs/:jobId/diff', '/:projectId/jobs/:jobId/diff'),
  shortForm('get', '/projects/:projectId/files', '/:projectId/files'),
  shortForm('get', '/projects/:projectId/files/*path', '/:projectId/files/*path'),
];

/**
 * GET and DELETE /{id}. Their one-segment pattern also matches /projects, /webhooks and any other
 * fixed path, so app.ts mounts them last under API_V1_STR: after every other route and its 405s.
 */
export const projectShortForms: Route[] = [
  shortForm('get', '/projects/:projectId', '/:projectId'),
  shortForm('delete', '/projects/:projectId', '/:projectId'),
];

/**
 * Mounted under API_V1_STR: the web app's sign-in (docs/http-api.md, "Authentication"). Kept
 * apart from apiRoutes: signing in and out needs no credentials, unlike every route there.
 */
export const sessionRoutes: Route[] = [
  publicRoute({
    method: 'post',
    path: '/session',
    body: SessionCreate,
    handler: signIn,
    doc: {
      tag: 'session',
      summary: 'Sign in to the web app: exchange an API key for a session cookie',
      description:
        'Answers with `Set-Cookie: cwo_session=…; Path=/; HttpOnly; SameSite=Strict` (and `Secure` over HTTPS), good ' +
        'for SESSION_TTL_SECONDS or until the key is revoked or the session signed out. Every other API route then ' +
        'accepts the cookie instead of `Authorization`; a state-changing request made with it (and this one) must ' +
        'carry an `Origin` (or `Referer`) of the API\u2019s own origin, else 403. 401 for a wrong key; 429 past ' +
        'SIGN_IN_ATTEMPTS_PER_MINUTE attempts from one address; 400 with AUTH_MODE=none.',
      responses: {
        200: {
          description: 'Signed in',
          schema: SessionInfo,
          headers: { 'Set-Cookie': 'The session cookie (HttpOnly)' },
        },
      },
      errors: [400, 401, 403, 429],
    },
  }),
  route({
    method: 'get',
    path: '/session',
    handler: getSession,
    doc: {
      tag: 'session',
      summary: 'Who is calling: the signed-in session, the bearer key, or AUTH_MODE=none\u2019s local user',
      responses: { 200: { description: 'The caller', schema: SessionInfo } },
      errors: [],
    },
  }),
  publicRoute({
    method: 'delete',
    path: '/session',
    handler: signOut,
    doc: {
      tag: 'session',
      summary: 'Sign out: ends the cookie\u2019s session and clears the cookie (204 also without one)',
      responses: { 204: { description: 'Signed out', headers: { 'Set-Cookie': 'The cookie, expired' } } },
      errors: [403],
    },
  }),
];

/** Mounted at the root: probes for orchestrators. */
export const rootRoutes: Route[] = [
  publicRoute({
    method: 'get',
    path: '/healthz',
    handler: liveness,
    doc: {
      tag: 'health',
      summary: 'Liveness: the process answers',
      responses: { 200: { description: 'Alive', schema: Health } },
      errors: [],
    },
  }),
  publicRoute({
    method: 'get',
    path: '/readyz',
    handler: readiness,
    doc: {
      tag: 'health',
      summary: 'Readiness: Postgres and Redis answer',
      responses: {
        200: { description: 'Ready', schema: Readiness },
        503: { description: 'A dependency is down', schema: Readiness },
      },
      errors: [],
    },
  }),
];
