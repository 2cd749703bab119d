import { LocalSource } from './local.js';
import type { Source, SourceOptions } from './source.js';

/**
 * Opens a source from a location: a local folder, or `s3://bucket/prefix`.
 *
 * @example
 *   const songs = await openSource('data/sparkify-sample/song_data');
 *   const files = await songs.list();
 */
export async function openSource(location: string, options: SourceOptions = {}): Promise<Source> {
  if (location.startsWith('s3://') || location.startsWith('s3a://')) {
    // Loaded lazily so that local runs never pay for the AWS SDK.
    const { S3Source } = await import('./s3.js');
    return S3Source.create(location, options);
  }
  return new LocalSource(location);
}
