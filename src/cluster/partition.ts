/**
 * Which partition a device belongs to (docs/scale-out.md, "Partitions"). The key has a level
 * (PARTITION_KEY, chosen from what the rules combine: partition-scope.ts):
 * - `building`: the device's substation when its building has one, else its building, so the
 *   devices a group rule combines by building or substation are judged by one owner;
 * - `street`: the device's street (street grouping, peers by street);
 * - `district`: one key for the whole fleet (peers by district): one partition judges it all.
 *
 * The hash is 32-bit FNV-1a over the key's UTF-8 bytes. It is part of the stored data: rule
 * state is kept per partition, so changing the hash or PARTITIONS moves devices between
 * partitions and their state in progress with them. Keep both fixed for a deployment.
 */
import type { DeviceTags } from '../ingest/reading.js';

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
const encoder = new TextEncoder();

/** 32-bit FNV-1a of `text` (UTF-8), unsigned. */
export function fnv1a32(text: string): number {
  let h = FNV_OFFSET;
  for (const byte of encoder.encode(text)) {
    h ^= byte;
    h = Math.imul(h, FNV_PRIME);
  }
  return h >>> 0;
}

/** Partition key levels, narrowest first. */
export const PARTITION_LEVELS = ['building', 'street', 'district'] as const;
export type PartitionLevel = (typeof PARTITION_LEVELS)[number];

export type PartitionTags = Pick<DeviceTags, 'building' | 'substation' | 'street'>;

/** The key a device is partitioned by at `level`. */
export function partitionKey(tags: PartitionTags, level: PartitionLevel): string {
  if (level === 'district') return 'district';
  if (level === 'street') return `street:${tags.street}`;
  return tags.substation !== undefined && tags.substation !== '' ? `substation:${tags.substation}` : `building:${tags.building}`;
}

/** Partition of a device, 0 ≤ result < `partitions`. */
export function partitionOf(tags: PartitionTags, partitions: number, level: PartitionLevel): number {
  if (!Number.isInteger(partitions) || partitions < 1) throw new RangeError(`partitions must be a positive integer, not ${partitions}`);
  return fnv1a32(partitionKey(tags, level)) % partitions;
}

/** `0-3,7,9-10`: a set of partitions in few characters (for /health and logs). */
export function formatParts(parts: Iterable<number>): string {
  const sorted = [...new Set(parts)].sort((a, b) => a - b);
  const out: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    out.push(i === j ? String(sorted[i]) : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return out.join(',');
}

/** The inverse of formatParts; undefined for text that is not such a list. */
export function parseParts(text: string): number[] | undefined {
  if (text === '') return [];
  const out: number[] = [];
  for (const piece of text.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(piece);
    if (m === null) return undefined;
    const from = Number(m[1]);
    const to = m[2] !== undefined ? Number(m[2]) : from;
    if (to < from || to - from > 100_000) return undefined;
    for (let p = from; p <= to; p++) out.push(p);
  }
  return out;
}

/** `0-31@1,32-40@2`: held partitions with their epochs, runs of consecutive partitions of one epoch. */
export function formatEpochs(owned: ReadonlyMap<number, number>): string {
  const sorted = [...owned].sort((a, b) => a[0] - b[0]);
  const out: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1]![0] === sorted[j]![0] + 1 && sorted[j + 1]![1] === sorted[i]![1]) j++;
    const [from, epoch] = sorted[i]!;
    out.push(`${i === j ? from : `${from}-${sorted[j]![0]}`}@${epoch}`);
    i = j + 1;
  }
  return out.join(',');
}
