// Prisma CLI configuration. `engine: 'js'` runs the WebAssembly schema engine shipped inside the
// npm package; Prisma's native engine cannot be downloaded on machines without its binary host.
import { defineConfig } from 'prisma/config';
import { createMigrationAdapter } from './packages/db/src/pg-adapter';

const databaseUrl = process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/codex_orchestrator';

export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  experimental: { adapter: true },
  engine: 'js',
  adapter: () => Promise.resolve(createMigrationAdapter(databaseUrl)),
});
