import path from 'node:path';
import type { Command } from 'commander';
import { ConfigError, plural } from '../errors.js';
import { addOutputOptions, helpExamples } from './options.js';
import { bytes, CommandOutput, num, secs, type CliIO, type OutputFlags } from './output.js';

interface GenerateFlags extends OutputFlags {
  out?: string;
  songs?: string;
  events?: string;
  days?: string;
  start?: string;
  users?: string;
  seed?: string;
  matchShare?: string;
  songsPerFile?: string;
  overwrite?: boolean;
}

/** `sparkify generate`: synthetic data in the course's formats, at any scale. */
export function addGenerateCommand(program: Command, io: CliIO, setExit: (code: number) => void): void {
  const generate = program
    .command('generate')
    .description("write synthetic song files and event logs in exactly the course's formats and layouts, at any scale")
    .requiredOption('-o, --out <dir>', 'folder to write song_data/, log_data/ and generate.json into')
    .option('--songs <n>', 'songs in the catalogue (default 1000)')
    .option('--events <n>', 'events in the logs (default 10000)')
    .option('--days <n>', 'days of logs, one file per day (default 30)')
    .option('--start <date>', 'first day, YYYY-MM-DD (default 2018-11-01)')
    .option('--users <n>', 'users (default: one per 83 events, as in the sample)')
    .option('--seed <n>', 'seed: the same arguments write the same bytes (default 1)')
    .option('--match-share <share>', 'share of plays matching a song on title, artist and duration (default 0.3)')
    .option('--songs-per-file <n>', '1 writes one song per file, as the course does; more packs them (default 1)')
    .option('--overwrite', 'replace what an earlier run wrote into --out');
  addOutputOptions(generate)
    .addHelpText(
      'after',
      helpExamples([
        'sparkify generate --out bench/data/10m --events 10000000 --songs 1000000 --songs-per-file 1000',
        'sparkify run --songs bench/data/10m/song_data --logs bench/data/10m/log_data',
      ]),
    )
    .action(async (_options: unknown, cmd: Command) => {
      const flags = cmd.optsWithGlobals<GenerateFlags>();
      const out = new CommandOutput(io, flags, 'generate');
      try {
        const count = (name: string, v: string | undefined): number | undefined => {
          if (v === undefined) return undefined;
          const n = Number(v.replace(/_/g, ''));
          if (!Number.isFinite(n)) throw new ConfigError([{ where: `--${name}`, message: `"${v}" is not a number` }]);
          return n;
        };
        const { generate } = await import('../generate/generate.js');
        // On a terminal, a live line: which part, how far (at most ten redraws a second).
        let drawn = 0;
        const show = (p: { phase: string; done: number; total: number }) => {
          if (!out.live.live || (Date.now() - drawn < 100 && p.done < p.total)) return;
          drawn = Date.now();
          out.live.render(`${out.colors.cyan('…')} ${p.phase}: ${num(p.done)} of ${num(p.total)} (${Math.floor((100 * p.done) / Math.max(1, p.total))}%)`);
        };
        const manifest = await generate({
          out: path.resolve(io.cwd, flags.out!),
          songs: count('songs', flags.songs),
          events: count('events', flags.events),
          days: count('days', flags.days),
          start: flags.start,
          users: count('users', flags.users),
          seed: count('seed', flags.seed),
          matchShare: count('match-share', flags.matchShare),
          songsPerFile: count('songs-per-file', flags.songsPerFile),
          overwrite: flags.overwrite,
          onProgress: show,
        });
        out.close();
        if (flags.json) out.succeed(manifest);
        else if (!flags.quiet) {
          io.stdout.write(
            `Wrote ${plural(manifest.songs, 'song')} in ${plural(manifest.songFiles, 'file')} and ${plural(manifest.events, 'event')} in ${plural(manifest.logFiles, 'daily file')} ` +
              `(${bytes(manifest.bytes)}) to ${path.resolve(io.cwd, flags.out!)} in ${secs(manifest.seconds)}.\n` +
              `${plural(manifest.nextSongEvents, 'play')}, ${num(manifest.matchedPlays)} of them ${manifest.matchedPlays === 1 ? 'matches' : 'match'} a song; ` +
              `${plural(manifest.users, 'user')}; ${plural(manifest.loggedOutEvents, 'logged-out event')}.\n`,
          );
        }
      } catch (err) {
        setExit(out.fail(err));
      }
    });
}
