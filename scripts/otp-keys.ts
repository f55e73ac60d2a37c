/**
 * `npm run otp:keys -- new`: a first key line.
 * `npm run otp:keys -- rotate`: reads OTP_KEYS (and OTP_INDEX_KEY) from the environment,
 * prints the rotated values and the rollout steps. Prints key material: run it where
 * the output goes straight into your secret store, never into CI logs.
 */
import { generateKeyLine, planKeyRotation } from '../src/otp';

function main(): number {
  const command = process.argv[2];
  if (command === 'new') {
    console.log(`OTP_KEYS=${generateKeyLine('k1')}`);
    console.log(`OTP_ENCRYPTION_KEYS=${generateKeyLine('e1')}`);
    return 0;
  }
  if (command === 'rotate') {
    const plan = planKeyRotation(process.env.OTP_KEYS, Boolean(process.env.OTP_INDEX_KEY));
    console.log(`OTP_KEYS=${plan.keys}`);
    if (plan.indexKey) console.log(`OTP_INDEX_KEY=${plan.indexKey}`);
    console.log('');
    plan.steps.forEach((s, i) => console.log(`${i + 1}. ${s}`));
    return 0;
  }
  console.error('usage: npm run otp:keys -- new | rotate');
  return 2;
}

try {
  process.exit(main());
} catch (err) {
  console.error((err as Error).message);
  process.exit(2);
}
