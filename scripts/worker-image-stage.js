#!/usr/bin/env node
// Stages the worker image's build context, which must carry everything: the image build runs with
// no network here (see scripts/worker-image.sh).
//
//   <out>/Dockerfile         worker-image/Dockerfile
//   <out>/dist/main.js       the entrypoint bundled by esbuild with the workspace packages it uses
//                            (@cwo/* from their sources) and their pure-JS dependencies
//   <out>/dist/egress-proxy.js  the egress proxy's entrypoint, bundled the same way (the runner
//                            starts the same image with it as a job's proxy, WORKER_EGRESS=allowlist)
//   <out>/node_modules/      the worker's own third-party dependencies (e.g. @openai/codex with its
//                            native binary), copied as installed, with what they depend on:
//                            packages that must stay files cannot be bundled
//
// Prints a hash of the context on stdout: the image is rebuilt only when it changes.
// Usage: node scripts/worker-image-stage.js <out-dir>
'use strict';
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const workerDir = path.join(root, 'worker-image');
const out = path.resolve(process.argv[2] || path.join(root, '.cache/worker-image/context'));
const workerPkg = JSON.parse(fs.readFileSync(path.join(workerDir, 'package.json'), 'utf8'));

const isWorkspaceDep = (spec) => String(spec).startsWith('workspace:');
const thirdParty = Object.entries(workerPkg.dependencies || {})
  .filter(([, spec]) => !isWorkspaceDep(spec))
  .map(([name]) => name)
  .sort();

/** `@cwo/<name>` resolves to the package's TypeScript sources, as in the jest config: no build needed. */
const workspaceSources = {
  name: 'cwo-workspace-sources',
  setup(build) {
    build.onResolve({ filter: /^@cwo\/[a-z-]+$/ }, (args) => ({
      path: path.join(root, 'packages', args.path.slice('@cwo/'.length), 'src', 'index.ts'),
    }));
  },
};

async function bundle() {
  const esbuild = require(require.resolve('esbuild', { paths: [workerDir] }));
  const result = await esbuild.build({
    entryPoints: {
      main: path.join(workerDir, 'src', 'main.ts'),
      'egress-proxy': path.join(workerDir, 'src', 'egress-proxy', 'main.ts'),
    },
    outdir: path.join(out, 'dist'),
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    // Third-party dependencies of the worker stay files in node_modules (staged below).
    external: thirdParty.flatMap((name) => [name, `${name}/*`]),
    plugins: [workspaceSources],
    legalComments: 'none',
    logLevel: 'warning',
  });
  if (result.errors.length) throw new Error('esbuild failed');
}

/** Where Node would find `name` from `fromDir` (pnpm puts a package's dependencies beside it). */
function findInstalled(name, fromDir) {
  for (let dir = fromDir; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'node_modules', name);
    if (fs.existsSync(path.join(candidate, 'package.json'))) return fs.realpathSync(candidate);
    if (path.dirname(dir) === dir) return undefined;
  }
}

/** name -> real directory of every package the third-party dependencies need, flattened. */
function closure() {
  const found = new Map();
  const queue = thirdParty.map((name) => ({ name, from: workerDir, required: true }));
  while (queue.length) {
    const { name, from, required } = queue.shift();
    const dir = findInstalled(name, from);
    if (!dir) {
      // Optional dependencies for other platforms are not installed, as with npm.
      if (required) throw new Error(`${name} is not installed (needed from ${from}); run pnpm install`);
      continue;
    }
    const seen = found.get(name);
    if (seen) {
      if (seen !== dir) throw new Error(`two versions of ${name} are needed (${seen}, ${dir}); the staging is flat`);
      continue;
    }
    found.set(name, dir);
    const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
    // Resolved from the package's real directory, as Node does: pnpm puts its dependencies beside it.
    for (const dep of Object.keys(pkg.dependencies || {})) queue.push({ name: dep, from: dir, required: true });
    for (const dep of Object.keys(pkg.optionalDependencies || {}))
      queue.push({ name: dep, from: dir, required: false });
  }
  return new Map([...found.entries()].sort(([a], [b]) => a.localeCompare(b)));
}

/** Copies the packages, unless the staged copy already comes from the same directories (pnpm's
 * directories carry the version, so the same path is the same content). */
function stageNodeModules(packages) {
  const dest = path.join(out, 'node_modules');
  const manifestFile = path.join(dest, '.cwo-staged.json');
  const manifest = JSON.stringify(Object.fromEntries(packages), null, 2);
  if (fs.existsSync(manifestFile) && fs.readFileSync(manifestFile, 'utf8') === manifest) return manifest;
  fs.rmSync(dest, { recursive: true, force: true });
  fs.mkdirSync(dest, { recursive: true });
  for (const [name, dir] of packages) {
    fs.mkdirSync(path.dirname(path.join(dest, name)), { recursive: true });
    fs.cpSync(dir, path.join(dest, name), { recursive: true, dereference: true, preserveTimestamps: true });
  }
  fs.writeFileSync(manifestFile, manifest);
  return manifest;
}

async function main() {
  fs.mkdirSync(out, { recursive: true });
  await bundle();
  const manifest = stageNodeModules(closure());
  fs.copyFileSync(path.join(workerDir, 'Dockerfile'), path.join(out, 'Dockerfile'));
  const hash = crypto.createHash('sha256');
  for (const file of ['Dockerfile', 'dist/main.js', 'dist/egress-proxy.js'])
    hash.update(fs.readFileSync(path.join(out, file)));
  hash.update(manifest);
  process.stdout.write(`${hash.digest('hex').slice(0, 32)}\n`);
}

main().catch((err) => {
  process.stderr.write(`worker-image-stage: ${err.message}\n`);
  process.exit(1);
});
