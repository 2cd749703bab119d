/**
 * What the package ships and installs, checked from the files alone (no
 * network, no npm): the scripts, the `files` list, the optional AWS control-
 * plane clients and that nothing outside src/cluster/ loads them, and the
 * error a cluster command gives when they were left out (--omit=optional).
 * `.ci/package-check` checks the same on a real packed and installed tarball.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { CLUSTER_PACKAGES, missingDependency } from '../src/cli/cluster-commands.js';
import { printError } from '../src/cli/output.js';
import { ROOT } from './helpers/paths.js';
import { missingBinding } from '../src/warehouses/duckdb/duckdb-api.js';

interface PackageJson {
  scripts: Record<string, string>;
  files: string[];
  license: string;
  dependencies: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  devDependencies: Record<string, string>;
}

const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as PackageJson;
const CLIENTS = ['@aws-sdk/client-ec2', '@aws-sdk/client-iam', '@aws-sdk/client-redshift', '@aws-sdk/client-redshift-serverless'];
const INSTALL = `npm install ${CLIENTS.join(' ')}`;

/** Every .ts file under src/, relative to the repository (src/cli/main.ts). */
function sourceFiles(): string[] {
  return readdirSync(path.join(ROOT, 'src'), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => path.relative(ROOT, path.join(e.parentPath, e.name)).split(path.sep).join('/'))
    .sort();
}

/** The module specifiers a file loads: static imports and re-exports, `import()` and `require()`. */
interface Specifier {
  spec: string;
  /** `import type` / `export type`: erased by tsc. */
  typeOnly: boolean;
  /** `import()` or `require()`: loaded when the code runs, not when the module is. */
  dynamic: boolean;
}

function specifiers(text: string): Specifier[] {
  const out: Specifier[] = [];
  for (const m of text.matchAll(/^\s*(import|export)\s+(type\s+)?[^'";]*?\bfrom\s+['"]([^'"]+)['"]/gm)) out.push({ spec: m[3]!, typeOnly: m[2] !== undefined, dynamic: false });
  for (const m of text.matchAll(/^\s*import\s+['"]([^'"]+)['"]/gm)) out.push({ spec: m[1]!, typeOnly: false, dynamic: false });
  for (const m of text.matchAll(/\b(?:import|require)\s*\(\s*['"]([^'"]+)['"]\s*\)/g)) out.push({ spec: m[1]!, typeOnly: false, dynamic: true });
  return out;
}

describe('package.json', () => {
  it('builds once on prepare (npm ci, npm install from git, npm pack), and npm start runs the built CLI without compiling', () => {
    expect(pkg.scripts.build).toBe('tsc -p tsconfig.build.json');
    expect(pkg.scripts.prepare).toBe('npm run build');
    expect(pkg.scripts.start).toBe('node dist/cli/main.js run');
    expect(pkg.scripts.test).toBe('vitest run');
  });

  it('ships the build, the bundled sample, the docs the README links to, and the LICENSE', () => {
    for (const f of ['dist', 'data', 'docs', 'LICENSE', 'README.md']) expect(pkg.files).toContain(f);
    expect(existsSync(path.join(ROOT, 'data', 'sparkify-sample'))).toBe(true);
    const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    for (const [, link] of readme.matchAll(/\]\((docs\/[^)#\s]+)/g)) expect(existsSync(path.join(ROOT, link!)), link).toBe(true);
  });

  it('has an MIT LICENSE, as package.json says', () => {
    expect(pkg.license).toBe('MIT');
    const license = readFileSync(path.join(ROOT, 'LICENSE'), 'utf8');
    expect(license).toMatch(/^MIT License/);
    expect(license).toContain('Copyright (c) 2026 sparkify-dwh contributors');
  });

  it('builds no source maps (they would point at src/, which is not shipped), but keeps the declarations', () => {
    const build = JSON.parse(readFileSync(path.join(ROOT, 'tsconfig.build.json'), 'utf8')) as { compilerOptions: Record<string, unknown> };
    const base = JSON.parse(readFileSync(path.join(ROOT, 'tsconfig.json'), 'utf8')) as { compilerOptions: Record<string, unknown> };
    expect(build.compilerOptions.sourceMap).toBe(false);
    expect(build.compilerOptions.declarationMap ?? base.compilerOptions.declarationMap ?? false).toBe(false);
    expect(build.compilerOptions.declaration ?? base.compilerOptions.declaration).toBe(true);
    expect(pkg.files).toContain('!dist/**/*.map');
  });

  it('makes the four AWS control-plane clients optional, and only them', () => {
    expect(Object.keys(pkg.optionalDependencies ?? {}).sort()).toEqual(CLIENTS);
    for (const c of CLIENTS) expect(pkg.dependencies[c], c).toBeUndefined();
    expect([...CLUSTER_PACKAGES].sort()).toEqual(CLIENTS);
    // What a DuckDB, PostgreSQL or Redshift (COPY, Data API) user needs stays required.
    for (const d of ['@duckdb/node-api', 'pg', '@aws-sdk/client-s3', '@aws-sdk/client-redshift-data']) expect(pkg.dependencies[d], d).toBeDefined();
    expect(pkg.dependencies['@duckdb/node-api']).toBe('1.5.5-r.5');
  });
});

describe('the cluster clients are loaded only by the cluster commands', () => {
  const files = sourceFiles();

  it('finds the sources', () => {
    expect(files).toContain('src/index.ts');
    expect(files).toContain('src/cluster/clients.ts');
  });

  it('nothing in src/ outside src/cluster/ imports an optional client', () => {
    const offenders: string[] = [];
    for (const f of files.filter((f) => !f.startsWith('src/cluster/'))) {
      for (const { spec } of specifiers(readFileSync(path.join(ROOT, f), 'utf8'))) {
        if (CLIENTS.some((c) => spec === c || spec.startsWith(`${c}/`))) offenders.push(`${f}: ${spec}`);
      }
    }
    expect(offenders).toEqual([]);
  });

  it('src/cluster/ is where they are used (so the check above is looking at the right names)', () => {
    const used = new Set<string>();
    for (const f of files.filter((f) => f.startsWith('src/cluster/'))) {
      for (const { spec } of specifiers(readFileSync(path.join(ROOT, f), 'utf8'))) if (CLIENTS.includes(spec)) used.add(spec);
    }
    expect([...used].sort()).toEqual(CLIENTS);
  });

  it('no module loaded at start-up (the library, the CLI) reaches one through static imports', () => {
    // Follow every static value import (not `import type`, not `import()`) from every file outside
    // src/cluster/: some import plain helpers of src/cluster/ (settings), which must stay free of the clients.
    const seen = new Set<string>();
    const chains: string[] = [];
    const visit = (file: string, via: string[]) => {
      if (seen.has(file)) return;
      seen.add(file);
      for (const { spec, typeOnly, dynamic } of specifiers(readFileSync(path.join(ROOT, file), 'utf8'))) {
        if (typeOnly || dynamic) continue;
        if (CLIENTS.includes(spec)) chains.push([...via, file, spec].join(' → '));
        if (!spec.startsWith('.')) continue;
        const target = path.posix.join(path.posix.dirname(file), spec).replace(/\.js$/, '.ts');
        if (files.includes(target)) visit(target, [...via, file]);
      }
    };
    const text = (f: string) => readFileSync(path.join(ROOT, f), 'utf8');
    const roots = files.filter((f) => !f.startsWith('src/cluster/'));
    // A dynamic import() is not followed, but it is the one way in: check it is the cluster-commands one.
    const dynamic = roots.flatMap((f) => specifiers(text(f)).filter((s) => s.dynamic && s.spec.includes('cluster/')).map((s) => `${f}: ${s.spec}`));
    expect(new Set(dynamic)).toEqual(new Set(['src/cli/cluster-commands.ts: ../cluster/index.js']));
    for (const f of roots) visit(f, []);
    expect(seen.has('src/index.ts') && seen.has('src/cli/main.ts')).toBe(true);
    expect(chains).toEqual([]);
  });

  it('src/index.ts does not re-export the cluster code (that is sparkify-dwh/cluster)', () => {
    const index = readFileSync(path.join(ROOT, 'src', 'index.ts'), 'utf8');
    expect(specifiers(index).filter(({ spec }) => spec.includes('cluster/'))).toEqual([]);
  });
});

describe('a cluster command without the optional clients (npm install --omit=optional)', () => {
  const notFound = (message: string, code = 'ERR_MODULE_NOT_FOUND') => Object.assign(new Error(message), { code });

  it('is DEPENDENCY_MISSING, naming the package and how to install the clients', () => {
    const err = missingDependency(notFound("Cannot find package '@aws-sdk/client-ec2' imported from /usr/lib/node_modules/sparkify-dwh/dist/cluster/clients.js"));
    expect(err).toBeDefined();
    expect(err!.code).toBe('DEPENDENCY_MISSING');
    expect(err!.message).toContain('@aws-sdk/client-ec2');
    expect(err!.message).toContain('not installed');
    expect(err!.hint).toContain(INSTALL);
    expect(err!.hint).toContain('--omit=optional');
  });

  it('names whichever of the four is missing, also when Node names a file inside it', () => {
    for (const c of CLIENTS) expect(missingDependency(notFound(`Cannot find package '${c}' imported from /x/dist/cluster/clients.js`))?.message).toContain(`need ${c},`);
    const inside = missingDependency(notFound("Cannot find module '/app/node_modules/@aws-sdk/client-iam/dist-es/index.js' imported from /app/dist/cluster/clients.js"));
    expect(inside?.message).toContain('@aws-sdk/client-iam');
  });

  it('leaves every other failure alone (it is a different problem, or a bug)', () => {
    expect(missingDependency(notFound("Cannot find package '@aws-sdk/client-redshift-data' imported from /x/dist/index.js"))).toBeUndefined();
    expect(missingDependency(notFound("Cannot find package 'pg' imported from /x/dist/index.js"))).toBeUndefined();
    expect(missingDependency(notFound("Cannot find package '@aws-sdk/client-ec2' imported from /x", 'ERR_SOMETHING_ELSE'))).toBeUndefined();
    expect(missingDependency(new Error("Cannot find package '@aws-sdk/client-ec2' imported from /x"))).toBeUndefined();
    expect(missingDependency(undefined)).toBeUndefined();
    expect(missingDependency('ERR_MODULE_NOT_FOUND')).toBeUndefined();
  });

  it('prints as a one-line error with its hint and exit code 1, not a stack trace', () => {
    const stderr = new PassThrough();
    let text = '';
    stderr.on('data', (d) => (text += d));
    const err = missingDependency(notFound("Cannot find package '@aws-sdk/client-redshift' imported from /x/dist/cluster/clients.js"));
    const code = printError({ stdout: new PassThrough(), stderr, env: {}, cwd: ROOT }, {}, err);
    expect(code).toBe(1);
    expect(text).toContain('error [DEPENDENCY_MISSING]: The cluster commands need @aws-sdk/client-redshift,');
    expect(text).toContain(`hint: Install the cluster clients next to sparkify-dwh: ${INSTALL}`);
    expect(text).not.toMatch(/\n\s+at /);
  });
});

describe("DuckDB without its platform's engine (npm install --omit=optional)", () => {
  it('says which package to install, as DEPENDENCY_MISSING', () => {
    const err = Object.assign(new Error("Cannot find module '@duckdb/node-bindings-linux-x64/duckdb.node'\nRequire stack: …"), { code: 'MODULE_NOT_FOUND' });
    const e = missingBinding(err)!;
    expect(e.code).toBe('DEPENDENCY_MISSING');
    expect(e.message).toBe("DuckDB's engine for this platform (@duckdb/node-bindings-linux-x64) is not installed: it is an optional dependency, left out by --omit=optional.");
    expect(e.hint).toBe('Install it (npm install @duckdb/node-bindings-linux-x64), or reinstall sparkify-dwh without --omit=optional.');
    expect(missingBinding(new Error("Cannot find module 'left-pad'"))).toBeUndefined();
  });
});
