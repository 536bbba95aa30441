import { createDb, type Db } from './index';

describe('the Prisma client on the test database', () => {
  let db: Db;
  beforeAll(() => {
    db = createDb(process.env.DATABASE_URL!);
  });
  afterAll(() => db.$disconnect());

  it('updated_at changes on every update of a project and a job', async () => {
    const project = await db.project.create({ data: { instruction: 'hello world', workspacePath: '/tmp/x' } });
    const job = await db.job.create({
      data: { projectId: project.id, jobType: 'initial_project', instruction: 'hello' },
    });
    await new Promise((r) => setTimeout(r, 15));
    const p2 = await db.project.update({ where: { id: project.id }, data: { status: 'in_progress' } });
    const j2 = await db.job.update({ where: { id: job.id }, data: { status: 'in_progress' } });
    expect(p2.updatedAt.getTime()).toBeGreaterThan(project.updatedAt.getTime());
    expect(j2.updatedAt.getTime()).toBeGreaterThan(job.updatedAt.getTime());
    expect(p2.createdAt).toEqual(project.createdAt);
  });

  it('jobs of a project get increasing sequence numbers in creation order', async () => {
    const project = await db.project.create({ data: { instruction: 'ordering', workspacePath: '/tmp/y' } });
    const a = await db.job.create({ data: { projectId: project.id, jobType: 'initial_project', instruction: 'a' } });
    const b = await db.job.create({ data: { projectId: project.id, jobType: 'edit', instruction: 'b' } });
    expect(b.seq > a.seq).toBe(true);
  });
});
