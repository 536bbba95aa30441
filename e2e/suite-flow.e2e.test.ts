// The flow an API client runs (the README's curl lines), against the built API and one runner process:
// create, poll .codex/result.json until 200, list, read app.py, edit, poll again, force_error;
// and the job's log by offset and followed as server-sent events.
import { logLines, type ApiClient } from './helpers/api-client';
import { eventually, Stack } from './helpers/stack';

const INSTRUCTION =
  'Generate a minimal Python CLI project that prints the first 10 Fibonacci numbers and includes a basic test.';

describe('the client flow over HTTP, with the API and a runner as processes', () => {
  let stack: Stack;
  let api: ApiClient;
  let projectId: string;
  let initialJobId: string;

  beforeAll(async () => {
    stack = await Stack.create('flow');
    api = await stack.startApi();
    await stack.startRunner('runner');
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('creates a project (202) and its files appear: result.json, README.md, app.py, tests/test_cli.py', async () => {
    const created = await api.createProject(INSTRUCTION);
    expect(created).toMatchObject({ status: 'queued', instruction: INSTRUCTION, job: { job_type: 'initial_project' } });
    projectId = created.id;
    initialJobId = created.job.id;

    // Clients poll the short form until result.json exists.
    const result = await eventually(
      'result.json',
      async () => {
        const res = await api.get(`/api/v1/${projectId}/files/.codex/result.json`);
        return res.status === 200 ? res.body : null;
      },
      60_000,
    );
    expect(result.path).toBe('.codex/result.json');
    expect(JSON.parse(result.contents)).toMatchObject({
      status: 'success',
      created_files: ['README.md', 'app.py', 'tests/test_cli.py'],
    });

    const listing = await api.get(`/api/v1/${projectId}/files`);
    expect(listing.status).toBe(200);
    const paths = listing.body.files.map((f: { path: string }) => f.path);
    expect(paths).toEqual(expect.arrayContaining(['README.md', 'app.py', 'tests/test_cli.py', '.codex/result.json']));

    const app = await api.get(`/api/v1/${projectId}/files/app.py`);
    expect(app.status).toBe(200);
    expect(app.body.contents).toContain('def fibonacci(n):');

    const job = await api.waitForJob(projectId, initialJobId);
    expect(job).toMatchObject({
      status: 'completed',
      attempts: 1,
      created_files: ['README.md', 'app.py', 'tests/test_cli.py'],
      errors: [],
      logs_path: `.codex/jobs/${initialJobId}/job.log`,
    });
    const project = await api.get(`/api/v1/projects/${projectId}`);
    expect(project.body).toMatchObject({ status: 'completed', summary: expect.stringContaining('Fibonacci') });
  });

  it('edits the project: app.py is listed as modified and gets the comment', async () => {
    const edit = await api.addJob(projectId, 'Append a comment line to app.py describing the change.');
    expect(edit.status).toBe('queued');
    // The short form for jobs answers too.
    expect((await api.get(`/api/v1/${projectId}/jobs`)).status).toBe(200);

    const job = await api.waitForJob(projectId, edit.id);
    expect(job).toMatchObject({
      status: 'completed',
      modified_files: ['app.py'],
      created_files: [],
      deleted_files: [],
    });

    const result = await api.get(`/api/v1/${projectId}/files/.codex/result.json`);
    expect(JSON.parse(result.body.contents)).toMatchObject({ status: 'success', modified_files: ['app.py'] });
    // The initial job's result was moved into its own directory, not lost.
    const earlier = await api.get(`/api/v1/${projectId}/files/.codex/jobs/${initialJobId}/result.json`);
    expect(JSON.parse(earlier.body.contents)).toMatchObject({
      created_files: ['README.md', 'app.py', 'tests/test_cli.py'],
    });

    const app = await api.get(`/api/v1/${projectId}/files/app.py`);
    expect(app.body.contents).toMatch(/# Edit: Append a comment line to app\.py describing the change\.\n$/);
  });

  it('ends a force_error instruction in error with errors ["forced_error"]', async () => {
    const job = await api.addJob(projectId, 'force_error now');
    const done = await api.waitForJob(projectId, job.id);
    expect(done).toMatchObject({ status: 'error', errors: ['forced_error'], attempts: 1 });
    expect((await api.get(`/api/v1/projects/${projectId}`)).body.status).toBe('error');
  });

  it('serves a job’s log by offset, with the next offset in a header', async () => {
    const path = `/api/v1/projects/${projectId}/jobs/${initialJobId}/logs`;
    const whole = await api.get(path);
    expect(whole.status).toBe(200);
    expect(whole.text).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z \[runner\] attempt 1 of job/);
    expect(whole.text).toMatch(/\[agent\] dummy agent: wrote app\.py/);
    expect(whole.text).toMatch(/\[runner\] finished: completed\n$/);
    const size = Buffer.byteLength(whole.text);
    expect(whole.headers.get('x-log-offset')).toBe(String(size));

    const from = whole.text.indexOf('[agent]');
    const offset = Buffer.byteLength(whole.text.slice(0, from));
    const rest = await api.get(`${path}?offset=${offset}`);
    expect(rest.text).toBe(whole.text.slice(from));
    expect(rest.headers.get('x-log-offset')).toBe(String(size));

    const nothingNew = await api.get(`${path}?offset=${size}`);
    expect(nothingNew.status).toBe(200);
    expect(nothingNew.text).toBe('');
  });

  it('streams a finished job’s whole log with follow=1, then ends; Last-Event-ID resumes after it', async () => {
    const plain = (await api.get(`/api/v1/projects/${projectId}/jobs/${initialJobId}/logs`)).text;
    const { status, contentType, events } = await api.followLog(projectId, initialJobId, { timeoutMs: 15_000 });
    expect(status).toBe(200);
    expect(contentType).toMatch(/text\/event-stream/);
    expect(logLines(events).join('\n')).toBe(plain.replace(/\n$/, ''));
    expect(events[events.length - 1]).toMatchObject({ event: 'end', data: JSON.stringify({ status: 'completed' }) });

    const lastId = events.filter((e) => e.event === 'log').pop()!.id!;
    const resumed = await api.followLog(projectId, initialJobId, { lastEventId: lastId, timeoutMs: 15_000 });
    expect(logLines(resumed.events)).toEqual([]);
    expect(resumed.events.map((e) => e.event)).toEqual(['end']);
  });
});
