import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The installed package's root (this file is `dist/config/paths.js` in it). */
export const PACKAGE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The bundled real course sample: 30 daily event logs and 71 song files. */
export const SAMPLE_DIR = path.join(PACKAGE_ROOT, 'data', 'sparkify-sample');
