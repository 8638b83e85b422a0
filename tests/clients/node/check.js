// check.js -- node-postgres (npm "pg") against the server, the way Node.js
// applications use it: a Pool, parameterised queries (extended protocol, text
// formats), named prepared statements, transactions on one client, type parsing,
// errors with their SQLSTATE fields, and a row-mode query.
//
//   node tests/clients/node/check.js HOST PORT
// Prints "ok NAME" or "FAIL NAME: why" per check and exits 1 if any failed.
// tests/integration/test_node_postgres.py installs pg (npm ci) and runs this.
'use strict';
const { Pool } = require('pg');

const [host, port] = process.argv.slice(2);
const pool = new Pool({ host, port: Number(port), user: 'postgres', database: 'postgres',
                        max: 4, connectionTimeoutMillis: 10000 });
let failed = 0;

function expect(cond, what) {
  if (!cond) throw new Error(what);
}

async function check(name, body) {
  try {
    await body();
    console.log('ok ' + name);
  } catch (e) {
    failed++;
    console.log('FAIL ' + name + ': ' + String(e && e.message || e).replace(/\n/g, ' '));
  }
}

async function main() {
  await pool.query('DROP TABLE IF EXISTS node_orders');
  await pool.query('CREATE TABLE node_orders (id bigint PRIMARY KEY, customer text NOT NULL, ' +
                   'total double precision, paid boolean DEFAULT false, placed timestamp)');

  await check('parameterised_inserts', async () => {
    for (let i = 1; i <= 200; i++) {
      const r = await pool.query('INSERT INTO node_orders (id, customer, total, paid, placed) ' +
                                 'VALUES ($1, $2, $3, $4, $5)',
                                 [i, 'c' + (i % 7), i * 2.5, i % 3 === 0, '2024-05-06 07:08:09']);
      expect(r.rowCount === 1 && r.command === 'INSERT', 'INSERT 1, got ' + r.command + ' ' + r.rowCount);
    }
    const r = await pool.query('SELECT count(*) AS n, sum(total) AS s FROM node_orders');
    // count(*) is bigint: pg returns int8 as a string, as with PostgreSQL.
    expect(r.rows[0].n === '200', 'count ' + JSON.stringify(r.rows[0].n));
    expect(Number(r.rows[0].s) === 2.5 * 200 * 201 / 2, 'sum ' + r.rows[0].s);
  });

  await check('types', async () => {
    const r = await pool.query('SELECT id, customer, total, paid, placed FROM node_orders WHERE id = $1', [3]);
    expect(r.rows.length === 1, 'one row');
    const row = r.rows[0];
    expect(row.id === '3', 'bigint as string: ' + JSON.stringify(row.id));
    expect(row.customer === 'c3', 'text');
    expect(row.total === 7.5, 'double: ' + row.total);
    expect(row.paid === true, 'boolean: ' + row.paid);
    expect(row.placed instanceof Date && row.placed.getFullYear() === 2024 &&
           row.placed.getMonth() === 4 && row.placed.getDate() === 6 && row.placed.getHours() === 7,
           'timestamp: ' + row.placed);
    expect(r.fields.map(f => f.dataTypeID).join(',') === '20,25,701,16,1114',
           'type oids ' + r.fields.map(f => f.dataTypeID));
  });

  await check('named_prepared_statement', async () => {
    const q = { name: 'order_by_id', text: 'SELECT customer FROM node_orders WHERE id = $1' };
    for (let i = 1; i <= 30; i++) {
      const r = await pool.query({ ...q, values: [i] });
      expect(r.rows.length === 1 && r.rows[0].customer === 'c' + (i % 7), 'row ' + i);
    }
  });

  await check('row_mode_and_null', async () => {
    const r = await pool.query({ text: 'SELECT $1::int + 1, NULL::text, $2::text', values: [41, null],
                                 rowMode: 'array' });
    expect(r.rows[0][0] === 42 && r.rows[0][1] === null && r.rows[0][2] === null,
           'row ' + JSON.stringify(r.rows[0]));
  });

  await check('transaction_on_one_client', async () => {
    const c = await pool.connect();
    try {
      await c.query('BEGIN');
      await c.query('UPDATE node_orders SET paid = true WHERE customer = $1', ['c1']);
      await c.query('ROLLBACK');
      await c.query('BEGIN');
      const u = await c.query('UPDATE node_orders SET total = total + 1 WHERE id <= $1', [10]);
      expect(u.rowCount === 10, 'updated ' + u.rowCount);
      await c.query('COMMIT');
    } finally {
      c.release();
    }
    const r = await pool.query("SELECT count(*) AS n FROM node_orders WHERE customer = 'c1' AND paid");
    const want = [...Array(200).keys()].map(i => i + 1).filter(i => i % 7 === 1 && i % 3 === 0).length;
    expect(Number(r.rows[0].n) === want, 'rolled back update kept: ' + r.rows[0].n + ' vs ' + want);
    const t = await pool.query('SELECT total FROM node_orders WHERE id = 4');
    expect(t.rows[0].total === 11, 'committed update: ' + t.rows[0].total);
  });

  await check('errors', async () => {
    try {
      await pool.query('INSERT INTO node_orders (id, customer) VALUES ($1, $2)', [1, 'dup']);
      throw new Error('duplicate accepted');
    } catch (e) {
      expect(e.code === '23505', 'code ' + e.code);
      expect(e.severity === 'ERROR', 'severity ' + e.severity);
    }
    try {
      await pool.query('SELECT nope FROM node_orders');
      throw new Error('bad column accepted');
    } catch (e) {
      expect(e.code === '42703', 'code ' + e.code);
    }
    try {
      await pool.query('SELECT 1/0');
      throw new Error('division by zero accepted');
    } catch (e) {
      expect(e.code === '22012', 'code ' + e.code);
    }
    const r = await pool.query('SELECT 1 AS one');
    expect(r.rows[0].one === 1, 'pool usable after errors');
  });

  await check('group_by_order_by', async () => {
    const r = await pool.query('SELECT customer, count(*) AS n FROM node_orders GROUP BY customer ' +
                               'ORDER BY customer LIMIT $1', [3]);
    expect(r.rows.map(x => x.customer + ':' + x.n).join(' ') === 'c0:28 c1:29 c2:29',
           'groups ' + JSON.stringify(r.rows));
  });

  await pool.query('DROP TABLE node_orders');
  await pool.end();
  console.log(failed === 0 ? 'all checks passed' : failed + ' checks failed');
  process.exit(failed === 0 ? 0 : 1);
}

main().catch(e => { console.log('FAIL setup: ' + e.message); process.exit(1); });
