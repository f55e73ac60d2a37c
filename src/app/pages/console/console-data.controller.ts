import { Body, Controller, Get, HttpCode, Post, UsePipes } from '@nestjs/common';
import { BodyDepthPipe, OtpAuditService, OtpEventBus, OtpOperatorView } from 'nestjs-email-otp';
import { appValidationPipe } from '../../common/app-validation.pipe';
import { ConsoleAuditQueryDto } from './console.dto';
import { ConsoleRoute } from './console.guards';
import { ApiConsole } from './console.openapi';

const iso = (d: Date | null) => (d ? d.toISOString() : null);

/**
 * The console's read-only data, for a signed-in session (POSTs carry its CSRF token).
 * Deliveries never show an address, its index or a code; the audit search returns no index either.
 */
@Controller('admin/console')
@ConsoleRoute({ session: true })
@UsePipes(new BodyDepthPipe(), appValidationPipe)
export class ConsoleDataController {
  constructor(
    private readonly audit: OtpAuditService,
    private readonly view: OtpOperatorView,
    private readonly bus: OtpEventBus,
  ) {}

  @Post('audit')
  @HttpCode(200)
  @ApiConsole('Search the audit trail, newest first (the address is blind-indexed on the server, never echoed)', { session: true, body: true })
  async search(@Body() q: ConsoleAuditQueryDto): Promise<{ events: unknown[] }> {
    this.bus.emit({ name: 'audit.queried', outcome: 'success', detail: { action: 'console.query', filters: Object.keys(q).sort().join(',') } });
    const events = await this.audit.list({ ...q, limit: q.limit ?? 100, order: 'desc' });
    return {
      events: events.map((e) => ({ seq: e.seq, at: e.at.toISOString(), event: e.event, outcome: e.outcome, challengeId: e.challengeId, purpose: e.purpose, ip: e.ip })),
    };
  }

  @Get('chain')
  @ApiConsole('The audit chain status: ok, rows, head', { session: true })
  async chain(): Promise<{ ok: boolean; rows: number; headSeq: string; headHash: string; firstBroken?: { seq: string; reason: string } }> {
    const v = await this.audit.verifyChain();
    return { ok: v.ok, rows: v.rows, headSeq: v.headSeq, headHash: v.headHash, ...(v.firstBroken ? { firstBroken: v.firstBroken } : {}) };
  }

  @Get('deliveries')
  @ApiConsole('Recent mail deliveries (never an address, its index or a code)', { session: true })
  async deliveries(): Promise<{ deliveries: unknown[] }> {
    const rows = await this.view.recentDeliveries(50);
    return { deliveries: rows.map((r) => ({ ...r, createdAt: iso(r.createdAt), finishedAt: iso(r.finishedAt) })) };
  }

  @Get('alerts')
  @ApiConsole('The latest alerts', { session: true })
  async alerts(): Promise<{ alerts: unknown[] }> {
    return { alerts: (await this.view.recentAlerts(50)).map((a) => ({ ...a, at: iso(a.at) })) };
  }

  @Get('keys')
  @ApiConsole('Key rotation state (key ids only)', { session: true })
  async keys(): Promise<unknown> {
    const k = await this.view.keyState();
    return { ...k, lastRotation: k.lastRotation ? { ...k.lastRotation, at: iso(k.lastRotation.at) } : null };
  }
}
