import { createRequire } from 'node:module';
import type * as DuckDBApi from '@duckdb/node-api';
import { SparkifyError } from '../../errors.js';

/**
 * `@duckdb/node-api`, loaded with `require`. Imported as an ES module, Node
 * parses each of its hundred CommonJS files to find their named exports,
 * which took 200 ms of every run's start instead of 100 ms.
 */
export const duckdb: typeof DuckDBApi = load();

function load(): typeof DuckDBApi {
  try {
    return createRequire(import.meta.url)('@duckdb/node-api') as typeof DuckDBApi;
  } catch (err) {
    throw missingBinding(err) ?? err;
  }
}

/**
 * DuckDB's engine comes as an optional dependency, one package per platform,
 * so `npm install --omit=optional` leaves it out: say which package to add.
 */
export function missingBinding(err: unknown): SparkifyError | undefined {
  const message = err instanceof Error ? err.message : String(err);
  const pkg = /Cannot find (?:module|package) '(@duckdb\/node-bindings[^/']*)/.exec(message)?.[1];
  if (!pkg) return undefined;
  return new SparkifyError('DEPENDENCY_MISSING', `DuckDB's engine for this platform (${pkg}) is not installed: it is an optional dependency, left out by --omit=optional.`, {
    cause: err,
    hint: `Install it (npm install ${pkg}), or reinstall sparkify-dwh without --omit=optional.`,
  });
}
