import { LocalSource } from './local.js';
import { isS3Location } from './s3-location.js';
import type { Source, SourceOptions } from './source.js';

/**
 * Opens a source from a location: a local folder, or `s3://bucket/prefix`.
 * Close it when done (`etl` closes the sources it opens).
 *
 * @example
 *   const songs = await openSource('data/sparkify-sample/song_data');
 *   try { const files = await songs.list(); } finally { await songs.close(); }
 */
export async function openSource(location: string, options: SourceOptions = {}): Promise<Source> {
  if (isS3Location(location)) {
    // Loaded lazily so that local runs never pay for the AWS SDK.
    const { S3Source } = await import('./s3.js');
    return S3Source.create(location, options);
  }
  return new LocalSource(location);
}
