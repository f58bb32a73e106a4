import type { Context } from 'hono';

/** The text fields of a posted form (files and repeated fields dropped): what the page routes read. */
export async function formFields(c: Context): Promise<Record<string, string>> {
  const body = await c.req.parseBody();
  return Object.fromEntries(Object.entries(body).filter(([, v]) => typeof v === 'string')) as Record<
    string,
    string
  >;
}
