import { BadRequestException, PipeTransform } from '@nestjs/common';

/** Deepest nesting any OTP body needs: body -> context -> value. */
export const MAX_BODY_DEPTH = 4;

/**
 * Refuses bodies nested deeper than `MAX_BODY_DEPTH` before validation: a
 * 16 kB body of nested arrays would otherwise exhaust the stack of the
 * recursive transform and validation (a 500). Iterative, so it cannot overflow itself.
 */
export class BodyDepthPipe implements PipeTransform<unknown, unknown> {
  constructor(private readonly maxDepth = MAX_BODY_DEPTH) {}

  transform(value: unknown): unknown {
    const stack: [unknown, number][] = [[value, 0]];
    while (stack.length) {
      const [v, depth] = stack.pop()!;
      if (typeof v !== 'object' || v === null) continue;
      if (depth >= this.maxDepth) {
        throw new BadRequestException({ error: 'validation_failed', message: 'The request body is nested too deeply.' });
      }
      for (const child of Object.values(v)) stack.push([child, depth + 1]);
    }
    return value;
  }
}
