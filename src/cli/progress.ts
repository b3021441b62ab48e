import cliProgress from 'cli-progress';
import type { Progress } from './pipeline.js';
import { beforeSignalEnd } from './signals.js';

/**
 * A progress bar on stderr while a mailbox is read: messages read, rate and time left (by bytes,
 * which the mailbox's size gives before its messages are counted). Drawn by cli-progress, only on
 * a terminal; CI logs and redirected output never see it.
 */
export function progressBar(stream: NodeJS.WriteStream): Progress {
  const bar = new cliProgress.SingleBar(
    {
      stream,
      format: 'reading {bar} {percentage}% | {messages} messages | {rate} messages/s | {eta_formatted} left',
      hideCursor: true,
      clearOnComplete: true,
      etaBuffer: 200,
      fps: 5,
    },
    cliProgress.Presets.shades_classic,
  );
  let bytes = 0;
  let messages = 0;
  let started = 0;
  let running = false;
  // The bar hides the cursor: a count interrupted or terminated while it is drawn gives it back.
  let stopListening = (): void => undefined;
  const stop = (): void => {
    if (running) bar.stop();
    running = false;
    stopListening();
  };
  return {
    start(total) {
      started = performance.now();
      running = true;
      bar.start(Math.max(1, total), 0, { messages: 0, rate: 0 });
      stopListening = beforeSignalEnd(stop);
    },
    read(raw) {
      bytes += raw.size;
      messages++;
      if (running) bar.update(bytes, { messages, rate: Math.round(messages / Math.max(0.001, (performance.now() - started) / 1000)) });
    },
    stop,
  };
}
