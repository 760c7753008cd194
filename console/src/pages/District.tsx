/** Street → community → building → device: online state and active orders per building, live. */
import { useCallback, useEffect, useState } from 'preact/hooks';
import { api, errorOf, type District as DistrictData } from '../api/client';
import { errorText, t } from '../i18n';
import { useLive, type LiveMessage } from '../live';
import { Link } from '../router';

const fetchDistrict = async () => {
  const { data, error } = await api.GET('/api/district');
  if (data === undefined) throw new Error(errorText(errorOf(error)));
  return data;
};

export function District() {
  const [d, setD] = useState<DistrictData | undefined>(undefined);
  const [problem, setProblem] = useState<string | undefined>(undefined);
  const load = useCallback(() => void fetchDistrict().then(setD, (e: Error) => setProblem(e.message)), []);
  useEffect(load, [load]);
  useLive(
    useCallback(
      (e: LiveMessage) => {
        if (e.stream === 'device') {
          setD((prev) => prev && { streets: prev.streets.map((s) => ({ ...s, communities: s.communities.map((c) => ({ ...c, buildings: c.buildings.map((b) => ({ ...b, devices: b.devices.map((x) => (x.id === e.deviceId ? { ...x, online: e.state } : x)) })) })) })) });
        } else if (e.stream === 'order' || e.stream === 'reconnected') load();
      },
      [load],
    ),
  );
  if (problem !== undefined) return <p role="alert">{t('console.error', { message: problem })}</p>;
  if (d === undefined) return <p>{t('console.loading')}</p>;
  return (
    <section class="district">
      <h1>{t('console.district.title')}</h1>
      {d.streets.map((s) => (
        <section>
          <h2>{s.name}</h2>
          {s.communities
            .filter((c) => c.buildings.length > 0)
            .map((c) => (
              <div class="card">
                <h3>{c.name}</h3>
                <table>
                  <thead>
                    <tr>
                      <th scope="col">{t('console.intake.building')}</th>
                      <th scope="col">{t('console.district.col.devices')}</th>
                      <th scope="col">{t('console.district.col.orders')}</th>
                    </tr>
                  </thead>
                  <tbody>
                    {c.buildings.map((b) => {
                      const online = b.devices.filter((x) => x.online === 'online').length;
                      return (
                        <tr data-building={b.id}>
                          <th scope="row">{b.name}</th>
                          <td>
                            <span class="muted">{t('console.district.devices', { online, total: b.devices.length })}</span>
                            <ul class="devices">
                              {b.devices.map((x) => (
                                <li>
                                  <span class={`dot ${x.online}`} aria-hidden="true" />
                                  <Link href={`/devices/${x.id}`}>{x.id}</Link> {t(`kind.${x.kind}`)} · {t(`console.online.${x.online}`)}
                                </li>
                              ))}
                            </ul>
                          </td>
                          <td class={b.activeOrders > 0 ? 'has-orders' : ''}>{t('console.district.openOrders', { n: b.activeOrders })}</td>
                        </tr>
                      );
                    })}
                  </tbody>
                </table>
              </div>
            ))}
        </section>
      ))}
    </section>
  );
}
