export { encodeCommand, encodeReply, formatDouble } from './encode.ts';
export { splitInlineArgs } from './inline.ts';
export { DEFAULT_RESP_LIMITS, type RespLimits, resolveRespLimits } from './limits.ts';
export type { Protocol, Reply } from './reply.ts';
export * as reply from './reply.ts';
export { ReplyParser, type ReplyParserLimits } from './reply-parser.ts';
export { type Command, RequestParser } from './request-parser.ts';
