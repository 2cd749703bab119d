/** Where things are, for every test and the global set-up. */
import path from 'node:path';

export const ROOT = path.resolve(import.meta.dirname, '../..');
/** The built binary (the global set-up builds it). */
export const CLI = path.join(ROOT, 'dist', 'cli', 'main.js');
/** The built library, for tests that spawn Node on it. */
export const DIST = path.join(ROOT, 'dist');

/** The local test server: trust auth, database `test`. `SPARKIFY_TEST_PG=host:port` overrides host and port. */
export const TEST_PG_HOST = process.env.SPARKIFY_TEST_PG?.split(':')[0] ?? '127.0.0.1';
export const TEST_PG_PORT = Number(process.env.SPARKIFY_TEST_PG?.split(':')[1] ?? 5432);
