/**
 * A wait's timeout that lets I/O already received be read before it fires. On a busy 2-core machine a test
 * process can be descheduled for longer than a wait; when it runs again, Node runs the due timers before it
 * reads the sockets (timers come first in an event-loop iteration), so a reply that came in time would lose
 * to the timer. The callback runs from `setImmediate`, after the poll phase that delivers such a reply.
 */
export interface Deadline {
  clear(): void;
}

export function deadline(ms: number, onTimeout: () => void): Deadline {
  let immediate: NodeJS.Immediate | undefined;
  const timer = setTimeout(() => {
    immediate = setImmediate(onTimeout);
  }, ms);
  return {
    clear() {
      clearTimeout(timer);
      clearImmediate(immediate);
    },
  };
}
