/** Who is asking, as far as the transport can tell; recorded with audit events. */
export interface RequestContext {
  ip: string;
  userAgent: string | null;
  requestId: string;
}
