import { ArgumentMetadata, BadRequestException, PipeTransform } from '@nestjs/common';
import { bodyProblem } from './body-shape';

/** Deepest nesting any OTP body needs: body -> context -> value. */
export const MAX_BODY_DEPTH = 4;

/**
 * Refuses, before validation, what would make the validators throw (a 500) or
 * misread a body: nesting deeper than `MAX_BODY_DEPTH` (a 16 kB body of nested
 * arrays would exhaust the stack of the recursive transform), own
 * `__proto__`/`constructor`/`prototype` keys at any depth, and lone UTF-16
 * surrogates in any string (see `bodyProblem`). A JSON `null` body is refused
 * too: Express's strict parser refuses it, Fastify's passes it on as "no filters".
 */
export class BodyDepthPipe implements PipeTransform<unknown, unknown> {
  constructor(private readonly maxDepth = MAX_BODY_DEPTH) {}

  transform(value: unknown, metadata?: ArgumentMetadata): unknown {
    if (value === null && metadata?.type === 'body') {
      throw new BadRequestException({ error: 'validation_failed', message: 'The request body must be a JSON object.' });
    }
    const problem = bodyProblem(value, this.maxDepth);
    if (problem) throw problem;
    return value;
  }
}
