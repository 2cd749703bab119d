/**
 * Preloaded into every measured process (`node --import ./bench/peak.mjs …`):
 * on exit, writes the process's peak resident memory (kB) to BENCH_PEAK_FILE.
 * DuckDB runs inside the process, so its memory is counted too.
 */
import { writeFileSync } from 'node:fs';

const file = process.env.BENCH_PEAK_FILE;
if (file) process.on('exit', () => writeFileSync(file, String(process.resourceUsage().maxRSS)));
