import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import {
  baseImage,
  effective,
  execForm,
  inheritedInstructions,
  parseCopy,
  parseDockerfile,
  stageChain,
  type Dockerfile,
} from '../src/dockerfile';
import { APPS, IMAGE_WORKDIR, OPS_MAIN, WORKSPACE_ROOT } from '../src/workspace';

// There is no Docker engine where the tests run, so the images are not built here: this checks the Dockerfile's
// essentials and that what it copies out of the build exists after `nx run-many -t build` (the test target
// depends on every app's build).
const dockerfile: Dockerfile = parseDockerfile(readFileSync(join(WORKSPACE_ROOT, 'Dockerfile'), 'utf8'));

function stage(name: string) {
  const found = dockerfile.stages.find((candidate) => candidate.name === name);
  if (found === undefined) throw new Error(`no stage ${name}`);
  return found;
}

/** Stages that run `npm ci` / `npm install`, and whether they leave out devDependencies. */
function npmInstalls(): { stage: string; productionOnly: boolean }[] {
  return dockerfile.stages.flatMap((candidate) =>
    candidate.instructions
      .filter(
        (instruction) => instruction.keyword === 'RUN' && /\bnpm (ci|install|i)\b/.test(instruction.args),
      )
      .map((instruction) => ({
        stage: candidate.name ?? '?',
        productionOnly: /--omit=dev\b|--production\b/.test(instruction.args),
      })),
  );
}

/** A path copied from a build stage, as a path in the repository (the stages work in IMAGE_WORKDIR). */
function repositoryPath(imagePath: string): string {
  const relative = posix.relative(IMAGE_WORKDIR, imagePath);
  if (relative.startsWith('..')) throw new Error(`${imagePath} is outside ${IMAGE_WORKDIR}`);
  return relative;
}

/** Workspace folders (`libs/…`) by package name. */
const workspaceFolders = new Map(
  readdirSync(join(WORKSPACE_ROOT, 'libs')).flatMap((folder) => {
    const manifest = join(WORKSPACE_ROOT, 'libs', folder, 'package.json');
    if (!existsSync(manifest)) return [];
    const { name } = JSON.parse(readFileSync(manifest, 'utf8')) as { name: string };
    return [[name, `libs/${folder}`] as const];
  }),
);

/** The libs these workspaces need at run time: their `dependencies` on workspace packages, transitively. */
function runtimeWorkspaces(roots: string[]): Set<string> {
  const found = new Set<string>();
  const pending = [...roots];
  for (let folder = pending.pop(); folder !== undefined; folder = pending.pop()) {
    const manifest = JSON.parse(readFileSync(join(WORKSPACE_ROOT, folder, 'package.json'), 'utf8')) as {
      dependencies?: Record<string, string>;
    };
    for (const dependency of Object.keys(manifest.dependencies ?? {})) {
      const lib = workspaceFolders.get(dependency);
      if (lib !== undefined && !found.has(lib)) {
        found.add(lib);
        pending.push(lib);
      }
    }
  }
  return found;
}

describe('Dockerfile', () => {
  it('is multi-stage, with a build stage and one target per app', () => {
    expect(dockerfile.stages.length).toBeGreaterThanOrEqual(4);
    expect(stage('build')).toBeDefined();
    for (const app of APPS) expect(stage(app.name)).toBeDefined();
  });

  it.each(APPS.map((app) => app.name))('%s builds on the Node 24 slim image', (app) => {
    expect(baseImage(dockerfile, app)).toMatch(/^node:24(\.\d+){0,2}-(bookworm-)?slim$/);
    expect(baseImage(dockerfile, 'build')).toMatch(/^node:24(\.\d+){0,2}-(bookworm-)?slim$/);
  });

  it.each(APPS.map((app) => app.name))('%s runs as a numeric non-root user', (app) => {
    const user = effective(dockerfile, app, 'USER')?.args;
    expect(user).toMatch(/^\d+(:\d+)?$/);
    expect(user?.split(':')[0]).not.toBe('0');
  });

  it.each(APPS.map((app) => app.name))('%s runs dist/main.js under an init that forwards SIGTERM', (app) => {
    expect(execForm(effective(dockerfile, app, 'CMD')?.args ?? '')).toEqual([
      'node',
      `apps/${app}/dist/main.js`,
    ]);
    const entrypoint = execForm(effective(dockerfile, app, 'ENTRYPOINT')?.args ?? '') ?? [];
    expect(entrypoint[0]).toMatch(/(^|\/)tini$/);
    const installsTini = inheritedInstructions(dockerfile, app).some(
      (instruction) => instruction.keyword === 'RUN' && /apt-get install .*\btini\b/.test(instruction.args),
    );
    expect(installsTini).toBe(true);
  });

  it.each(APPS.map((app) => ({ ...app })))(
    '$name has a health check on /health/live and exposes $port',
    (app) => {
      const healthcheck = effective(dockerfile, app.name, 'HEALTHCHECK')?.args ?? '';
      expect(healthcheck).toContain('/health/live');
      expect(effective(dockerfile, app.name, 'EXPOSE')?.args).toBe(String(app.port));
      const env = inheritedInstructions(dockerfile, app.name)
        .filter((instruction) => instruction.keyword === 'ENV')
        .map((instruction) => instruction.args);
      expect(env.at(-1)).toBe(`PORT=${app.port}`);
    },
  );

  it('puts only production dependencies into the images', () => {
    const installs = npmInstalls();
    const productionStages = installs
      .filter((install) => install.productionOnly)
      .map((install) => install.stage);
    expect(productionStages).toHaveLength(1);
    for (const app of APPS) {
      const chain = stageChain(dockerfile, app.name).map((candidate) => candidate.name);
      // No stage of the image itself installs anything …
      expect(installs.filter((install) => chain.includes(install.stage))).toEqual([]);
      // … node_modules come from the production install, and from the full build only compiled dist/ folders.
      for (const instruction of inheritedInstructions(dockerfile, app.name).filter(
        (i) => i.keyword === 'COPY',
      )) {
        const copy = parseCopy(instruction);
        if (copy.from === undefined) continue;
        if (productionStages.includes(copy.from)) continue;
        expect(copy.from).toBe('build');
        for (const source of copy.sources) expect(source).toMatch(/\/dist\/?$/);
      }
      const fromProduction = inheritedInstructions(dockerfile, app.name)
        .filter((instruction) => instruction.keyword === 'COPY')
        .map(parseCopy)
        .filter((copy) => copy.from !== undefined && productionStages.includes(copy.from));
      expect(fromProduction).toHaveLength(1);
    }
  });

  it.each(APPS.map((app) => app.name))('%s holds its own build, every lib and the operator CLI', (app) => {
    const copied = inheritedInstructions(dockerfile, app)
      .filter((instruction) => instruction.keyword === 'COPY')
      .map(parseCopy)
      .filter((copy) => copy.from === 'build')
      .flatMap((copy) => copy.sources.map(repositoryPath));
    expect(copied).toContain(`apps/${app}/dist`);
    expect(copied).toContain(posix.dirname(OPS_MAIN));
    const needed = runtimeWorkspaces([`apps/${app}`, posix.dirname(posix.dirname(OPS_MAIN))]);
    for (const workspace of needed) expect(copied).toContain(`${workspace}/dist`);
  });

  it('copies out of the build only what `nx run-many -t build` produces', () => {
    const copiedFromBuild = dockerfile.stages
      .flatMap((candidate) => candidate.instructions)
      .filter((instruction) => instruction.keyword === 'COPY')
      .map(parseCopy)
      .filter((copy) => copy.from === 'build')
      .flatMap((copy) => copy.sources.map(repositoryPath));
    expect(copiedFromBuild.length).toBeGreaterThan(0);
    const missing = copiedFromBuild.filter((path) => !existsSync(join(WORKSPACE_ROOT, path)));
    expect(missing).toEqual([]);
    // what the images and the Kubernetes Job run
    const entryPoints = [
      ...APPS.map((app) => `apps/${app.name}/dist/main.js`),
      'apps/orders/dist/migrate.js',
      OPS_MAIN,
    ];
    expect(entryPoints.filter((path) => !existsSync(join(WORKSPACE_ROOT, path)))).toEqual([]);
  });

  it('compiles every app whose build it copies', () => {
    const build = stage('build')
      .instructions.filter((instruction) => instruction.keyword === 'RUN')
      .map((instruction) => instruction.args)
      .join(' ');
    const compiled = [...build.matchAll(/(apps\/[\w-]+)\/tsconfig\.app\.json/g)].map((match) => match[1]);
    for (const app of [
      ...APPS.map((candidate) => `apps/${candidate.name}`),
      posix.dirname(posix.dirname(OPS_MAIN)),
    ]) {
      expect(compiled).toContain(app);
      expect(existsSync(join(WORKSPACE_ROOT, app, 'tsconfig.app.json'))).toBe(true);
    }
  });

  it('copies from the build context only paths that exist', () => {
    const fromContext = dockerfile.stages
      .flatMap((candidate) => candidate.instructions)
      .filter((instruction) => instruction.keyword === 'COPY' || instruction.keyword === 'ADD')
      .map(parseCopy)
      .filter((copy) => copy.from === undefined)
      .flatMap((copy) => copy.sources);
    expect(fromContext.length).toBeGreaterThan(0);
    expect(fromContext.filter((path) => !existsSync(join(WORKSPACE_ROOT, path)))).toEqual([]);
  });

  it('keeps local state and build output out of the build context (.dockerignore)', () => {
    const ignored = readFileSync(join(WORKSPACE_ROOT, '.dockerignore'), 'utf8')
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line !== '' && !line.startsWith('#'));
    for (const pattern of ['**/node_modules', '**/dist', '.git', '.infra', '.tools', '**/.dev']) {
      expect(ignored).toContain(pattern);
    }
  });
});
