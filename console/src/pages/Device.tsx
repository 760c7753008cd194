/** One device: place, online state, its last reading with the fields and units of its kind (devices/<kind>). */
import { useEffect, useState } from 'preact/hooks';
import { api, errorOf, type DeviceDetail } from '../api/client';
import { errorText, t } from '../i18n';
import { when } from '../time';

type Prop = { unit?: string; description?: string; type?: string; properties?: Record<string, Prop>; items?: Prop };
type Schema = { properties?: Record<string, Prop> };

function rows(payload: Record<string, unknown>, schema: Schema, prefix = ''): { field: string; value: string; unit: string; about: string }[] {
  const out: { field: string; value: string; unit: string; about: string }[] = [];
  for (const [k, v] of Object.entries(payload)) {
    if (k === 'ts' || k === 'seq') continue;
    const meta = schema.properties?.[k];
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) out.push(...rows(v as Record<string, unknown>, { properties: meta?.properties ?? {} }, `${prefix}${k}.`));
    else if (Array.isArray(v)) {
      // Arrays of objects (a pile's ports) get their own table below.
      if (v.every((x) => typeof x !== 'object')) out.push({ field: `${prefix}${k}`, value: v.join(', '), unit: '', about: meta?.description ?? '' });
    }
    else out.push({ field: `${prefix}${k}`, value: String(v), unit: meta?.unit ?? '', about: meta?.description ?? '' });
  }
  return out;
}

/** A table for an array of objects (ports): one row per element, units in the header. */
function ElementTable(props: { name: string; items: Record<string, unknown>[]; schema: Prop | undefined }) {
  const cols = Object.keys(props.items[0] ?? {});
  const unit = (c: string) => props.schema?.items?.properties?.[c]?.unit;
  return (
    <>
      <h2>{props.name}</h2>
      {/* Focusable so a keyboard can scroll the wide table on a phone. */}
      <div class="scroll" tabIndex={0} role="region" aria-label={props.name}>
        <table class="fields" data-table={props.name}>
          <thead>
            <tr>
              {cols.map((c) => (
                <th scope="col">
                  {c}
                  {unit(c) !== undefined ? ` (${unit(c)})` : ''}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {props.items.map((it) => (
              <tr>
                {cols.map((c) => (
                  <td>{String(it[c])}</td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}

export function Device(props: { id: string }) {
  const [device, setDevice] = useState<DeviceDetail | undefined>(undefined);
  const [schema, setSchema] = useState<Schema>({});
  const [problem, setProblem] = useState<string | undefined>(undefined);
  useEffect(() => {
    void (async () => {
      const { data, error } = await api.GET('/api/devices/{id}', { params: { path: { id: props.id } } });
      if (data === undefined) return setProblem(errorText(errorOf(error)));
      setDevice(data);
      const s = await api.GET('/api/device-kinds/{kind}/schema', { params: { path: { kind: data.kind }, query: { channel: 'telemetry' } } });
      setSchema((s.data ?? {}) as Schema);
    })();
  }, [props.id]);
  if (problem !== undefined) return <p role="alert">{t('console.error', { message: problem })}</p>;
  if (device === undefined) return <p>{t('console.loading')}</p>;
  const last = device.lastTelemetry;
  return (
    <section class="device">
      <h1>{t('console.device.title', { id: device.id })}</h1>
      <dl class="facts card">
        <dt>{t('console.filter.kind')}</dt>
        <dd>{t(`kind.${device.kind}`)}</dd>
        <dt>{t('console.order.place')}</dt>
        <dd>
          {device.streetName} / {device.communityName} / {device.buildingName}
          {device.location !== undefined ? ` · ${device.location}` : ''}
        </dd>
        <dt>{t('console.filter.status')}</dt>
        <dd>
          {t(`console.online.${device.online}`)} {device.onlineChangedAt !== null ? `(${when(device.onlineChangedAt)})` : ''}
        </dd>
      </dl>
      <h2>
        {t('console.device.lastReading')} {last !== null ? when(last.time) : ''}
      </h2>
      {last === null ? (
        <p>{t('console.device.none')}</p>
      ) : (
        <table class="fields">
          <thead>
            <tr>
              <th scope="col">{t('console.device.field')}</th>
              <th scope="col">{t('console.device.value')}</th>
              <th scope="col">{t('console.device.unit')}</th>
            </tr>
          </thead>
          <tbody>
            {rows(last.payload, schema).map((r) => (
              <tr>
                <th scope="row" title={r.about}>
                  {r.field}
                </th>
                <td>{r.value}</td>
                <td>{r.unit}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {last !== null &&
        Object.entries(last.payload)
          .filter(([, v]) => Array.isArray(v) && v.length > 0 && v.every((x) => x !== null && typeof x === 'object'))
          .map(([k, v]) => <ElementTable name={k} items={v as Record<string, unknown>[]} schema={schema.properties?.[k]} />)}
    </section>
  );
}
