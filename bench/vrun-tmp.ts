import { verifySuite } from './src/verify-suite.js';

const out = await verifySuite([64], Number(process.env.OPS ?? 3000), Number(process.env.ROUNDS ?? 5));
for (const r of out) {
  const jose = r.results.find((m) => m.name === 'jose jwtVerify')!.opsPerSec;
  const fast = r.results.find((m) => m.name.startsWith('fast-jwt'))!.opsPerSec;
  for (const m of r.results)
    console.log(
      m.name.padEnd(40),
      Math.round(m.opsPerSec),
      'x jose',
      (m.opsPerSec / jose).toFixed(3),
      'x fast-jwt',
      (m.opsPerSec / fast).toFixed(3),
      'p99',
      m.p99Ms.toFixed(2),
    );
}
