/**
 * The audit query API (API.md "Administration"): filters, newest-first keyset pages, the NDJSON
 * export of a whole filtered result, and the chain check. Runs on PGlite and, when DATABASE_URL
 * is set, on PostgreSQL.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { createKyselyAuditQuery, createQueryAuditEvents, type AuditQueryStore } from '../../src/audit/index.js';
import { asCaller, createAccount, createAdmin, type Account } from '../fixtures/admin.js';
import { databaseTargets } from '../fixtures/database.js';
import { createTestApp, json, type TestApp } from '../fixtures/test-app.js';

interface AuditEvent { id: string; time: string; type: string; actor?: string; subject?: string; ip?: string; userAgent?: string; outcome: string; requestId?: string; data: Record<string, unknown> }
interface AuditPage { items: AuditEvent[]; nextCursor: string | null }

const PROBLEM = /^application\/problem\+json/;

for (const target of databaseTargets()) {
  describe(`admin API on the audit log (${target.name})`, () => {
    let t: TestApp;
    let admin: Account;

    before(async () => {
      t = await createTestApp({ database: await target.open() });
      admin = await createAdmin(t);
    });
    after(async () => {
      await t.close();
      await t.database.close();
    });

    const get = (url: string, headers: Record<string, string> = {}) => asCaller(t, admin.accessToken, 'GET', url, undefined, headers);

    /** Writes `count` events of a fresh type, one millisecond apart, in one transaction; returns the type. */
    async function seed(count: number, actor: string | null = null): Promise<string> {
      const type = `test.${randomBytes(4).toString('hex')}`;
      await t.registry.transact(async ({ audit }) => {
        for (let i = 0; i < count; i++) {
          t.clock.advanceMs(1);
          await audit.record({ type, outcome: 'success', actor, subject: `s-${i}`, data: { i } });
        }
      });
      return type;
    }

    /** The ids the database holds for a filter, newest first in chain order once sealed: the ground truth for the API. */
    async function idsInDatabase(filter: { type?: string; actor?: string }): Promise<string[]> {
      await t.registry.sealAuditChain();
      let query = t.database.db.selectFrom('audit_events').select('id').orderBy('chain_seq', 'desc');
      if (filter.type) query = query.where('type', '=', filter.type);
      if (filter.actor) query = query.where('actor', '=', filter.actor);
      return (await query.execute()).map((r) => r.id);
    }

    async function allPages(query: string, limit: number): Promise<{ ids: string[]; pages: number }> {
      const ids: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const res = await get(`/v1/admin/audit-events?${query}&limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
        assert.equal(res.statusCode, 200, res.body);
        const page = json<AuditPage>(res);
        assert.ok(page.items.length <= limit);
        ids.push(...page.items.map((e) => e.id));
        cursor = page.nextCursor;
        pages++;
      } while (cursor !== null && pages < 1_000);
      return { ids, pages };
    }

    it('serves events newest first in the shape of API.md, with no chain internals', async () => {
      const user = await createAccount(t);
      const res = await get(`/v1/admin/audit-events?actor=${user.userId}`);
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(res.headers['cache-control'], 'no-store');
      const { items, nextCursor } = json<AuditPage>(res);
      assert.equal(nextCursor, null);
      assert.deepEqual(items.map((e) => e.type), ['auth.login.succeeded', 'user.registered']);
      const [login] = items;
      assert.deepEqual(Object.keys(login!).sort(), ['actor', 'data', 'id', 'ip', 'outcome', 'requestId', 'subject', 'time', 'type', 'userAgent']);
      assert.equal(login!.actor, user.userId);
      assert.equal(login!.outcome, 'success');
      assert.match(login!.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      assert.ok(!/prev_?hash|"hash"|"seq"|chain/i.test(res.body));
    });

    it('filters by type, by actor and by a time window [from, to)', async () => {
      const actor = `actor-${randomBytes(4).toString('hex')}`;
      const mine = await seed(5, actor);
      const other = await seed(3, actor);
      const byType = json<AuditPage>(await get(`/v1/admin/audit-events?type=${mine}`)).items;
      assert.deepEqual(byType.map((e) => e.data.i), [4, 3, 2, 1, 0]);
      assert.ok(byType.every((e) => e.type === mine));
      const byActor = json<AuditPage>(await get(`/v1/admin/audit-events?actor=${actor}`)).items;
      assert.deepEqual(byActor.map((e) => `${e.type}:${String(e.data.i)}`), [
        ...[2, 1, 0].map((i) => `${other}:${i}`), ...[4, 3, 2, 1, 0].map((i) => `${mine}:${i}`),
      ]);
      const both = json<AuditPage>(await get(`/v1/admin/audit-events?type=${mine}&actor=${actor}`)).items;
      assert.equal(both.length, 5);
      assert.deepEqual(json<AuditPage>(await get(`/v1/admin/audit-events?type=${mine}&actor=someone-else`)).items, []);

      const times = byType.map((e) => e.time).reverse();
      const window = json<AuditPage>(await get(`/v1/admin/audit-events?type=${mine}&from=${times[1]}&to=${times[3]}`)).items;
      assert.deepEqual(window.map((e) => e.data.i), [2, 1], 'from is inclusive, to exclusive');
      const offset = json<AuditPage>(await get(`/v1/admin/audit-events?type=${mine}&from=${encodeURIComponent(new Date(Date.parse(times[4]!)).toISOString().replace('Z', '+00:00'))}`)).items;
      assert.deepEqual(offset.map((e) => e.data.i), [4], 'an explicit offset is accepted');
    });

    it('pages through a filtered result so that every event appears exactly once, in order', async () => {
      const type = await seed(23);
      const expected = await idsInDatabase({ type });
      assert.equal(expected.length, 23);
      for (const limit of [1, 5, 23, 200]) {
        const { ids, pages } = await allPages(`type=${type}`, limit);
        assert.deepEqual(ids, expected, `limit ${limit}`);
        assert.equal(pages, Math.ceil(23 / limit));
      }
    });

    it('keeps its pages stable while new events arrive: later events never shift a page', async () => {
      const type = await seed(6);
      const expected = await idsInDatabase({ type });
      const first = json<AuditPage>(await get(`/v1/admin/audit-events?type=${type}&limit=3`));
      // Three newer events of the same type land between the two page requests.
      await t.registry.transact(async ({ audit }) => {
        for (let i = 0; i < 3; i++) await audit.record({ type, outcome: 'success', data: { late: i } });
      });
      const second = json<AuditPage>(await get(`/v1/admin/audit-events?type=${type}&limit=3&cursor=${encodeURIComponent(first.nextCursor!)}`));
      assert.deepEqual([...first.items, ...second.items].map((e) => e.id), expected);
      assert.equal(second.nextCursor, null);
    });

    it('streams the whole filtered result as NDJSON, across several internal batches', async () => {
      // More than two of the export's 500-row batches.
      const type = await seed(1_234);
      const expected = await idsInDatabase({ type });
      const res = await get(`/v1/admin/audit-events?type=${type}&limit=2`, { accept: 'application/x-ndjson' });
      assert.equal(res.statusCode, 200, res.body.slice(0, 500));
      assert.match(String(res.headers['content-type']), /^application\/x-ndjson/);
      assert.equal(res.headers['cache-control'], 'no-store');
      assert.ok(res.body.endsWith('\n'));
      const lines = res.body.split('\n').filter((line) => line !== '');
      const events = lines.map((line) => JSON.parse(line) as AuditEvent);
      assert.equal(events.length, 1_234, 'limit does not apply to the export');
      assert.deepEqual(events.map((e) => e.id), expected);
      assert.deepEqual(events.slice(0, 2).map((e) => e.data.i), [1_233, 1_232]);
    });

    it('reads the export lazily: a consumer that stops early has cost only the batches it pulled', async () => {
      const type = await seed(450);
      await t.registry.sealAuditChain(); // the store lists sealed events only; the route seals first, this test reads the store directly
      const real = createKyselyAuditQuery(t.database.db);
      const reads: number[] = [];
      const counting: AuditQueryStore = {
        async listNewestFirst(filter, beforePosition, limit) {
          const rows = await real.listNewestFirst(filter, beforePosition, limit);
          reads.push(rows.length);
          return rows;
        },
      };
      let taken = 0;
      for await (const event of createQueryAuditEvents(counting).stream({ type }, null, 100)) {
        assert.equal(event.type, type);
        if (++taken === 150) break;
      }
      assert.deepEqual(reads, [100, 100], 'two batches for 150 events, not the whole result');
      reads.length = 0;
      let all = 0;
      for await (const _ of createQueryAuditEvents(counting).stream({ type }, null, 100)) all++;
      assert.equal(all, 450);
      assert.deepEqual(reads, [100, 100, 100, 100, 50]);
    });

    it('streams from a cursor on, and answers an empty export with an empty body', async () => {
      const type = await seed(7);
      const expected = await idsInDatabase({ type });
      const first = json<AuditPage>(await get(`/v1/admin/audit-events?type=${type}&limit=4`));
      const rest = await get(`/v1/admin/audit-events?type=${type}&cursor=${encodeURIComponent(first.nextCursor!)}`, { accept: 'application/x-ndjson' });
      assert.deepEqual(rest.body.split('\n').filter(Boolean).map((l) => (JSON.parse(l) as AuditEvent).id), expected.slice(4));
      const none = await get('/v1/admin/audit-events?type=no.such.type', { accept: 'application/json, application/x-ndjson' });
      assert.equal(none.statusCode, 200);
      assert.match(String(none.headers['content-type']), /^application\/x-ndjson/);
      assert.equal(none.body, '');
      const refused = await get('/v1/admin/audit-events?type=x', { accept: 'application/x-ndjson;q=0, application/json' });
      assert.match(String(refused.headers['content-type']), /^application\/json/, 'q=0 means not acceptable');
    });

    it('verifies the chain: ok, with every committed event checked', async () => {
      await seed(3);
      const res = await get('/v1/admin/audit-events/verify');
      assert.equal(res.statusCode, 200, res.body);
      const body = json<{ ok: boolean; checked: number; firstBadId?: string }>(res);
      const total = Number((await t.database.db.selectFrom('audit_events').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow()).n);
      assert.equal(body.ok, true);
      assert.equal(body.checked, total, 'events committed but not yet sealed are sealed first, then checked');
      assert.equal(body.firstBadId, undefined);
    });

    it('refuses malformed filters with 400 problem+json', async () => {
      const queries = [
        'from=yesterday', 'to=2026-13-01T00:00:00Z', 'from=2026-01-01T00:00:00', 'limit=0', 'limit=201', 'limit=ten',
        'type=has%20space', `type=${'t'.repeat(129)}`, `actor=${'a'.repeat(129)}`, 'actor=', 'verbose=1', 'type=a&type=b',
      ];
      for (const query of queries) {
        const res = await get(`/v1/admin/audit-events?${query}`);
        assert.equal(res.statusCode, 400, `${query}: ${res.body}`);
        assert.match(String(res.headers['content-type']), PROBLEM);
        const ndjson = await get(`/v1/admin/audit-events?${query}`, { accept: 'application/x-ndjson' });
        assert.equal(ndjson.statusCode, 400, `${query} (ndjson): ${ndjson.body}`);
        assert.match(String(ndjson.headers['content-type']), PROBLEM);
      }
    });
  });
}
