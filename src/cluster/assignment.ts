/**
 * Which partition leases one instance should renew, take and release, given the instances that
 * are alive and the leases as PostgreSQL has them (docs/scale-out.md, "Partitions"). Pure: the
 * lease keeper (lease-keeper.ts) reads the tables, calls this, and runs the statements.
 *
 * Each live instance aims at `ceil(partitions / live)`. An instance below its aim takes free
 * partitions (no lease row, or an expired lease); one above it releases the excess (the lease
 * row keeps its owner and expires now), so a newcomer finds partitions to take. An expired lease
 * is free to this instance too: it takes it back like any other, and the take statement keeps
 * the epoch when nobody else held it in between. The targets add up to at least the number
 * of partitions, so every partition has a taker once the instances have seen each other.
 *
 * Instances walk the partitions in an order of their own (rotated by a hash of their id): two
 * instances that start together try different free partitions first instead of racing for the
 * same ones, and an instance releases from the far end of its order, keeping the partitions it
 * prefers. Races that remain are settled by the take statement (one owner wins, the other's
 * row is not returned).
 */
import { fnv1a32 } from './partition.js';

/** One row of `partition_leases` as the keeper read it. */
export interface LeaseView {
  part: number;
  owner: string;
  epoch: number;
  /** `expires_at <= now()` on the database's clock. */
  expired: boolean;
}

export interface PlanInput {
  /** This instance's id. */
  me: string;
  /** PARTITIONS: partitions are 0 … partitions − 1. */
  partitions: number;
  /** Ids of the instances with a recent heartbeat (this one is counted whether listed or not). */
  live: readonly string[];
  leases: readonly LeaseView[];
}

export interface LeasePlan {
  /** How many partitions this instance aims at. */
  target: number;
  /** Leases this instance holds (not expired) and keeps. */
  renew: number[];
  /** Free partitions to take. */
  take: number[];
  /** Leases to give up so that other instances can take them. */
  release: number[];
}

/** This instance's order of the partitions: 0 … P − 1 rotated by a hash of its id. */
export function preferenceOrder(me: string, partitions: number): number[] {
  const offset = fnv1a32(me) % partitions;
  return Array.from({ length: partitions }, (_, i) => (i + offset) % partitions);
}

export function planLeases(input: PlanInput): LeasePlan {
  const { me, partitions } = input;
  const live = new Set(input.live);
  live.add(me);
  const target = Math.ceil(partitions / live.size);
  const byPart = new Map<number, LeaseView>();
  for (const l of input.leases) if (l.part >= 0 && l.part < partitions) byPart.set(l.part, l);

  const order = preferenceOrder(me, partitions);
  const mine = order.filter((p) => {
    const l = byPart.get(p);
    return l !== undefined && l.owner === me && !l.expired;
  });
  const free = order.filter((p) => {
    const l = byPart.get(p);
    return l === undefined || l.expired;
  });

  if (mine.length > target) {
    return { target, renew: mine.slice(0, target), take: [], release: mine.slice(target) };
  }
  return { target, renew: mine, take: free.slice(0, target - mine.length), release: [] };
}
