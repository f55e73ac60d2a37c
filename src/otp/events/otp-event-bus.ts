import { Injectable, Logger } from '@nestjs/common';
import { OtpEvent } from './otp-event';

export type OtpEventListener = (event: OtpEvent) => void | Promise<void>;

/**
 * In-process fan-out of security events to the audit trail, metrics and alert
 * rules. A failing listener is logged and never breaks the request that emitted.
 */
@Injectable()
export class OtpEventBus {
  private readonly logger = new Logger(OtpEventBus.name);
  private readonly listeners: OtpEventListener[] = [];

  subscribe(listener: OtpEventListener): () => void {
    this.listeners.push(listener);
    return () => {
      const i = this.listeners.indexOf(listener);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  emit(event: Omit<OtpEvent, 'at'> & { at?: Date }): void {
    const full: OtpEvent = { ...event, at: event.at ?? new Date() };
    for (const listener of this.listeners) {
      try {
        const done = listener(full);
        if (done instanceof Promise) done.catch((err: Error) => this.logger.error(`event listener failed: ${err.name}`));
      } catch (err) {
        this.logger.error(`event listener failed: ${(err as Error).name}`);
      }
    }
  }
}
