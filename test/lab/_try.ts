import { startLab } from './lab.ts';
import { writeFileSync, readFileSync } from 'node:fs';
const lab = await startLab({ chasquid: (process.argv[2] as any) ?? '1.15' });
writeFileSync('/tmp/lab-' + (process.argv[2] ?? '1.15') + '.env', readFileSync(lab.envFile, 'utf8'));
writeFileSync('/tmp/lab-' + (process.argv[2] ?? '1.15') + '.json', JSON.stringify({ dir: lab.dir, ports: lab.ports }));
process.on('SIGTERM', async () => { await lab.stop(); process.exit(0); });
setInterval(() => {}, 1000);
