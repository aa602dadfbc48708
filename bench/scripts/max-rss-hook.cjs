// Preloaded (node --require) into a measured child process: reports its peak resident set
// size on exit, on stderr, for bench/src/sections/merge-section.ts.
process.on('exit', () => {
  require('node:fs').writeSync(2, `\nMATS_MAX_RSS_KB=${process.resourceUsage().maxRSS}\n`);
});
