import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

// The test process runs without --expose-gc; V8 still lets a new context pick up the flag.
setFlagsFromString('--expose-gc');
const collect = runInNewContext('gc') as () => void;

/** Live heap after full collections: what is really retained, without garbage waiting for a GC. */
export function retainedHeapBytes(): number {
  collect();
  collect();
  return process.memoryUsage().heapUsed;
}

export const MiB = 1024 * 1024;
