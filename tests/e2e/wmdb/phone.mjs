// Real WatermelonDB phones (LokiJS, in memory, Node) syncing with a running Jangkau server.
//
// Usage:
//   node phone.mjs --base http://127.0.0.1:8000                    # commands as JSON lines on stdin
//   node phone.mjs --base http://127.0.0.1:8000 --scenario s.json  # a JSON array of commands
//   node phone.mjs --base http://127.0.0.1:8000 '[{"op": ...}]'    # the same array inline
//
// Each command is answered by exactly one JSON line on stdout (batch mode: one JSON array), always with
// the WatermelonDB console output (console.error/warn/log/...) captured while the command ran. Nothing else
// is ever written to stdout.
//
// Commands (every one but "quit" names a phone; several phones live in one process):
//   {"op": "open", "phone": "A", "token": "<bearer>", "options": {"sendCreatedAsUpdated": false}}
//   {"op": "create", "phone": "A", "table": "enrollments", "values": {<raw column>: value}}     -> {id, record}
//   {"op": "update", "phone": "A", "table": "enrollments", "id": "...", "values": {...}}       -> {record}
//   {"op": "delete", "phone": "A", "table": "visits", "id": "..."}      (markAsDeleted, as a syncing app does)
//   {"op": "sync", "phone": "A", "pauseBeforePush": false}
//        -> {ok, error?, exchanges: [{method, url, status, request?, response}]}
//        with pauseBeforePush, a sync that reaches pushChanges answers {paused: true, push: <changes>} and
//        waits (before sending the POST) for {"op": "resume", "phone": "A"}, which answers like "sync".
//        with dropPushResponse, the POST is sent and then fails as if the network dropped its response.
//   {"op": "dump", "phone": "A"}  -> {tables: {table: [raw records incl. _status/_changed]}, unsynced, lastPulledAt}
//   {"op": "quit"}

import { readFileSync } from 'node:fs'
import { createInterface } from 'node:readline'
import { format, inspect } from 'node:util'

// ---- console capture: WatermelonDB reports sync anomalies only through console.* -------------------
const captured = []
const stdoutWrite = process.stdout.write.bind(process.stdout)
for (const level of ['log', 'info', 'debug', 'warn', 'error']) {
  console[level] = (...args) => {
    const text = args
      .map((a) => (a instanceof Error ? `${a.name}: ${a.message}` : typeof a === 'string' ? a : inspect(a, { depth: 4 })))
      .join(' ')
    captured.push({ level, message: text })
  }
}
const drainLogs = () => captured.splice(0, captured.length)

// WatermelonDB is CommonJS; load it after the console is patched so that set-up warnings are captured too.
const { Database, Model, appSchema, tableSchema } = (await import('@nozbe/watermelondb')).default
const LokiJSAdapter = (await import('@nozbe/watermelondb/adapters/lokijs/index.js')).default.default
const { synchronize, hasUnsyncedChanges } = (await import('@nozbe/watermelondb/sync/index.js')).default
const { getLastPulledAt } = (await import('@nozbe/watermelondb/sync/impl/index.js')).default
const { schemaMigrations } = (await import('@nozbe/watermelondb/Schema/migrations/index.js')).default

// ---- the app schema: exactly API.md §4 (sync/tables.py on the server), schema version 1 -------------
const col = (name, type, extra = {}) => ({ name, type, isOptional: true, ...extra })
const idx = (name) => col(name, 'string', { isIndexed: true })

export const schema = appSchema({
  version: 1,
  tables: [
    tableSchema({
      name: 'enrollments',
      columns: [
        col('nik', 'string'),
        col('full_name', 'string'),
        col('birth_date', 'string'),
        col('sex', 'string'),
        col('phone', 'string'),
        col('occupation', 'string'),
        col('address', 'string'),
        col('village', 'string'),
        col('programs', 'string'),
        col('monthly_income', 'number'),
        idx('visit_id'),
        col('captured_at', 'number'),
        col('status', 'string'),
        col('status_reason', 'string'),
        col('validation_errors', 'string'),
        idx('worker_id'),
        col('duplicate_of', 'string'),
        col('credited_agent_id', 'string'),
        col('updated_at', 'number', { isOptional: false }), // WatermelonDB requires it non-optional
      ],
    }),
    tableSchema({
      name: 'visits',
      columns: [
        idx('enrollment_id'),
        idx('worker_id'),
        col('visited_at', 'number'),
        col('latitude', 'number'),
        col('longitude', 'number'),
        col('accuracy_m', 'number'),
        col('is_mock_location', 'boolean'),
        col('outcome', 'string'),
        col('occupation', 'string'),
        col('notes', 'string'),
        col('province_code', 'string'),
        col('regency_code', 'string'),
        col('province', 'string'),
        col('regency', 'string'),
        col('timezone', 'string'),
        col('distance_from_branch_km', 'number'),
        col('flags', 'string'),
      ],
    }),
    tableSchema({
      name: 'follow_ups',
      columns: [
        idx('enrollment_id'),
        idx('worker_id'),
        idx('visit_id'),
        col('kind', 'string'),
        col('due_at', 'number'),
        col('status', 'string'),
        col('outcome_notes', 'string'),
        col('completed_at', 'number'),
        idx('assigned_agent_id'),
      ],
    }),
    tableSchema({
      name: 'workers',
      columns: [
        col('full_name', 'string'),
        col('nik_masked', 'string'),
        col('birth_date', 'string'),
        col('sex', 'string'),
        col('phone_masked', 'string'),
        col('occupation', 'string'),
        col('village', 'string'),
        col('membership_status', 'string'),
        col('enrolled_by_agent_id', 'string'),
        col('enrolled_at', 'number'),
      ],
    }),
  ],
})

// No migrations yet (schema version 1), but declaring them is what lets an app use migration syncs
// (`migrationsEnabledAtVersion`): WatermelonDB refuses those on an adapter without migrations.
export const migrations = schemaMigrations({ migrations: [] })

// ---- models: plain JS, no decorators ------------------------------------------------------------------
class Enrollment extends Model {
  static table = 'enrollments'
  static associations = {
    follow_ups: { type: 'has_many', foreignKey: 'enrollment_id' },
    workers: { type: 'belongs_to', key: 'worker_id' },
    visits: { type: 'belongs_to', key: 'visit_id' },
  }

  // What `@readonly @date('updated_at') updatedAt` gives a decorated app: WatermelonDB then stamps
  // updated_at with the phone clock on every local create/update (and pushes it; the server ignores it).
  get updatedAt() {
    return this._getRaw('updated_at')
  }
}

class Visit extends Model {
  static table = 'visits'
  static associations = {
    follow_ups: { type: 'has_many', foreignKey: 'visit_id' },
    enrollments: { type: 'belongs_to', key: 'enrollment_id' },
    workers: { type: 'belongs_to', key: 'worker_id' },
  }
}

class FollowUp extends Model {
  static table = 'follow_ups'
  static associations = {
    enrollments: { type: 'belongs_to', key: 'enrollment_id' },
    visits: { type: 'belongs_to', key: 'visit_id' },
    workers: { type: 'belongs_to', key: 'worker_id' },
  }
}

class Worker extends Model {
  static table = 'workers'
  static associations = {
    enrollments: { type: 'has_many', foreignKey: 'worker_id' },
    visits: { type: 'has_many', foreignKey: 'worker_id' },
    follow_ups: { type: 'has_many', foreignKey: 'worker_id' },
  }
}

const TABLES = ['enrollments', 'visits', 'follow_ups', 'workers']

// ---- phones -------------------------------------------------------------------------------------------
class HttpError extends Error {
  constructor(status, body) {
    super(`HTTP ${status}: ${typeof body === 'string' ? body.slice(0, 300) : JSON.stringify(body).slice(0, 300)}`)
    this.name = 'HttpError'
    this.status = status
    this.body = body
  }
}

const phones = new Map()
let base = null

function makePhone(name, token, options = {}) {
  const adapter = new LokiJSAdapter({
    schema,
    migrations,
    dbName: `jangkau-${name}`,
    useWebWorker: false,
    useIncrementalIndexedDB: false,
  })
  const database = new Database({ adapter, modelClasses: [Enrollment, Visit, FollowUp, Worker] })
  return { name, token, options, database, exchanges: [], pending: null }
}

async function http(phone, method, url, body) {
  const response = await fetch(url, {
    method,
    headers: {
      Authorization: `Bearer ${phone.token}`,
      ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  const text = await response.text()
  let parsed = text
  try {
    parsed = JSON.parse(text)
  } catch {
    // keep the text
  }
  phone.exchanges.push({
    method,
    url: url.slice(base.length),
    status: response.status,
    contentType: response.headers.get('content-type'),
    ...(body === undefined ? {} : { request: body }),
    response: parsed,
  })
  if (!response.ok) throw new HttpError(response.status, parsed) // a real app: non-2xx rejects the sync
  return parsed
}

function errorJson(error) {
  return { name: error?.name, message: String(error?.message ?? error), status: error?.status ?? null }
}

// One synchronize() as the WatermelonDB docs' sample client does it (Frontend.md).
function startSync(phone, { pauseBeforePush = false, dropPushResponse = false } = {}) {
  phone.exchanges = []
  let announcePause
  const paused = new Promise((resolve) => {
    announcePause = resolve
  })
  let release = null
  const done = synchronize({
    database: phone.database,
    sendCreatedAsUpdated: Boolean(phone.options.sendCreatedAsUpdated),
    ...(phone.options.migrationsEnabledAtVersion !== undefined
      ? { migrationsEnabledAtVersion: phone.options.migrationsEnabledAtVersion }
      : {}),
    pullChanges: async ({ lastPulledAt, schemaVersion, migration }) => {
      const url =
        `${base}/api/v1/sync/pull?last_pulled_at=${lastPulledAt}&schema_version=${schemaVersion}` +
        `&migration=${encodeURIComponent(JSON.stringify(migration))}`
      return http(phone, 'GET', url)
    },
    pushChanges: async ({ changes, lastPulledAt }) => {
      if (pauseBeforePush) {
        await new Promise((resolve) => {
          release = resolve
          announcePause({ paused: true, lastPulledAt, push: changes })
        })
      }
      const body = await http(phone, 'POST', `${base}/api/v1/sync/push?last_pulled_at=${lastPulledAt}`, { changes })
      if (dropPushResponse) throw new Error('network lost: the push was sent but its response never arrived')
      return body && body.experimentalRejectedIds ? { experimentalRejectedIds: body.experimentalRejectedIds } : {}
    },
  }).then(
    () => ({ ok: true }),
    (error) => ({ ok: false, error: errorJson(error) }),
  )
  const finished = done.then((result) => ({ ...result, exchanges: phone.exchanges }))
  return { finished, paused, resume: () => release && release() }
}

async function dump(phone) {
  const tables = {}
  for (const table of TABLES) {
    const records = await phone.database.get(table).query().fetch()
    // query() leaves out records marked as deleted; the adapter lists them separately
    const deletedIds = await phone.database.adapter.getDeletedRecords(table)
    tables[table] = records.map((r) => ({ ...r._raw }))
    for (const id of deletedIds) tables[table].push({ id, _status: 'deleted' })
  }
  return {
    tables,
    unsynced: await hasUnsyncedChanges({ database: phone.database }),
    lastPulledAt: await getLastPulledAt(phone.database),
  }
}

function setValues(record, values) {
  for (const [name, value] of Object.entries(values)) {
    if (name === 'id') continue
    record._setRaw(name, value)
  }
}

async function handle(command) {
  const { op } = command
  if (op === 'quit') return { ok: true }
  const phone = phones.get(command.phone)
  if (op === 'open') {
    if (phone) throw new Error(`phone ${command.phone} is already open`)
    const created = makePhone(command.phone, command.token, command.options || {})
    phones.set(command.phone, created)
    await created.database.get('enrollments').query().fetchCount() // wait for the adapter's set-up
    return { ok: true }
  }
  if (!phone) throw new Error(`unknown phone ${command.phone}`)
  const { database } = phone
  switch (op) {
    case 'create': {
      const record = await database.write(() =>
        database.get(command.table).create((r) => {
          if (command.values.id) r._raw.id = command.values.id // a fixed id, as a migration script might
          setValues(r, command.values)
        }),
      )
      return { ok: true, id: record.id, record: { ...record._raw } }
    }
    case 'update': {
      const record = await database.get(command.table).find(command.id)
      await database.write(() => record.update((r) => setValues(r, command.values)))
      return { ok: true, record: { ...record._raw } }
    }
    case 'delete': {
      const record = await database.get(command.table).find(command.id)
      await database.write(() => record.markAsDeleted())
      return { ok: true }
    }
    case 'sync': {
      if (phone.pending) throw new Error(`phone ${phone.name} has a paused sync; resume it first`)
      const run = startSync(phone, {
        pauseBeforePush: Boolean(command.pauseBeforePush),
        dropPushResponse: Boolean(command.dropPushResponse),
      })
      const first = await Promise.race([run.finished, run.paused])
      if (first.paused) {
        phone.pending = run
        return { ok: true, paused: true, lastPulledAt: first.lastPulledAt, push: first.push, exchanges: phone.exchanges }
      }
      return first
    }
    case 'resume': {
      const run = phone.pending
      if (!run) throw new Error(`phone ${phone.name} has no paused sync`)
      phone.pending = null
      run.resume()
      return run.finished
    }
    case 'dump':
      return { ok: true, ...(await dump(phone)) }
    default:
      throw new Error(`unknown op ${op}`)
  }
}

async function answer(command) {
  let result
  try {
    result = await handle(command)
  } catch (error) {
    result = { ok: false, fatal: true, error: { ...errorJson(error), stack: String(error?.stack ?? '') } }
  }
  return { op: command.op, phone: command.phone ?? null, ...result, logs: drainLogs() }
}

// ---- main -------------------------------------------------------------------------------------------
function parseArgs(argv) {
  const args = { base: null, scenario: null, inline: null }
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--base') args.base = argv[++i]
    else if (argv[i] === '--scenario') args.scenario = argv[++i]
    else args.inline = argv[i]
  }
  return args
}

const args = parseArgs(process.argv.slice(2))
base = (args.base || process.env.JANGKAU_BASE_URL || '').replace(/\/$/, '')
if (!base) {
  process.stderr.write('usage: node phone.mjs --base http://host:port [--scenario file.json | JSON]\n')
  process.exit(2)
}

if (args.scenario || args.inline) {
  const commands = JSON.parse(args.scenario ? readFileSync(args.scenario, 'utf8') : args.inline)
  const results = []
  for (const command of commands) results.push(await answer(command))
  stdoutWrite(`${JSON.stringify(results)}\n`)
  process.exit(0)
} else {
  const lines = createInterface({ input: process.stdin, crlfDelay: Infinity })
  // Commands run one at a time, in order (a paused sync runs on in the background until "resume").
  let queue = Promise.resolve()
  lines.on('line', (line) => {
    if (!line.trim()) return
    queue = queue.then(async () => {
      let command
      try {
        command = JSON.parse(line)
      } catch (error) {
        stdoutWrite(`${JSON.stringify({ ok: false, fatal: true, error: errorJson(error), logs: drainLogs() })}\n`)
        return
      }
      stdoutWrite(`${JSON.stringify(await answer(command))}\n`)
      if (command.op === 'quit') process.exit(0)
    })
  })
  lines.on('close', () => queue.then(() => process.exit(0)))
}
