import { randomBytes } from "node:crypto";

// Ids come from a pool of random bytes refilled 4 KiB at a time. Receipt (bench/sender.bench.mjs
// throughput phase, CPU-profiled): with one `randomBytes(12)` per id, `randomFillSync` took 12.6% of
// the sender's CPU time, about 7 µs per id, two ids per delivery; with the pool it drops out of the profile.
let pool = Buffer.alloc(0);
let offset = 0;

/** `<prefix>_` followed by 24 random hex characters (96 bits). */
export function createId(prefix: string): string {
  if (offset + 12 > pool.length) {
    pool = randomBytes(4096);
    offset = 0;
  }
  offset += 12;
  return `${prefix}_${pool.toString("hex", offset - 12, offset)}`;
}
