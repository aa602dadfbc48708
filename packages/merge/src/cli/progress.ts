/**
 * Progress for `mats merge`: a bar with ETA on a terminal (cli-progress), plain lines
 * otherwise (logs, CI), nothing with --quiet.
 */
import { SingleBar } from 'cli-progress';
import type { MergeEvent } from '../pipeline/run.js';
import { formatBytes } from '../util/format.js';
import { describeTensor } from './describe-report.js';

export { describeReport } from './describe-report.js';

export interface ProgressReporter {
  onEvent(event: MergeEvent): void;
  stop(): void;
}

export function createProgress(stream: NodeJS.WriteStream, mode: 'bar' | 'lines' | 'quiet'): ProgressReporter {
  if (mode === 'quiet') {
    return { onEvent: (e) => e.type === 'log' && stream.write(`${e.message}\n`), stop: () => undefined };
  }
  if (mode === 'lines') {
    return {
      onEvent(e) {
        if (e.type === 'phase') stream.write(`${e.label}: ${formatBytes(e.totalBytes)} to read\n`);
        else if (e.type === 'log') stream.write(`${e.message}\n`);
        else if (e.type === 'tensor') {
          stream.write(`${describeTensor(e)}\n`);
        }
      },
      stop: () => undefined,
    };
  }
  let bar: SingleBar | undefined;
  const stop = () => {
    bar?.stop();
    bar = undefined;
  };
  return {
    onEvent(e) {
      if (e.type === 'phase') {
        stop();
        bar = new SingleBar({
          stream,
          format: `${e.label.padEnd(12)} [{bar}] {percentage}% | ETA {eta_formatted} | {done} / {all}`,
          barsize: 30,
          hideCursor: true,
          etaBuffer: 50,
          fps: 10,
        });
        bar.start(Math.max(e.totalBytes, 1), 0, { done: formatBytes(0), all: formatBytes(e.totalBytes) });
      } else if (e.type === 'progress') {
        bar?.update(e.doneBytes, { done: formatBytes(e.doneBytes), all: formatBytes(e.totalBytes) });
      } else if (e.type === 'log') {
        bar?.stop();
        stream.write(`${e.message}\n`);
      }
    },
    stop,
  };
}
