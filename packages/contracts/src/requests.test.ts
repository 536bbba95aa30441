import { JobCreate, ProjectCreate, WorkerResult } from './index';

const issues = (r: { success: boolean; error?: { issues: Array<{ message: string; path: PropertyKey[] }> } }) =>
  r.error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`) ?? [];

describe('instruction validation (docs/http-api.md, Validation)', () => {
  it('trims before checking lengths and keeps the trimmed value', () => {
    const r = ProjectCreate.safeParse({ instruction: '   build a thing   ' });
    expect(r.success && r.data.instruction).toBe('build a thing');
  });

  it('refuses a whitespace-only instruction with "instruction must not be empty"', () => {
    expect(issues(ProjectCreate.safeParse({ instruction: '     ' }))).toEqual([
      'instruction: instruction must not be empty',
    ]);
    expect(issues(JobCreate.safeParse({ job_type: 'edit', instruction: ' \n ' }))).toEqual([
      'instruction: instruction must not be empty',
    ]);
  });

  it('applies the length bounds: 5-2000 for a project, 1-2000 for a job', () => {
    expect(ProjectCreate.safeParse({ instruction: 'abcd' }).success).toBe(false);
    expect(ProjectCreate.safeParse({ instruction: 'abcde' }).success).toBe(true);
    expect(ProjectCreate.safeParse({ instruction: 'x'.repeat(2001) }).success).toBe(false);
    expect(JobCreate.safeParse({ job_type: 'edit', instruction: 'x' }).success).toBe(true);
    expect(JobCreate.safeParse({ job_type: 'edit', instruction: 'x'.repeat(2001) }).success).toBe(false);
  });

  it('accepts only the two job types', () => {
    expect(JobCreate.safeParse({ job_type: 'delete_everything', instruction: 'x' }).success).toBe(false);
    expect(JobCreate.safeParse({ job_type: 'initial_project', instruction: 'x' }).success).toBe(true);
  });
});

describe('result.json schema', () => {
  it('fills the optional lists and refuses an unknown status', () => {
    const r = WorkerResult.parse({ status: 'success', summary: 'ok' });
    expect(r.created_files).toEqual([]);
    expect(r.errors).toEqual([]);
    expect(WorkerResult.safeParse({ status: 'done' }).success).toBe(false);
  });
});
