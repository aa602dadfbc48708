/**
 * gemm throughput alone: `npm run bench:gemm [-- 256 512 1024]`. The full suite is
 * `npm run bench` (index.ts).
 */
import { formatSection, formatTargets } from './report.js';
import { gemmSection } from './sections/gemm-section.js';

const sizes = process.argv.slice(2).map(Number).filter((n) => n > 0);
const section = await gemmSection({
  sizes: sizes.length > 0 ? sizes : [256, 512, 1024],
  timing: { minSeconds: 1 },
  log: (line) => console.error(line),
});
console.log(formatSection(section));
console.log(formatTargets(section.targets));
