import * as fs from 'node:fs';
import { SlaveModel, startTcpSlave } from '../test/helpers/modbus-slave';
async function main() {
  const lines = ['gateway: { id: w2, logLevel: warn }', 'uplink: { brokers: [mqtt://127.0.0.1:18830] }', 'drivers:'];
  const models: SlaveModel[] = [];
  for (let u = 0; u < 20; u++) {
    const model = new SlaveModel(); const bank = model.addUnit(1);
    for (let r = 0; r < 20; r++) bank.holding[r] = 1000 * u + r;
    const tcp = await startTcpSlave(model); models.push(model);
    lines.push(`  - kind: modbus`, `    id: m${u}`, `    bus: { type: tcp, host: 127.0.0.1, port: ${tcp.port} }`, '    devices:', `      - name: meter${u}`, '        unit: 1', '        interval: 1s', '        sensors:');
    for (let r = 0; r < 20; r++) lines.push(`          - id: m${u}.r${r}`, '            register: holding', `            address: ${r}`, '            pipeline:', '              - { kind: scale, rawMin: 0, rawMax: 65535, min: 0, max: 655.35 }', '              - { kind: deadband, threshold: 0.005, maxInterval: 5m }');
  }
  fs.writeFileSync('/tmp/w2/gateway.yaml', lines.join('\n') + '\n');
  setInterval(() => { for (const m of models) { const h = m.units.get(1)!.holding; for (let r = 0; r < 20; r++) h[r] = (h[r] + 1) & 0xffff; if (m.requests.length > 1000) m.requests.length = 0; } }, 1000);
  console.log('ready');
}
void main();
