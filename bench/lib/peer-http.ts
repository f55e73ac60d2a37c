/** The peer's routes and how the load generator calls them (shared by peer-server.ts and peer.ts). */

/** What ours raise too (bench-env.ts RAISED_LIMITS): the per-IP limits, for one load generator. */
export const PEER_RAISED_LIMIT = { window: 60, max: 1_000_000 };
export const PEER_ISSUE_PATH = '/api/auth/email-otp/send-verification-otp';
export const PEER_SIGN_IN_PATH = '/api/auth/sign-in/email-otp';
/** The load generator says who it is the way a TLS proxy would (ours: TLS_TERMINATED_BY_PROXY), and comes from the app's origin as a browser does (its CSRF check). */
export const PEER_CLIENT_HEADERS = { 'x-forwarded-for': '127.0.0.1', origin: 'http://127.0.0.1' };
