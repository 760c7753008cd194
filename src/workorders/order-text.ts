/**
 * What an order says (title and description), in a given language, from what the order keeps:
 * its headline diagnosis (`message`, the rule's message id and params), rule, kind and place.
 *
 * Intake writes an order's `title` and `description` with these in PRECALL_LANG when the order
 * opens or its diagnosis changes (those are what chat messages and webhooks carry); the console
 * and API show them in the reader's language (`?lang=`) by making them again here. Orders whose
 * text is not the catalogue's keep the text they were written with: manual orders (a person's
 * words), complaints (the resident's), and rule orders whose message id the catalogue lacks.
 *
 * The other signals an order folded in (listed in the description as "also seen") are said again
 * from their own messages too; signals kept before they carried one keep their written title.
 */
import { hasMessage, placeLabels, renderRuleMessage, type Lang } from '../i18n/catalogue.js';
import type { Registry } from '../registry/registry.js';
import type { Signal } from '../rules/signal.js';
import { alsoSeen } from './incidents.js';
import type { OrderSignal, WorkOrder } from './model.js';

/** What a diagnosis is rendered from: a signal, or the order's headline. */
export interface Diagnosis {
  deviceId?: string | undefined;
  building: string;
  kind: string;
  ruleId: string;
  message: Signal['message'];
}

/** Title and description of a diagnosis, with the names crews know for the place. */
export function diagnosisText(lang: Lang, registry: Registry, d: Diagnosis): { title: string; description: string } {
  const place = d.deviceId !== undefined ? registry.device(d.deviceId) : registry.buildings.get(d.building)?.devices[0];
  return renderRuleMessage(lang, d.message, { kind: d.kind, building: d.building, ruleId: d.ruleId, ...(place !== undefined ? { labels: placeLabels(lang, place) } : {}) });
}

type Described = Pick<WorkOrder, 'building' | 'kind' | 'ruleId' | 'message' | 'signals' | 'description'>;

/** Whether the catalogue has the text of this message (else the text it was written with is shown). */
const known = (m: Diagnosis['message']): boolean => hasMessage(`${m.id}.title`) || hasMessage(m.id);

/**
 * The diagnosis a message of an order came from (its headline, or a signal folded in). The
 * headline moves with the strongest signal (title, rule and message together), while the order
 * keeps the device, building and kind of the signal that opened it: the device, building and
 * kind are taken from the message's own `device` / `building` params where it has them.
 */
function diagnosisOf(registry: Registry, o: Pick<WorkOrder, 'building' | 'kind'>, ruleId: string | null, message: Diagnosis['message']): Diagnosis | undefined {
  if (ruleId === null || o.kind === null) return undefined;
  const p = message.params;
  // Every device signal names its device; a group signal (building, substation, street) none.
  const deviceId = typeof p.device === 'string' ? p.device : undefined;
  const device = deviceId !== undefined ? registry.device(deviceId) : undefined;
  const building = typeof p.building === 'string' ? p.building : (device?.building ?? o.building);
  return { deviceId, building, kind: device?.kind ?? o.kind, ruleId, message };
}

const headline = (registry: Registry, o: Pick<WorkOrder, 'building' | 'kind' | 'ruleId' | 'message'>) => diagnosisOf(registry, o, o.ruleId, o.message);

/** A folded-in signal's title in `lang` (as written when it carries no message the catalogue knows). */
function signalTitle(lang: Lang, registry: Registry, o: Pick<WorkOrder, 'building' | 'kind'>, x: OrderSignal): string {
  const d = x.message !== undefined && known(x.message) ? diagnosisOf(registry, o, x.ruleId, x.message) : undefined;
  return d === undefined ? x.title : diagnosisText(lang, registry, d).title;
}

/** The order's description in `lang`: its headline diagnosis, then what else was seen. */
export function describeOrder(lang: Lang, registry: Registry, o: Described): string {
  const d = headline(registry, o);
  if (d === undefined) return o.description;
  const more = alsoSeen(lang, o.signals, o.ruleId, (x) => signalTitle(lang, registry, o, x));
  const head = diagnosisText(lang, registry, d).description;
  return more === undefined ? head : `${head}\n${more}`;
}

/** Whether the catalogue has the text of this order's headline (else its stored text is shown). */
const fromCatalogue = (o: Pick<WorkOrder, 'ruleId' | 'kind' | 'message'>): boolean => o.ruleId !== null && o.kind !== null && known(o.message);

/**
 * Shows orders in a reader's language. `title` needs the fields of a board row plus `ruleId` and
 * `message`; `order` a whole order.
 */
export function orderTexts(registry: Registry) {
  return {
    title(lang: Lang, o: Pick<WorkOrder, 'building' | 'kind' | 'ruleId' | 'message' | 'title'>): string {
      const d = fromCatalogue(o) ? headline(registry, o) : undefined;
      return d === undefined ? o.title : diagnosisText(lang, registry, d).title;
    },
    /** The order with its title, description and signals' titles in `lang` (the same order when they are not the catalogue's). */
    order<T extends WorkOrder>(lang: Lang, o: T): T {
      const d = fromCatalogue(o) ? headline(registry, o) : undefined;
      if (d === undefined) return o;
      return {
        ...o,
        title: diagnosisText(lang, registry, d).title,
        description: describeOrder(lang, registry, o),
        signals: o.signals.map((x) => ({ ...x, title: signalTitle(lang, registry, o, x) })),
      };
    },
  };
}
