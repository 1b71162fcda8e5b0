import type { ClientRequest } from 'node:http';

/** Waits until a request can take more data, or has closed (its error is reported elsewhere). */
export function drained(req: ClientRequest): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      req.off('drain', done);
      req.off('close', done);
      resolve();
    };
    req.on('drain', done);
    req.on('close', done);
  });
}
