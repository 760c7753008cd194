import { describe, expect, it } from 'vitest';
import { deviceKinds } from '../../../devices/index.js';
import { planKind, readingToLines, readingToLinesViaPoints } from '../../../src/storage/points.js';
import { chargerEvent, chargerReading, elevatorEvent, elevatorReading, heatReading, tagsFor } from '../../support/readings.js';

const T = 1_764_000_000_123;

describe('readingToLines', () => {
  it('maps charger telemetry to one device point plus one point per port, ints as ints', () => {
    const lines = readingToLines(chargerReading('cp-1', T, 7, 2));
    expect(lines).toHaveLength(3);
    expect(lines[0]).toBe(
      'ebike_charger,building=3号楼,community=迎风一里,device=cp-1,kind=ebike-charger,street=迎风街道 ' +
        'ambientTempC=18,flooding=F,heatAlarm=F,inputVoltageV=221.5,powerCut=F,seq=7i,smoke=F,totalPowerW=350 ' +
        String(T),
    );
    expect(lines[1]).toMatch(/^ebike_charger_port,building=.*,port=1,street=迎风街道 /);
    expect(lines[1]).toContain('state="charging"');
    expect(lines[1]).toContain('sessionMinutes=35');
    expect(lines[1]).not.toMatch(/[ ,]port=1i/);
    expect(lines[2]).toContain(',port=2,');
  });

  it('flattens nested objects with _ and adds the substation tag', () => {
    const [line] = readingToLines(heatReading('hm-1', T));
    expect(line).toContain(',substation=换热站\\ 2 ');
    expect(line).toContain('status_valve="open"');
    expect(line).toContain('status_leak=T,');
    expect(line).not.toContain(' ts=');
  });

  it('stores elevator faults as a string plus faultCount', () => {
    const [line] = readingToLines(elevatorReading('el-1', T, 1, ['entrapment', 'door-close-fault']));
    expect(line).toContain('faults="entrapment,door-close-fault"');
    expect(line).toContain('faultCount=2i');
    expect(line).toContain('floor=3i');
    expect(line).toContain(`tripCount=45000 ${T}`);
    const [none] = readingToLines(elevatorReading('el-1', T));
    expect(none).toContain('faults="",');
    expect(none).toContain('faultCount=0i');
  });

  it('maps events to <measurement>_event with a code tag and escapes strings', () => {
    const [line] = readingToLines(elevatorEvent('el-1', T, 9));
    expect(line).toBe(
      'elevator_event,building=3号楼,code=entrapment,community=迎风一里,device=el-1,kind=elevator,street=迎风街道 ' +
        `detail="alarm \\"pressed\\", twice",floor=4i,seq=9i ${T}`,
    );
  });

  it('tags a pile event with its port, so two ports starting in the same millisecond are two points', () => {
    const [one] = readingToLines(chargerEvent('cp-1', T, 5, 3));
    const [two] = readingToLines(chargerEvent('cp-1', T, 6, 4));
    expect(one).toBe(`ebike_charger_event,building=3号楼,code=session-start,community=迎风一里,device=cp-1,kind=ebike-charger,port=3,street=迎风街道 seq=5i ${T}`);
    expect(two).toContain(',port=4,');
    // The series (everything before the fields) differs, so InfluxDB keeps both.
    expect(one!.split(' ')[0]).not.toBe(two!.split(' ')[0]);
    // An event about the whole pile has no port tag.
    expect(readingToLines(chargerEvent('cp-1', T, 7))[0]).not.toContain('port=');
  });

  it('tags readings on precall’s clock with clock=receive, on every point of the reading', () => {
    const lines = readingToLines({ ...chargerReading('cp-1', T, 7, 2), clockCorrected: true });
    expect(lines).toHaveLength(3);
    for (const line of lines) expect(line).toMatch(/^ebike_charger(_port)?,building=3号楼,clock=receive,community=/);
    expect(readingToLines(chargerReading('cp-1', T, 7, 2)).some((l) => l.includes('clock='))).toBe(false);
  });

  it('escapes tag values with comma, equals and space', () => {
    const r = chargerReading('cp,1 =x', T, 1, 1);
    r.tags = { ...tagsFor('cp,1 =x', 'ebike-charger'), building: 'a b,c=d' };
    const [line] = readingToLines(r);
    expect(line).toContain('building=a\\ b\\,c\\=d,');
    expect(line).toContain('device=cp\\,1\\ \\=x,');
  });
});

describe('planKind', () => {
  it('derives field types from every kind schema once', () => {
    const plan = planKind(deviceKinds['ebike-charger']);
    expect(plan.telemetry.fields.find((f) => f.key === 'seq')).toMatchObject({ type: 'int' });
    expect(plan.telemetry.fields.find((f) => f.key === 'totalPowerW')).toMatchObject({ type: 'float' });
    expect(plan.subUnits?.plan.fields.map((f) => f.key)).not.toContain('port');
    expect(planKind(deviceKinds.elevator).event.fields.map((f) => f.key).sort()).toEqual(['detail', 'fault', 'floor', 'seq']);
    expect(plan.eventUnitTag).toBe('port');
    expect(plan.event.fields.map((f) => f.key)).not.toContain('port');
    expect(planKind(deviceKinds.elevator).eventUnitTag).toBeUndefined();
  });
});

describe('readingToLines written straight from the plan', () => {
  it('gives the same text as the client Point for every kind, channel and tag set', () => {
    const readings = [
      chargerReading('cp-1', T, 7, 10),
      chargerReading('cp,2 =x', T + 1, 8, 2),
      heatReading('hm-1', T),
      elevatorReading('el-1', T),
      elevatorEvent('el-1', T),
      chargerEvent('cp-1', T, 3, 7),
      chargerEvent('cp-1', T, 4),
    ];
    for (const r of readings) {
      expect(readingToLines(r)).toEqual(readingToLinesViaPoints(r));
      expect(readingToLines(r)).toEqual(readingToLinesViaPoints(r)); // the cached tag part too
    }
  });
});
