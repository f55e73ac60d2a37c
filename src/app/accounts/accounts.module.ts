import { Module } from '@nestjs/common';
import { AccountsController } from './accounts.controller';
import { AccountsService } from './accounts.service';
import { AccountsStore } from './accounts.store';
import { SessionGuard } from './session.guard';

/**
 * Example accounts: email-code and password-plus-code sign-in, sessions. Uses
 * the OTP module (registered globally by `AppModule`) through its barrel only.
 */
@Module({
  controllers: [AccountsController],
  providers: [AccountsStore, AccountsService, SessionGuard],
  exports: [AccountsService, SessionGuard],
})
export class AccountsModule {}
