/**
 * Issue 5 acceptance: a real `fieldgate run` process on this machine (no
 * Bluetooth, no Zigbee adapter) with sim + ble + zigbee: sim readings keep
 * flowing, both radios are reported unavailable in `status` and in the
 * heartbeat, and the daemon does not exit.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import type { StatusSnapshot } from '../../src/daemon/view';
import { controlRequest } from '../../src/control/client';
import { startMosquitto } from '../helpers/mosquitto';
import { record } from '../helpers/mqtt-recorder';
import { startDaemon } from '../helpers/daemon';
import { waitFor } from '../helpers/wait';
import { hasBluetooth } from '../helpers/hardware';
import { HEATER_PLUG, valuesOf, uplinkYaml } from './wireless-harness';

// ---------------------------------------------------------------------------
// 3. This machine: no Bluetooth, no Zigbee adapter


const ABSENT_ADAPTER = '/dev/serial/by-id/usb-Texas_Instruments_TI_CC2652R1_fieldgate-acceptance-absent-if00';

interface Heartbeat {
  healthy: boolean;
  problems: string[];
  drivers: { id: string; kind: string; state: string; errors: number; lastError?: string }[];
}

test(
  'a real daemon without Bluetooth or a Zigbee adapter runs its sim driver and reports ble and zigbee unavailable in status and the heartbeat',
  { timeout: 20_000, skip: (hasBluetooth() && 'this machine has a Bluetooth adapter') || (fs.existsSync(ABSENT_ADAPTER) && `${ABSENT_ADAPTER} exists`) },
  async (t) => {
    const broker = await startMosquitto();
    t.after(() => broker.kill());
    const rec = await record(broker.url, 'fieldgate/wl-none/#', 'fieldgate/wl-none/');
    t.after(() => rec.close());
    const config = `${uplinkYaml('wl-none', broker.url)}drivers:
  - kind: sim
    id: sim
    sensors:
      - { id: counter, waveform: counter, interval: 50ms }
  - kind: ble
    id: ble0
    devices:
      - address: "A4:C1:38:00:00:01"
        sensors: [{ id: cold.temp, field: temperature }]
  - kind: zigbee
    id: zb0
    adapter: { type: zstack, path: ${ABSENT_ADAPTER} }
    retry: { initial: 500ms, max: 1s }
    devices:
      - ieee: "${HEATER_PLUG}"
        name: heater-plug
        sensors: [{ id: heater.on, field: onOff }]
actuators:
  - { id: heater, driver: zb0, target: { device: heater-plug, command: onOff }, type: bool }
`;
    const d = startDaemon({ config });
    t.after(async () => {
      await d.kill();
      fs.rmSync(d.dir, { recursive: true, force: true });
    });

    await waitFor(() => valuesOf(rec, 'counter').length >= 5, { timeoutMs: 10_000, what: 'sim readings on .../data' });

    // Heartbeat on .../health: both radios unavailable with their reasons, the BLE fix among the problems.
    const hbMsg = await rec.waitFor(
      'health',
      (m) => {
        const hb = JSON.parse(m.payload.toString()) as Heartbeat;
        return ['ble0', 'zb0'].every((id) => hb.drivers.find((x) => x.id === id)?.state === 'unavailable');
      },
      10_000,
    );
    const hb = JSON.parse(hbMsg.payload.toString()) as Heartbeat;
    const hbDriver = (id: string) => hb.drivers.find((x) => x.id === id);
    assert.equal(hbDriver('sim')?.state, 'running');
    assert.match(hbDriver('ble0')?.lastError ?? '', /no Bluetooth adapter \(hci0\) found/);
    assert.match(hbDriver('zb0')?.lastError ?? '', new RegExp(`^no Zigbee adapter at ${ABSENT_ADAPTER.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}`));
    assert.equal(hb.healthy, false);
    const bleProblem = hb.problems.find((p) => p.startsWith('driver ble0 unavailable: '));
    assert.match(bleProblem ?? '', /\(fix: .*setcap cap_net_raw/);
    assert.match(hb.problems.find((p) => p.startsWith('driver zb0 unavailable: ')) ?? '', /no Zigbee adapter at/);

    // `fieldgate status` over the control socket says the same, with the fix and the retry detail.
    const status = (await controlRequest(d.socketPath, 'status')) as StatusSnapshot;
    const row = (id: string) => status.drivers.find((x) => x.id === id);
    assert.equal(row('sim')?.state, 'running');
    assert.equal(row('ble0')?.state, 'unavailable');
    assert.match(row('ble0')?.lastError ?? '', /no Bluetooth adapter \(hci0\) found/);
    assert.match(row('ble0')?.fix ?? '', /CAP_NET_RAW/);
    assert.match(row('ble0')?.fix ?? '', /rfkill unblock bluetooth/);
    assert.equal(row('zb0')?.state, 'unavailable');
    assert.match(row('zb0')?.lastError ?? '', /no Zigbee adapter at \/dev\/serial\/by-id\//);
    const zbDetail = row('zb0')?.detail as { state: string; available: boolean; adapter: string; failures: number };
    // Between retries it is in backoff; a status taken during a retry (every 0.25–1 s here) sees it starting.
    assert.ok(['backoff', 'starting'].includes(zbDetail.state), `zb0 is retrying (state ${zbDetail.state})`);
    assert.deepEqual([zbDetail.available, zbDetail.adapter], [false, ABSENT_ADAPTER]);

    // And it keeps going: the Zigbee driver retries by itself, sim readings keep arriving, the process stays up.
    const before = valuesOf(rec, 'counter').length;
    await waitFor(
      async () => {
        const s = (await controlRequest(d.socketPath, 'status')) as StatusSnapshot;
        return ((s.drivers.find((x) => x.id === 'zb0')?.detail as { failures?: number } | undefined)?.failures ?? 0) >= zbDetail.failures + 1;
      },
      { timeoutMs: 5_000, what: 'a Zigbee adapter retry' },
    );
    await waitFor(() => valuesOf(rec, 'counter').length >= before + 10, { timeoutMs: 5_000, what: 'more sim readings after the status check' });
    assert.equal(d.proc.exitCode, null, 'the daemon is still running');
    assert.equal(d.proc.signalCode, null);
    const counters = valuesOf(rec, 'counter') as number[];
    assert.deepEqual(counters, counters.map((_, i) => counters[0] + i), 'sim counter readings arrive complete and in order');
    assert.equal(await d.stop('SIGTERM'), 0, 'clean exit on SIGTERM');
  },
);
