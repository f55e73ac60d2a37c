/** Anything a test opens and must close: an app, a server, a client. */
export interface Closable {
  close(): Promise<void> | void;
}

/**
 * What a test or suite opened, closed in the one safe order: apps first (newest first), then the
 * servers they talk to (an app's dispatcher may still reach its relay while it shuts down), then
 * databases (dropped last, once nothing holds a connection). Every item is closed even if one fails.
 */
export class TestResources {
  private readonly apps: Closable[] = [];
  private readonly servers: Closable[] = [];
  private readonly databases: { drop(): Promise<void> }[] = [];

  app<T extends Closable>(app: T): T {
    this.apps.unshift(app);
    return app;
  }

  server<T extends Closable>(server: T): T {
    this.servers.unshift(server);
    return server;
  }

  database<T extends { drop(): Promise<void> }>(db: T): T {
    this.databases.unshift(db);
    return db;
  }

  async close(): Promise<void> {
    const errors: unknown[] = [];
    const run = async (step: () => Promise<void> | void) => {
      try {
        await step();
      } catch (err) {
        errors.push(err);
      }
    };
    for (const list of [this.apps, this.servers]) while (list.length) await run(() => list.shift()!.close());
    while (this.databases.length) await run(() => this.databases.shift()!.drop());
    if (errors.length) throw errors[0];
  }
}
