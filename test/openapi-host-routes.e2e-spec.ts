import request from 'supertest';
import { getMetadataStorage } from 'class-validator';
import { CodeSignInDto, PasswordSignInDto, SetPasswordDto } from '../src/app/accounts/accounts.dto';
import { CreateTransferDto } from '../src/app/payments/payments.dto';
import { IssueChallengeDto, VerifyChallengeDto } from '../src/otp/http/otp.dto';
import { HTTP_ADAPTERS } from './support/test-app';
import type { TestDatabase } from './support/test-database';
import { BootedTestApp, testApp } from './support/test-app.builder';

type Schema = { $ref?: string; type?: string; items?: Schema; properties?: Record<string, Schema>; required?: string[]; allOf?: Schema[] };
type Operation = {
  requestBody?: { content: Record<string, { schema: Schema }> };
  responses: Record<string, { content?: Record<string, { schema: Schema }> }>;
  security?: Record<string, string[]>[];
};
type Doc = { paths: Record<string, Record<string, Operation>>; components: { schemas: Record<string, Schema>; securitySchemes: Record<string, Record<string, string>> } };

/** A schema's shape: its required fields and each property's type. */
type Shape = { required: string[]; types: Record<string, string> };

/** What a request DTO accepts, read from its class-validator rules (the truth the ValidationPipe applies). */
function validatedShape(dto: new () => object): Shape {
  const rules = getMetadataStorage().getTargetValidationMetadatas(dto, '', true, false);
  const types: Record<string, string> = {};
  const optional = new Set<string>();
  for (const r of rules) {
    const kind = r.name ?? r.type;
    if (kind === 'isString' || kind === 'isEmail' || kind === 'matches') types[r.propertyName] ??= 'string';
    if (kind === 'isNumber') types[r.propertyName] = 'number';
    if (kind === 'isObject' || kind === 'isOtpContext') types[r.propertyName] = 'object';
    if (r.type === 'conditionalValidation') optional.add(r.propertyName);
    types[r.propertyName] ??= 'string';
  }
  return { required: Object.keys(types).filter((p) => !optional.has(p)).sort(), types };
}

/** Host routes: security schemes, request DTO, and the answers each really gives (2xx shape or an error). */
const ERROR: Shape = { required: ['error', 'message'], types: { error: 'string', message: 'string' } };
const SESSION: Shape = { required: ['expiresAt', 'sessionToken'], types: { sessionToken: 'string', expiresAt: 'string' } };
const TRANSFER: Shape = { required: ['amount', 'createdAt', 'id', 'to'], types: { id: 'string', amount: 'number', to: 'string', createdAt: 'string' } };
const CHALLENGE: Shape = { required: ['challengeId', 'expiresAt', 'resendAvailableAt'], types: { challengeId: 'string', expiresAt: 'string', resendAvailableAt: 'string' } };
const ME: Shape = {
  required: ['createdAt', 'email', 'hasPassword', 'id', 'session'],
  types: { id: 'string', email: 'string', hasPassword: 'boolean', createdAt: 'string', session: 'object' },
};
type Expected = { security: string[]; body?: new () => object; ok: [status: string, shape: Shape | 'array-of-transfers' | null]; errors: string[] };
const HOST_ROUTES: Record<string, Expected> = {
  'POST /accounts/sessions': { security: ['otp-token'], body: CodeSignInDto, ok: ['201', SESSION], errors: ['400', '401', '403', '413', '415'] },
  'POST /accounts/sessions/password': { security: ['otp-token'], body: PasswordSignInDto, ok: ['201', SESSION], errors: ['400', '401', '413', '415'] },
  'DELETE /accounts/sessions/current': { security: ['session'], ok: ['204', null], errors: ['401'] },
  'POST /accounts/password': { security: ['session'], body: SetPasswordDto, ok: ['204', null], errors: ['400', '401', '403', '413', '415', '429', '503'] },
  'GET /accounts/me': { security: ['session'], ok: ['200', ME], errors: ['401'] },
  'POST /payments/transfers/challenges': { security: ['session'], body: CreateTransferDto, ok: ['202', CHALLENGE], errors: ['400', '401', '413', '415', '429', '503'] },
  'POST /payments/transfers': { security: ['session', 'otp-token'], body: CreateTransferDto, ok: ['201', TRANSFER], errors: ['400', '401', '413', '415'] },
  'GET /payments/transfers': { security: ['session'], ok: ['200', 'array-of-transfers'], errors: ['401'] },
};

/** The module's routes the example app mounts: request DTO and the 2xx answer a person drives from Swagger UI. */
const PROOF: Shape = {
  required: ['amr', 'challengeId', 'expiresAt', 'purpose', 'token', 'tokenType'],
  types: { token: 'string', tokenType: 'string', expiresAt: 'string', purpose: 'string', amr: 'array', challengeId: 'string' },
};
const OTP_ROUTES: Record<string, { body?: new () => object; ok: [string, Shape]; errors: string[] }> = {
  'POST /auth/otp/challenges': { body: IssueChallengeDto, ok: ['202', CHALLENGE], errors: ['400', '413', '415', '429', '503'] },
  'POST /auth/otp/challenges/{id}/verify': { body: VerifyChallengeDto, ok: ['200', PROOF], errors: ['400', '401', '413', '415', '429', '503'] },
  'POST /auth/otp/challenges/{id}/resend': { ok: ['202', CHALLENGE], errors: ['400', '401', '413', '415', '429', '503'] },
};

describe.each(HTTP_ADAPTERS)('OpenAPI drives the host routes from Swagger UI (%s)', (adapter) => {
  let db: TestDatabase;
  let t: BootedTestApp;
  let doc: Doc;

  beforeAll(async () => {
    t = await testApp().withDatabase().adapter(adapter).boot();
    db = t.db;
    doc = (await request(t.app.getHttpServer()).get('/docs-json').expect(200)).body as Doc;
  });
  afterAll(async () => t?.close());

  const deref = (s: Schema): Schema => {
    if (s.$ref) {
      const target = doc.components.schemas[s.$ref.replace('#/components/schemas/', '')];
      expect({ ref: s.$ref, exists: Boolean(target) }).toEqual({ ref: s.$ref, exists: true });
      return deref(target);
    }
    return s.allOf?.length === 1 ? deref(s.allOf[0]) : s;
  };
  const shapeOf = (s: Schema): Shape => {
    const d = deref(s);
    const types = Object.fromEntries(Object.entries(d.properties ?? {}).map(([k, v]) => [k, deref(v).type ?? 'object']));
    return { required: [...(d.required ?? [])].sort(), types };
  };
  const json = (r: { content?: Record<string, { schema: Schema }> } | undefined) => r?.content?.['application/json']?.schema;

  it('declares the session bearer and X-OTP-Token security schemes', () => {
    expect(doc.components.securitySchemes.session).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(doc.components.securitySchemes['otp-token']).toMatchObject({ type: 'apiKey', in: 'header', name: 'X-OTP-Token' });
  });

  it('every host route the app serves: request schema = its DTO, answer schemas, 401/403 and security declared', () => {
    const served = t.routes().filter((r) => /^\/(accounts|payments)\//.test(r.path)).map((r) => `${r.method} ${r.path}`).sort();
    expect(served).toEqual(Object.keys(HOST_ROUTES).sort());
    for (const [route, want] of Object.entries(HOST_ROUTES)) {
      const [method, path] = route.split(' ');
      const op = doc.paths[path]?.[method.toLowerCase()];
      expect({ route, documented: Boolean(op) }).toEqual({ route, documented: true });

      expect({ route, security: op.security }).toEqual({ route, security: [Object.fromEntries(want.security.map((s) => [s, []]))] });

      if (want.body) {
        const body = json(op.requestBody);
        expect({ route, body: Boolean(body) }).toEqual({ route, body: true });
        const validated = validatedShape(want.body);
        expect({ route, body: shapeOf(body!) }).toEqual({ route, body: validated });
      } else {
        expect({ route, body: op.requestBody }).toEqual({ route, body: undefined });
      }

      const [status, shape] = want.ok;
      expect({ route, statuses: Object.keys(op.responses).sort() }).toEqual({ route, statuses: [status, ...want.errors, '500'].sort() });
      if (shape === null) expect({ route, content: op.responses[status].content }).toEqual({ route, content: undefined });
      else if (shape === 'array-of-transfers') {
        const s = deref(json(op.responses[status])!);
        expect(s.type).toBe('array');
        expect({ route, item: shapeOf(s.items!) }).toEqual({ route, item: TRANSFER });
      } else expect({ route, answer: shapeOf(json(op.responses[status])!) }).toEqual({ route, answer: shape });
      for (const e of want.errors) {
        const answer = shapeOf(json(op.responses[e])!);
        expect({ route, status: e, required: answer.required, types: answer.types })
          .toEqual({ route, status: e, required: ERROR.required, types: expect.objectContaining(ERROR.types) });
      }
    }
  });

  it('the OTP routes: request schema = its DTO, the 2xx answer (the verify proof with its token) and every error answer documented', () => {
    for (const [route, want] of Object.entries(OTP_ROUTES)) {
      const [method, path] = route.split(' ');
      const op = doc.paths[path]?.[method.toLowerCase()];
      expect({ route, documented: Boolean(op) }).toEqual({ route, documented: true });
      if (want.body) expect({ route, body: shapeOf(json(op.requestBody)!) }).toEqual({ route, body: validatedShape(want.body) });
      const [status, shape] = want.ok;
      expect({ route, answer: shapeOf(json(op.responses[status])!) }).toEqual({ route, answer: shape });
      for (const e of want.errors) {
        const answer = shapeOf(json(op.responses[e])!);
        expect({ route, status: e, required: answer.required }).toEqual({ route, status: e, required: ERROR.required });
      }
    }
  });

  it('the /accounts/me session object and the 401 error code are documented', () => {
    const me = deref(json(doc.paths['/accounts/me'].get.responses['200'])!);
    expect(shapeOf(me.properties!.session)).toEqual({ required: ['amr', 'expiresAt'], types: { amr: 'array', expiresAt: 'string' } });
  });
});
