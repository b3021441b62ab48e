/**
 * A signal that would end the process (Ctrl-C, a kill, a closed terminal) skips the exit handlers.
 * What must not outlive the process (a spill file holding what the mail says, a hidden cursor) is
 * put right first; then the signal is raised again, so that the process ends as it would have
 * (130 for Ctrl-C). Each cleanup is listened for only while it is needed: the returned function
 * stops listening.
 */
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

export function beforeSignalEnd(cleanup: () => void): () => void {
  const onSignal = (signal: NodeJS.Signals): void => {
    stop();
    cleanup();
    process.kill(process.pid, signal);
  };
  const stop = (): void => {
    for (const signal of SIGNALS) process.off(signal, onSignal);
  };
  for (const signal of SIGNALS) process.on(signal, onSignal);
  return stop;
}
