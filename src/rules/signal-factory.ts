/**
 * Builds the signals the engine emits from what a rule decided: about one device (or one of its
 * ports), about a group (building, substation, street), or about a scheduled rule's scope. Adds
 * the family, asset and incident, and the relations to other problems (`explainedBy`, `explains`).
 */
import type { DeviceKind } from '../../devices/index.js';
import type { DeviceTags } from '../ingest/reading.js';
import type { DeviceRecord } from '../registry/registry.js';
import type { FleetFacts } from './fleet-facts.js';
import type { KindSignal } from './kinds/types.js';
import type { ScopedSignal } from './kinds/scheduled.js';
import type { RuleIndex } from './rule-index.js';
import { parseExplainedBy, type Asset, type Rule } from './schema.js';
import type { GroupLevel } from './scope-state.js';
import { incidentKey, portAssetId, type Signal } from './signal.js';

export class SignalFactory {
  private readonly explanations = new WeakMap<Rule, Signal['explainedBy']>();

  constructor(
    private readonly index: RuleIndex,
    private readonly facts: FleetFacts,
  ) {}

  /** What a signal of this rule is about, and how it relates to other problems. */
  relations(rule: Rule): Pick<Signal, 'explainedBy' | 'explains' | 'fireRisk'> {
    let explainedBy = this.explanations.get(rule);
    if (explainedBy === undefined && rule.explainedBy !== undefined) {
      explainedBy = rule.explainedBy.map(parseExplainedBy);
      this.explanations.set(rule, explainedBy);
    }
    const explains = this.index.explainsOf(rule.family);
    return { ...(explainedBy !== undefined ? { explainedBy } : {}), ...(explains !== undefined ? { explains } : {}), ...(rule.fireRisk === true ? { fireRisk: true as const } : {}) };
  }

  /** Family, asset, incident and relations of a signal about one device (or one of its ports). */
  identity(
    rule: Rule,
    tags: Pick<DeviceTags, 'device' | 'building' | 'substation'>,
    port: number | string | undefined,
  ): Pick<Signal, 'family' | 'asset' | 'incident' | 'explainedBy' | 'explains' | 'fireRisk'> {
    const asset: Asset =
      rule.asset === 'port' && port !== undefined
        ? { type: 'port', id: portAssetId(tags.device, port) }
        : rule.asset === 'building'
          ? { type: 'building', id: tags.building }
          : rule.asset === 'substation' && tags.substation !== undefined
            ? { type: 'substation', id: tags.substation }
            : { type: 'device', id: tags.device };
    return { family: rule.family, asset, incident: incidentKey(rule.family, asset), ...this.relations(rule) };
  }

  /** A signal about one device, or one of its ports when `element` is a port number. */
  device(rule: Rule, tags: DeviceTags, ks: KindSignal, state: 'raised' | 'cleared', element: string | number | undefined): Signal {
    const port = typeof element === 'number' ? element : undefined;
    const id = this.identity(rule, tags, element);
    return {
      key: `${rule.id}:${id.asset.type === 'port' ? id.asset.id : tags.device}`,
      ...id,
      state,
      ruleId: rule.id,
      ruleKind: rule.kind,
      deviceId: tags.device,
      kind: tags.kind,
      building: tags.building,
      community: tags.community,
      street: tags.street,
      ...(tags.substation !== undefined ? { substation: tags.substation } : {}),
      ...(port !== undefined ? { port } : {}),
      severity: rule.severity,
      caseClass: rule.caseClass,
      at: ks.at,
      ...(ks.eta !== undefined ? { eta: ks.eta } : {}),
      message: { id: rule.message ?? `rule.${rule.id}`, params: { device: tags.device, ...(port !== undefined ? { port } : {}), ...ks.params } },
      evidence: ks.evidence,
    };
  }

  /** A group's signal: about its building, substation or street, with its member devices when raised. */
  group(rule: Rule, tags: DeviceTags, by: GroupLevel, gid: string, state: 'raised' | 'cleared', at: number, devices: string[], evidence: Signal['evidence']): Signal {
    const asset: Asset = { type: by, id: gid };
    // Several kinds in one group (a building's lift, pile and meters all silent; a street): the
    // family's own text with the number of devices and of kinds, else the rule's building text.
    const byKind: Record<string, number> = {};
    for (const id of devices) {
      const k = this.facts.tagsOf(id)?.kind;
      if (k !== undefined) byKind[k] = (byKind[k] ?? 0) + 1;
    }
    const mixed = by === 'street' || Object.keys(byKind).length > 1;
    const params: Record<string, string | number> = mixed
      ? { [by]: by === 'street' ? this.facts.streetName(gid) : gid, devices: devices.length, kinds: Object.keys(byKind).length }
      : { [by]: gid, devices: devices.length };
    return {
      key: `${rule.id}:${by}:${gid}`,
      family: rule.family,
      asset,
      incident: incidentKey(rule.family, asset),
      ...this.relations(rule),
      state,
      ruleId: rule.id,
      ruleKind: rule.kind,
      kind: tags.kind,
      building: tags.building,
      community: tags.community,
      street: tags.street,
      ...(tags.substation !== undefined ? { substation: tags.substation } : {}),
      severity: rule.severity,
      caseClass: rule.caseClass,
      at,
      message: { id: mixed ? `family.${rule.family}.${by}` : `${rule.message ?? `rule.${rule.id}`}.${by}`, params },
      evidence: evidence.slice(0, 20),
      ...(state === 'raised' ? { devices } : {}),
    };
  }

  /** A scheduled rule's signal about a device or a building; `place` is the device, or a device of the building. */
  scheduled(rule: Rule & { kind: 'scheduled' }, kind: DeviceKind, place: DeviceRecord, ks: ScopedSignal): Signal {
    const asset: Asset = { type: rule.scope, id: ks.scopeId };
    const base = {
      family: rule.family,
      asset,
      incident: incidentKey(rule.family, asset),
      ...this.relations(rule),
      ruleId: rule.id,
      ruleKind: rule.kind,
      kind,
      building: place.building,
      community: place.community,
      street: place.street,
      ...(place.substation !== undefined ? { substation: place.substation } : {}),
      severity: rule.severity,
      caseClass: rule.caseClass,
      at: ks.at,
      evidence: ks.evidence,
    };
    return rule.scope === 'device'
      ? { ...base, key: `${rule.id}:${ks.scopeId}`, state: ks.state, deviceId: ks.scopeId, message: { id: rule.message ?? `rule.${rule.id}`, params: ks.params } }
      : { ...base, key: `${rule.id}:building:${ks.scopeId}`, state: ks.state, message: { id: rule.message ?? `rule.${rule.id}`, params: ks.params } };
  }
}
