import { measureSearchQueries } from './search-query';
const r = await measureSearchQueries();
const p = (a: number[], q: number) => [...a].sort((x, y) => x - y)[Math.floor(((a.length - 1) * q) / 100)];
console.log('p50', p(r.allMs, 50), 'p95', p(r.allMs, 95), JSON.stringify(r.breakdown));
for (const [n, v] of Object.entries(r.byQuery)) console.log(n, p(v.ms, 50), v.found);
