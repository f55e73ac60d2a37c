#!/usr/bin/env node
/** `npx nestjs-email-otp <command>`: migrations and operations commands (see `runOtpCli`). */
import 'reflect-metadata';
import { runOtpCli } from './otp-cli';

void runOtpCli(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: Error) => {
    console.error(err.message);
    process.exit(2);
  },
);
