import cliProgress from 'cli-progress';
import type { Progress } from './pipeline.js';
import { beforeSignalEnd } from './signals.js';

/**
 * A progress bar on stderr while a mailbox is read: messages read, rate and time left (by bytes,
 * against the mailbox's size, once known). Drawn by cli-progress, only on
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
  let started: number | null = null;
  let running = false;
  let stopped = false;
  // The bar hides the cursor: a count interrupted or terminated while it is drawn gives it back.
  let stopListening = (): void => undefined;
  const stop = (): void => {
    if (running) bar.stop();
    running = false;
    stopped = true;
    stopListening();
  };
  const rate = (): number => Math.round(messages / Math.max(0.001, (performance.now() - (started ?? performance.now())) / 1000));
  return {
    // The mailbox's size is asked of the disk beside the reading (a folder of many files), so it may
    // come after the first messages are read, or after the last: a bar is never started once the
    // reading is over (its timer would keep the command from ending).
    start(total) {
      if (stopped || running) return;
      started ??= performance.now();
      running = true;
      bar.start(Math.max(1, total), bytes, { messages, rate: rate() });
      stopListening = beforeSignalEnd(stop);
    },
    read(raw) {
      started ??= performance.now();
      bytes += raw.size;
      messages++;
      if (running) bar.update(bytes, { messages, rate: rate() });
    },
    stop,
  };
}
