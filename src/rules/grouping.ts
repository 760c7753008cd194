/**
 * Routes device signals through building, substation and street grouping (building.ts has the
 * pure transitions): rules of one problem family group together (a building's lift, pile and
 * meters falling silent at once are one comms-loss of the building), and with `street:` buildings
 * group into their street. Keeps the group states in the scope table and releases device raises
 * whose wait is over on ticks.
 */
import type { DeviceTags } from '../ingest/reading.js';
import { onDeviceClear, onDeviceRaise, releasePending, type GroupState } from './building.js';
import type { FleetFacts } from './fleet-facts.js';
import type { RuleIndex } from './rule-index.js';
import type { Rule } from './schema.js';
import { groupKey, setIn, type ScopeState, type ScopeTable } from './scope-state.js';
import type { Signal } from './signal.js';
import type { SignalFactory } from './signal-factory.js';

/** The devices folded into a group. */
const members = (g: GroupState | undefined) =>
  Object.entries(g?.m ?? {})
    .filter(([, [, st]]) => st === 2)
    .map(([id]) => id);

export class SignalGrouping {
  constructor(
    private readonly scopes: ScopeTable,
    private readonly index: RuleIndex,
    private readonly facts: FleetFacts,
    private readonly signals: SignalFactory,
  ) {}

  /**
   * A device-level raise/clear decided: push what goes out to `out`, through grouping when the
   * rule has it (the device's signal, its group's, its street's, or nothing while waiting).
   */
  emit(rule: Rule, tags: DeviceTags, signal: Signal, out: Signal[]): void {
    const b = rule.building;
    const gid = b === undefined ? undefined : b.by === 'building' ? tags.building : tags.substation;
    if (b === undefined || gid === undefined) {
      out.push(signal);
      return;
    }
    const scopes = this.scopes;
    const gkey = groupKey(rule.family, b.by, gid);
    const g = scopes.get<GroupState>(gkey);
    const dev = scopes.device(tags.device);
    if (signal.state === 'raised') {
      const need = Math.max(b.minDevices, Math.ceil(b.fraction * this.index.groupSize(rule.family, b.by, gid)));
      const res = onDeviceRaise(g, tags.device, signal.at, need, b.windowS);
      scopes.put(gkey, res.state);
      if (res.action.type === 'hold') {
        dev.p = setIn(dev.p, rule.id, signal);
        scopes.pendingGroups.add(gkey);
      } else if (res.action.type === 'group-raise') {
        res.state.rule = rule.id;
        const evidence: Signal['evidence'] = [];
        for (const id of res.action.devices) {
          const ds = scopes.get<ScopeState>(id);
          // The member's pending signal is kept under its own rule (another kind's rule of the family).
          for (const [rid, pending] of Object.entries(ds?.p ?? {})) {
            if (this.index.find(rid)?.family !== rule.family) continue;
            evidence.push(...pending.evidence.slice(0, 2));
            ds!.p = setIn(ds!.p, rid, undefined);
            scopes.touch(id);
          }
        }
        evidence.push(...signal.evidence.slice(0, 2));
        dev.p = setIn(dev.p, rule.id, undefined);
        this.viaStreet(rule, tags, gkey, this.signals.group(rule, tags, b.by, gid, 'raised', signal.at, res.action.devices, evidence), signal.at, out);
      } else if (res.action.type === 'group-grow') {
        // The group's order learns about the late member (its readings as evidence).
        const speaker = this.groupRule(res.state, rule);
        this.viaStreet(speaker, tags, gkey, this.signals.group(speaker, tags, b.by, gid, 'raised', signal.at, res.action.devices, signal.evidence.slice(0, 2)), signal.at, out);
      }
    } else {
      const res = onDeviceClear(g, tags.device);
      scopes.put(gkey, res.state);
      dev.p = setIn(dev.p, rule.id, undefined);
      if (res.action.type === 'device-clear' && b.individual) out.push(signal);
      else if (res.action.type === 'group-clear') {
        const cleared = this.signals.group(this.groupRule(g, rule), tags, b.by, gid, 'cleared', signal.at, [], signal.evidence);
        // Waiting for its street, never sent: nothing to clear.
        if (g?.s !== undefined && b.by === 'building' && b.street !== undefined) this.clearViaStreet(rule, tags, cleared, []);
        else if (b.by === 'building' && b.street !== undefined) this.clearViaStreet(rule, tags, cleared, out);
        else out.push(cleared);
      }
    }
    scopes.touch(tags.device);
  }

  /**
   * On a tick: device raises (and, a level up, buildings) whose wait for their group is over go
   * out on their own. Devices whose state changed are added to `touched`.
   */
  releaseDue(now: number, out: Signal[], touched: string[]): void {
    const scopes = this.scopes;
    for (const gkey of [...scopes.pendingGroups]) {
      const g = scopes.get<GroupState>(gkey);
      const [, family, by] = gkey.split('|') as [string, string, string];
      if (g === undefined) {
        scopes.pendingGroups.delete(gkey);
        continue;
      }
      if (by === 'street') {
        this.releaseStreet(gkey, g, family, now, out);
        continue;
      }
      const first = Object.keys(g.m)[0];
      const tags = first !== undefined ? this.facts.tagsOf(first) : undefined;
      // The group key names the family (older state: the rule id).
      const rule = tags !== undefined ? this.index.forDevice(tags).find((r) => r.building !== undefined && (r.family === family || r.id === family)) : undefined;
      if (rule?.building === undefined) continue;
      const res = releasePending(g, now, rule.building.windowS);
      if (res.released.length === 0) {
        if (!Object.values(g.m).some(([, st]) => st === 0)) scopes.pendingGroups.delete(gkey);
        continue;
      }
      scopes.put(gkey, res.state);
      for (const id of res.released) {
        const ds = scopes.get<ScopeState>(id);
        const t = this.facts.tagsOf(id);
        if (ds === undefined || t === undefined) continue;
        // The member's own rule of the family (each kind has its own).
        for (const r of this.index.forDevice(t)) {
          const sig = r.family === rule.family ? ds.p?.[r.id] : undefined;
          if (sig === undefined || r.building === undefined) continue;
          ds.p = setIn(ds.p, r.id, undefined);
          touched.push(id);
          // individual: false = this rule speaks only for whole buildings/substations. A signal
          // kept from an older version gets the rule's family and asset now.
          if (r.building.individual) out.push({ ...sig, ...this.signals.identity(r, { device: id, building: sig.building, ...(sig.substation !== undefined ? { substation: sig.substation } : {}) }, sig.port) });
        }
      }
    }
  }

  /** The rule a group's signals speak for: the one that raised the group (else the given one). */
  private groupRule(g: GroupState | undefined, fallback: Rule): Rule {
    if (g?.rule === undefined || g.rule === fallback.id) return fallback;
    return this.index.find(g.rule) ?? fallback;
  }

  /**
   * A building's group raised (or grown) for a rule with street level: one level up, buildings are
   * the members. Sends nothing yet (waiting for the street), the building's own signal, or the
   * street's.
   */
  private viaStreet(rule: Rule, tags: DeviceTags, bkey: string, sig: Signal, at: number, out: Signal[]): void {
    const street = rule.building?.street;
    if (street === undefined || rule.building?.by !== 'building') {
      out.push(sig);
      return;
    }
    const scopes = this.scopes;
    const skey = groupKey(rule.family, 'street', tags.street);
    const sg = scopes.get<GroupState>(skey);
    const bg = scopes.get<GroupState>(bkey)!;
    const memberState = sg?.m[tags.building]?.[1];
    if (memberState === 2) {
      // Already part of the street's incident: the street's signal again, with the newcomer.
      const devices = Object.keys(sg!.m).flatMap((bld) => (sg!.m[bld]![1] === 2 ? members(scopes.get<GroupState>(groupKey(rule.family, 'building', bld))) : []));
      out.push(this.signals.group(this.groupRule(sg, rule), tags, 'street', tags.street, 'raised', at, devices.sort(), sig.evidence.slice(0, 2)));
      return;
    }
    if (memberState === 1) {
      out.push(sig); // this building already went out on its own
      return;
    }
    if (memberState === 0) {
      bg.s = sig; // still waiting for the street: keep the newest version
      scopes.touch(bkey);
      return;
    }
    const need = Math.max(street.minBuildings, Math.ceil(street.fraction * this.index.groupSize(rule.family, 'street', tags.street)));
    const res = onDeviceRaise(sg, tags.building, at, need, rule.building.windowS);
    scopes.put(skey, res.state);
    if (res.action.type === 'hold') {
      bg.s = sig;
      scopes.touch(bkey);
      scopes.pendingGroups.add(skey);
      return;
    }
    if (res.action.type !== 'group-raise' && res.action.type !== 'group-grow') return;
    if (res.action.type === 'group-raise') res.state.rule = rule.id;
    const buildings = res.action.devices;
    const devices: string[] = [];
    const evidence: Signal['evidence'] = [];
    for (const b of buildings) {
      const key = groupKey(rule.family, 'building', b);
      const g = scopes.get<GroupState>(key);
      devices.push(...members(g));
      if (g?.s !== undefined) {
        evidence.push(...g.s.evidence.slice(0, 1));
        delete g.s;
        scopes.touch(key);
      }
    }
    out.push(this.signals.group(this.groupRule(res.state, rule), tags, 'street', tags.street, 'raised', at, devices.sort(), evidence.length > 0 ? evidence : sig.evidence));
  }

  /** A building group cleared: tell its street, which may clear (last member) or say nothing. */
  private clearViaStreet(rule: Rule, tags: DeviceTags, sig: Signal, out: Signal[]): void {
    const skey = groupKey(rule.family, 'street', tags.street);
    const sg = this.scopes.get<GroupState>(skey);
    if (sg?.m[tags.building] === undefined) {
      out.push(sig);
      return;
    }
    const res = onDeviceClear(sg, tags.building);
    this.scopes.put(skey, res.state);
    if (res.action.type === 'device-clear') out.push(sig);
    else if (res.action.type === 'group-clear') out.push(this.signals.group(this.groupRule(sg, rule), tags, 'street', tags.street, 'cleared', sig.at, [], sig.evidence));
  }

  /** Buildings whose wait for their street is over go out as building signals. */
  private releaseStreet(skey: string, sg: GroupState, family: string, now: number, out: Signal[]): void {
    const rule = sg.rule !== undefined ? this.index.find(sg.rule) : this.index.book.all().find((r) => r.family === family && r.building?.street !== undefined);
    if (rule?.building === undefined) return;
    const res = releasePending(sg, now, rule.building.windowS);
    if (res.released.length === 0) {
      if (!Object.values(sg.m).some(([, st]) => st === 0)) this.scopes.pendingGroups.delete(skey);
      return;
    }
    this.scopes.put(skey, res.state);
    for (const b of res.released) {
      const bkey = groupKey(family, 'building', b);
      const bg = this.scopes.get<GroupState>(bkey);
      if (bg?.s === undefined) continue;
      out.push(bg.s);
      delete bg.s;
      this.scopes.touch(bkey);
    }
  }
}
