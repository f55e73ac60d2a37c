import { Client } from 'pg';
import { pollFor } from './test-app';

/**
 * How the lock-order tests see a circle: holds row `first` in a transaction (`lock` takes one row, `$1` its
 * key), sends `batch` on another connection, waits until that one waits for a lock, then takes row `second`.
 * The holder gives up at once on a deadlock (its deadlock_timeout is the shorter). `took` is 'took it' or the
 * holder's error; `batch` the batch's row count or its error.
 */
export async function holdThenTake(
  connect: () => Promise<Client>,
  lock: string,
  first: string,
  second: string,
  batch: { text: string; values: unknown[] },
  runnerSettings = '',
): Promise<{ took: string; batch: number | string | null }> {
  const holder = await connect();
  const runner = await connect();
  if (runnerSettings) await runner.query(runnerSettings);
  const [{ pid }] = (await runner.query('SELECT pg_backend_pid() AS pid')).rows;
  await holder.query(`BEGIN; SET LOCAL deadlock_timeout = '100ms'`);
  await holder.query(lock, [first]);
  const ran = runner.query(batch.text, batch.values);
  ran.catch(() => undefined);
  await pollFor(async () => (await holder.query(`SELECT 1 FROM pg_stat_activity WHERE pid = $1 AND wait_event_type = 'Lock'`, [pid])).rowCount || undefined, 5000);
  const took = await holder.query(lock, [second]).then(() => 'took it', (err: Error) => err.message);
  await holder.query(took === 'took it' ? 'COMMIT' : 'ROLLBACK');
  return { took, batch: await ran.then((r) => r.rowCount, (err: Error) => err.message) };
}

/**
 * Connections of their own to the test database (`url()`, read when one is opened), for a describe block:
 * all ended after its tests (an `afterAll` of its own).
 */
export function ownConnections(url: () => string): { connect(): Promise<Client> } {
  const clients: Client[] = [];
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.end().catch(() => undefined)));
  });
  return {
    async connect() {
      const c = new Client({ connectionString: url() });
      await c.connect();
      clients.push(c);
      return c;
    },
  };
}
