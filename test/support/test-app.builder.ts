import { INestApplication, Type } from '@nestjs/common';
import { TestingModule } from '@nestjs/testing';
import type { DestinationStream } from 'pino';
import type { SMTPServerOptions } from 'smtp-server';
import { HttpAdapterName } from '../../src/app/http/http-settings';
import { OtpMailer } from '../../src/otp';
import { DevMailboxMailer } from '../../src/otp/mail/dev-mailbox.mailer';
import { OtpMailDispatcher } from '../../src/otp/mail/outbox/otp-mail.dispatcher';
import { SmtpTestHooks, startSmtpServer, TestSmtpServer } from './smtp-test-server';
import { bootTestApp, pollFor, startTestHttpApp, TestApp } from './test-app';
import { createTestDatabase, TestDatabase } from './test-database';
import { Closable, TestResources } from './test-resources';

/** A booted test app with what it was given; `close()` closes the app, then its servers, then drops its own database. */
export interface BootedTestApp extends TestApp {
  /** The app's database (`database(db)` or `withDatabase()`); throws when it has none. */
  readonly db: TestDatabase;
  /** The relay started by `withSmtp()`; throws when there is none. */
  readonly smtp: TestSmtpServer;
}

type ModuleFactory = (env: NodeJS.ProcessEnv) => Promise<TestingModule>;

/** A test app served from a suite's own testing module (no process keys or placeholder relay added). */
async function serveModule(factory: ModuleFactory, env: NodeJS.ProcessEnv, opts: { bare?: boolean; withoutMiddie?: boolean }): Promise<TestApp> {
  const app: INestApplication = await startTestHttpApp(await factory(env), env, { bare: opts.bare === true, withoutMiddie: opts.withoutMiddie === true });
  return {
    app,
    get mailbox() {
      return app.get(OtpMailer) as DevMailboxMailer;
    },
    async codeFor(challengeId: string) {
      const mailbox = app.get(OtpMailer) as DevMailboxMailer;
      const code = await pollFor(() => mailbox.list().find((m) => m.challengeId === challengeId)?.code);
      await app.get(OtpMailDispatcher).whenIdle();
      return code;
    },
    close: () => app.close(),
    routes: () => {
      throw new Error('routes() needs the example app (no module())');
    },
  };
}

function required<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`this test app has no ${what}`);
  return value;
}

/**
 * Builds a test app the way every e2e suite needs one (after terminus' bootstrap-testing-module):
 * `testApp().withDatabase().adapter(a).env({...}).withSmtp(tls).boot()`. Whatever the builder starts
 * for the app (its database, its relay, servers handed to `server()`) is closed by the app's one `close()`.
 */
export class TestAppBuilder {
  private readonly vars: NodeJS.ProcessEnv = {};
  private shared?: TestDatabase;
  private dropShared = false;
  private ownDatabase?: { migrate?: boolean; adminUrl?: string };
  private relay?: { options: SMTPServerOptions; port: number; hooks: SmtpTestHooks };
  private readonly servers: Closable[] = [];
  private readonly opts: { listen?: boolean; controllers?: Type<unknown>[]; logDestination?: DestinationStream; bare?: boolean; withoutMiddie?: boolean } = {};
  private factory?: ModuleFactory;
  private scope?: TestResources;

  /** Environment variables of the app (merged; later calls win). */
  env(vars: NodeJS.ProcessEnv): this {
    Object.assign(this.vars, vars);
    return this;
  }

  /** The HTTP adapter; by default the jest project's (`HTTP_ADAPTER`). */
  adapter(adapter: HttpAdapterName): this {
    return this.env({ HTTP_ADAPTER: adapter });
  }

  /** Runs on a database made earlier (`DATABASE_URL`): the suite's, which it drops, or with `drop: true` the app's, dropped by `close()`. */
  database(db: TestDatabase, opts: { drop?: boolean } = {}): this {
    this.shared = db;
    this.dropShared = opts.drop === true;
    return this;
  }

  /** Runs on a fresh database of its own (migrated unless `migrate: false`), dropped by `close()`. */
  withDatabase(opts: { migrate?: boolean; adminUrl?: string } = {}): this {
    this.ownDatabase = opts;
    return this;
  }

  /** Starts a relay of its own (`SMTP_URL` points at it, over STARTTLS), closed by `close()` after the app. */
  withSmtp(options: SMTPServerOptions = {}, port = 0, hooks: SmtpTestHooks = {}): this {
    this.relay = { options, port, hooks };
    return this;
  }

  /** A server the app talks to (a webhook, a proxy), closed by `close()` after the app. */
  server(server: Closable): this {
    this.servers.push(server);
    return this;
  }

  /** Listens on an ephemeral port of 127.0.0.1 instead of only initialising. */
  listen(): this {
    this.opts.listen = true;
    return this;
  }

  /** Extra controllers of the example app's testing module. */
  controllers(...controllers: Type<unknown>[]): this {
    this.opts.controllers = controllers;
    return this;
  }

  /** Captures the app's JSON log lines. */
  logTo(destination: DestinationStream): this {
    this.opts.logDestination = destination;
    return this;
  }

  /** Serves a suite's own testing module (compiled from the final environment) instead of the example app. */
  module(factory: ModuleFactory): this {
    this.factory = factory;
    return this;
  }

  /** With `module()`: serves it without the example app's HTTP settings (no global `OtpExceptionFilter`), as a host app of its own. */
  bare(): this {
    this.opts.bare = true;
    return this;
  }

  /** With `module()` and `bare()`, on Fastify: a host that turned Nest middleware off (`skipMiddie`). */
  withoutMiddie(): this {
    this.opts.withoutMiddie = true;
    return this;
  }

  /** Also registers the app with a suite's resources (closed with them, e.g. after each test). */
  closedBy(scope: TestResources): this {
    this.scope = scope;
    return this;
  }

  async boot(): Promise<BootedTestApp> {
    const own = new TestResources();
    for (const s of this.servers) own.server(s);
    if (this.shared && this.dropShared) own.database(this.shared);
    try {
      const db = this.shared ?? (this.ownDatabase ? own.database(await createTestDatabase(this.ownDatabase)) : undefined);
      const smtp = this.relay ? own.server(await startSmtpServer(this.relay.options, this.relay.port, this.relay.hooks)) : undefined;
      const env = { ...(db ? { DATABASE_URL: db.url } : {}), ...(smtp ? { SMTP_URL: smtp.url('smtp') } : {}), ...this.vars };
      const t = own.app(this.factory ? await serveModule(this.factory, env, this.opts) : await bootTestApp(env, this.opts));
      const booted: BootedTestApp = {
        app: t.app,
        get mailbox() {
          return t.mailbox;
        },
        codeFor: (challengeId) => t.codeFor(challengeId),
        routes: () => t.routes(),
        get db() {
          return required(db, 'database');
        },
        get smtp() {
          return required(smtp, 'relay (withSmtp)');
        },
        close: () => own.close(),
      };
      this.scope?.app(booted);
      return booted;
    } catch (err) {
      await own.close().catch(() => undefined); // a refused start leaves nothing open
      throw err;
    }
  }
}

/** Starts building a test app: see `TestAppBuilder`. */
export function testApp(): TestAppBuilder {
  return new TestAppBuilder();
}
